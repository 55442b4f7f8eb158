"""Metrics on vs off (issue 17): bench/engine.py's W1 and W3 run with LANNER_METRICS=1 and =0 in turns, each
measured by its own figures and by the CPU seconds the whole run took (the bench, its executor and its workers:
user + system, read from the kernel when the run's process tree has been waited for). CPU time barely moves when
other programs load the machine, where wall times do.

Run: .venv/bin/python bench/metrics.py [--pairs 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def one_run(metrics: bool) -> dict:
    env = {**os.environ, "LANNER_METRICS": "1" if metrics else "0"}
    before = os.times()
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "engine.py"), "--quick", "--only", "w1,w3"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    after = os.times()
    figures = json.loads(done.stdout)
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return {
        "w1_median_s": figures["w1"]["median_s"],
        "w3_runs_per_s": figures["w3"]["runs_per_s"],
        "cpu_s": round(cpu, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=2)
    args = parser.parse_args()
    runs: dict[str, list[dict]] = {"on": [], "off": []}
    for _ in range(args.pairs):
        for name, metrics in (("on", True), ("off", False)):
            runs[name].append(one_run(metrics))
            print(json.dumps({name: runs[name][-1]}), file=sys.stderr)
    summary = {
        name: {key: statistics.median(r[key] for r in results) for key in results[0]} for name, results in runs.items()
    }
    summary["overhead_cpu_pct"] = round(100 * (summary["on"]["cpu_s"] / summary["off"]["cpu_s"] - 1), 1)
    summary["overhead_w1_pct"] = round(100 * (summary["on"]["w1_median_s"] / summary["off"]["w1_median_s"] - 1), 1)
    summary["overhead_w3_pct"] = round(100 * (1 - summary["on"]["w3_runs_per_s"] / summary["off"]["w3_runs_per_s"]), 1)
    print(json.dumps({"runs": runs, "median": summary}, indent=2))


if __name__ == "__main__":
    main()
