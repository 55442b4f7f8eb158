"""Fair sharing between namespaces: how long another namespace's one-task run takes while one namespace floods the
queue, printing JSON figures (README "Worker groups and fair sharing").

Run: .venv/bin/python bench/fairness.py [--mode foreach|executions] [--tasks 1000] [--database-url URL]

- ``foreach``: ``team.a`` runs one execution of a ``foreach`` over ``--tasks`` ``log`` tasks; once it is under way,
  ``team.b`` runs a one-task flow.
- ``executions``: ``team.a`` has ``--tasks`` executions of a one-task flow created before the executor starts.

Needs a Redis at LANNER_TEST_REDIS_URL (default redis://127.0.0.1:6379/9: it is emptied). Figures, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.services import commands  # noqa: E402
from tests.support.cluster import Cluster  # noqa: E402

ONE_TASK = "id: one\nnamespace: team.b\ntasks:\n  - {id: t, type: log, message: hello}\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=("foreach", "executions"), default="foreach")
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="lanner-fairness-"))
    redis_url = os.environ.get("LANNER_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
    cluster = Cluster(home / "home", args.database_url or f"sqlite:///{home / 'lanner.db'}", redis_url)
    cluster.home.mkdir()
    flood: list[str] = []
    try:
        if args.mode == "executions":
            namespace, flow_id = cluster.deploy(
                "id: flood\nnamespace: team.a\ntasks:\n  - {id: t, type: log, message: x}\n"
            )
            flood = [commands.start_execution(cluster.conn, namespace, flow_id, inputs={}) for _ in range(args.tasks)]
        cluster.start_executor()
        cluster.start_workers(2)
        if args.mode == "foreach":
            flood = [
                cluster.run(
                    "id: flood\nnamespace: team.a\ntasks:\n  - id: each\n    type: foreach\n"
                    f"    values: '{{{{ range({args.tasks}) | list }}}}'\n    concurrencyLimit: 0\n"
                    "    tasks:\n      - {id: t, type: log, message: x}\n"
                )
            ]
        time.sleep(3)
        began = time.monotonic()
        other = cluster.run(ONE_TASK)
        cluster.wait(other, timeout=900)
        took = time.monotonic() - began
        for execution_id in flood:
            cluster.wait(execution_id, timeout=1800)
        print(json.dumps({"mode": args.mode, "tasks": args.tasks, "other_namespace_run_s": round(took, 2),
                          "flood_done_s": round(time.monotonic() - began, 2)}))  # fmt: skip
    finally:
        cluster.stop(grace=0)


if __name__ == "__main__":
    main()
