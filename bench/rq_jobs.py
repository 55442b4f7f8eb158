"""What RQ costs a worker per job, apart from the task: N jobs that do nothing, run by RQ's own SimpleWorker and
by the engine's LannerWorker (engine/runtime/worker.py, which ends each job in one pipeline), in burst mode,
alternately. Prints wall and CPU milliseconds per job as JSON.

Run: .venv/bin/python bench/rq_jobs.py [--jobs 1000] [--rounds 3] [--redis-url redis://127.0.0.1:6379/9]
(without --redis-url, an embedded Redis in a temporary folder)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rq import Queue, SimpleWorker  # noqa: E402

from engine.runtime.connection import connect, embedded_redis  # noqa: E402
from engine.runtime.worker import LannerWorker  # noqa: E402

QUEUE = "bench-rq-jobs"


def nothing(*_args: object) -> None:
    """The job: all of its cost is the worker's."""


def one_round(redis, worker_class: type, jobs: int) -> tuple[float, float]:
    queue = Queue(QUEUE, connection=redis)
    with redis.pipeline() as pipe:
        for number in range(jobs):  # as the executor enqueues task runs (engine/runtime/queue.py)
            queue.enqueue_call(
                f"{__name__}.nothing", args=(str(number), 1), job_id=f"bench-{number}", result_ttl=0, pipeline=pipe
            )
        pipe.execute()
    worker = worker_class([queue], connection=redis)
    started, cpu = time.perf_counter(), time.process_time()
    worker.work(burst=True, logging_level="WARNING")
    return (time.perf_counter() - started) / jobs * 1000, (time.process_time() - cpu) / jobs * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--redis-url", default=None)
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        url = args.redis_url or stack.enter_context(embedded_redis(Path(tempfile.mkdtemp(prefix="lanner-rq-"))))
        redis = connect(url)
        figures: dict[str, list[tuple[float, float]]] = {"rq_simple_worker": [], "lanner_worker": []}
        for _ in range(args.rounds):
            figures["rq_simple_worker"].append(one_round(redis, SimpleWorker, args.jobs))
            figures["lanner_worker"].append(one_round(redis, LannerWorker, args.jobs))
        result = {
            name: {
                "wall_ms_per_job": round(statistics.median(w for w, _ in rounds), 3),
                "cpu_ms_per_job": round(statistics.median(c for _, c in rounds), 3),
            }
            for name, rounds in figures.items()
        }
    print(json.dumps({"jobs": args.jobs, "rounds": args.rounds, **result}, indent=2))


if __name__ == "__main__":
    main()
