"""W1-W3 as Prefect flows, for ``bench/peers.py``: run with a Prefect interpreter, never Lanner's.

``serve``: registers the three flows as deployments of one ``serve`` process (the runner that picks scheduled runs
up) and prints their ids as JSON. ``inline W``: runs one workload's flow function in this process, once to warm
up and then ``--repeat`` times, and prints the wall-clock seconds of each as JSON.
"""

from __future__ import annotations

import json
import sys
import time

from prefect import flow, serve, task


@task
def add(value: int) -> int:
    return value + 1


@task
def number(value: int) -> int:
    return value


@task
def join(values: list[int]) -> int:
    return sum(values)


@flow
def w1() -> int:
    value = number(1)  # 40 tasks: the first returns 1, each of the 39 others adds 1 (Lanner's chain)
    for _ in range(39):
        value = add(value)
    return value


@flow
def w2() -> int:
    futures = [number.submit(i) for i in range(100)]
    return join(futures)


@flow
def w3() -> int:
    return number(1)


FLOWS = {"w1": w1, "w2": w2, "w3": w3}


def main() -> None:
    if sys.argv[1] == "serve":
        deployments = [f.to_deployment(name=name) for name, f in FLOWS.items()]
        serve(*deployments, print_starting_message=False)
    elif sys.argv[1] == "inline":
        workload, repeat = FLOWS[sys.argv[2]], int(sys.argv[3])
        workload()  # warm-up
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            workload()
            times.append(time.perf_counter() - started)
        print(json.dumps(times))


if __name__ == "__main__":
    main()
