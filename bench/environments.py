"""Cached script environments: time to create one (pandas + pyarrow with uv) and to reuse it, printing JSON figures.

Run: .venv/bin/python bench/environments.py [--requirements pandas pyarrow] [--cold-uv-cache] [--repeat N]

- ``create_s``: ``python_environment`` on an empty cache folder (resolve, download or copy from uv's cache, install).
  ``--cold-uv-cache`` also starts uv from an empty package cache of its own (downloads everything again).
- ``reuse_s``: the same call again (what every later task pays: a lookup of the finished folder), median of --repeat.
- ``first_task_s`` / ``next_task_s``: a python task importing the packages, end to end through ``Python.run``
  (environment, process start, import), on the fresh cache and then on the warm one.

Figures, not a test: nothing here asserts a threshold. On the development machine (2 busy cores, load 6, pip's local
mirror /opt/pypi plus PyPI): create 5.17 s with --cold-uv-cache, 2.65 s with uv's cache warm; reuse 0.1-0.2 ms;
first_task_s 7.7-8.2 s and next_task_s 6.4-7.5 s (both dominated by importing pandas).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.config import reset_settings  # noqa: E402
from engine.tasks import registry  # noqa: E402
from engine.tasks.context import RunContext  # noqa: E402
from engine.tasks.environments import python_environment  # noqa: E402


def run_task(requirements: list[str], workdir: Path) -> float:
    imports = "\n".join(f"import {name.split('=')[0].split('<')[0].split('>')[0].strip()}" for name in requirements)
    task = registry.get("python").model_validate(
        {"id": "bench", "type": "python", "dependencies": requirements, "script": imports}
    )
    context = RunContext(
        task_id="bench", execution_id="bench", folder=workdir, storage=workdir / "storage", is_killed=lambda: False
    )
    started = time.perf_counter()
    outputs = task.run(context)
    assert outputs["exitCode"] == 0, [r.message for r in context.records]
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requirements", nargs="+", default=["pandas", "pyarrow"])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cold-uv-cache", action="store_true", help="an empty uv package cache too")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lanner-bench-env-") as scratch:
        scratch = Path(scratch)
        if args.cold_uv_cache:
            os.environ["UV_CACHE_DIR"] = str(scratch / "uv-cache")
        root = scratch / "environments"
        started = time.perf_counter()
        environment = python_environment(args.requirements, root=root)
        create = time.perf_counter() - started
        reuses = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            again = python_environment(args.requirements, root=root)
            reuses.append(time.perf_counter() - started)
            assert not again.created and again.path == environment.path

        os.environ["LANNER_ENVIRONMENTS_DIR"] = str(scratch / "task-environments")
        reset_settings()
        (scratch / "work").mkdir()
        first_task = run_task(args.requirements, scratch / "work")
        next_tasks = [run_task(args.requirements, scratch / "work") for _ in range(args.repeat)]
    print(
        json.dumps(
            {
                "requirements": args.requirements,
                "cold_uv_cache": args.cold_uv_cache,
                "create_s": round(create, 2),
                "reuse_s": round(statistics.median(reuses), 5),
                "first_task_s": round(first_task, 2),
                "next_task_s": round(statistics.median(next_tasks), 2),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
