"""Scripts with their own dependencies and SDK metrics through a real cluster (executor, workers, Redis, database)
and the real API: a python task with pandas and pyarrow from a fresh environment cache, then from the cache."""

from __future__ import annotations

import textwrap
import time

import pytest

from engine.tasks.environments import python_environment
from tests.support.ids import unique

pytestmark = pytest.mark.slow

PANDAS_SCRIPT = textwrap.indent(
    textwrap.dedent(
        """
        import pandas as pd
        import pyarrow
        from engine.sdk import counter, outputs, timed
        with timed("build"):
            frame = pd.DataFrame({"amount": [3, 4, 5]})
            frame.to_parquet("sales.parquet")
        counter("rows", len(frame), table="sales")
        counter("rows", 1, table="sales")
        outputs({"total": int(frame["amount"].sum()), "pyarrow": pyarrow.__version__})
        """
    ),
    "      ",
)


@pytest.fixture
def cluster(cluster_factory, environments_dir):
    """An executor and two workers sharing the session's environment cache."""
    cluster = cluster_factory()
    cluster.env["LANNER_ENVIRONMENTS_DIR"] = str(environments_dir)
    cluster.start_executor()
    cluster.start_workers(2)
    return cluster


def pandas_flow() -> str:
    return (
        f"id: {unique('deps')}\nnamespace: test\ntasks:\n"
        "  - id: frame\n    type: python\n    dependencies: [pandas, pyarrow]\n"
        "    beforeCommands: ['python -c \"import pandas\" && echo pandas-ready']\n"
        f"    script: |\n{PANDAS_SCRIPT}"
    )


def test_python_dependencies_are_installed_once_then_reused_and_metrics_reach_the_api(api, environments_dir):
    cluster = api.cluster
    python_envs = environments_dir / "python"
    before = set(python_envs.iterdir()) if python_envs.exists() else set()

    started = time.monotonic()
    first = cluster.run(pandas_flow())
    assert cluster.wait(first, timeout=600).state == "SUCCESS", cluster.runs(first)["frame"].error
    first_seconds = time.monotonic() - started
    created = {p for p in python_envs.iterdir() if p.is_dir()} - before
    messages = [line.message for line in cluster.logs(first)]
    assert "pandas-ready" in messages
    fresh = any(m.startswith("creating Python environment (pandas, pyarrow)") for m in messages)
    assert fresh == bool(created)  # built here unless an earlier test of the session built the same set

    started = time.monotonic()
    second = cluster.run(pandas_flow())
    assert cluster.wait(second, timeout=120).state == "SUCCESS"
    second_seconds = time.monotonic() - started
    assert not any(line.message.startswith("creating") for line in cluster.logs(second))
    assert {p for p in python_envs.iterdir() if p.is_dir()} - before == created  # no second environment
    # Importing pandas alone takes seconds on a busy machine: compare the environment step, not whole runs.
    started = time.monotonic()
    reused = python_environment(["pandas", "pyarrow"], root=environments_dir)
    reuse_seconds = time.monotonic() - started
    assert not reused.created and reused.path.parent == python_envs and reuse_seconds < 1
    if fresh:
        (made,) = [m for m in messages if m.startswith("created Python environment (pandas, pyarrow) in ")]
        create_seconds = float(made.rsplit(" in ", 1)[1].split()[0])
        assert create_seconds > 20 * reuse_seconds, (create_seconds, reuse_seconds)
        print(f"environment created in {create_seconds:.1f} s")
    print(
        f"environment created: {fresh}; runs {first_seconds:.1f} s then {second_seconds:.1f} s; "
        f"reuse of the environment {reuse_seconds * 1000:.1f} ms"
    )

    body = api.get(f"/executions/{second}").json()
    (run,) = [r for r in body["taskRuns"] if r["taskId"] == "frame"]
    assert run["outputs"]["vars"]["total"] == 12
    counters = [m for m in run["metrics"] if m["type"] == "counter"]
    assert counters == [{"type": "counter", "name": "rows", "tags": {"table": "sales"}, "value": 4}]
    (build,) = [m for m in run["metrics"] if m["type"] == "timer"]
    assert build["name"] == "build" and build["count"] == 1 and build["min"] == build["max"] == build["total"] > 0


def test_a_script_without_metrics_shows_an_empty_list(api):
    cluster = api.cluster
    execution = cluster.run(
        f"id: {unique('plain')}\nnamespace: test\ntasks:\n  - {{id: s, type: script, "
        "interpreter: [bash], script: 'echo hi'}\n"
    )
    assert cluster.wait(execution).state == "SUCCESS"
    (run,) = api.get(f"/executions/{execution}").json()["taskRuns"]
    assert run["metrics"] == [] and run["outputs"]["exitCode"] == 0
