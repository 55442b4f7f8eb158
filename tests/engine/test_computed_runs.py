"""Computed control properties in real runs (executor and worker processes): each one taken from an input does
what its literal would, and a wrong value fails the task with a message naming the property."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.core.states import State
from tests.support.computed import BAD
from tests.support.ids import unique

pytestmark = pytest.mark.slow
WAIT = 60  # seconds: generous, as workers start slowly on a loaded machine; what is checked does not depend on it


def flow(tasks: str, inputs: dict[str, str]) -> str:
    declared = "".join(f"  - {{id: {name}, type: {kind}}}\n" for name, kind in inputs.items())
    return f"id: {unique('f')}\nnamespace: test\ninputs:\n{declared}tasks:\n{tasks}"


def test_a_timeout_from_an_input_stops_the_task(cluster, tmp_path):
    marker = tmp_path / "late"
    execution_id = cluster.run(
        flow(
            f"  - {{id: slow, type: shell, timeout: '{{{{ inputs.limit }}}}', commands: ['sleep 5', 'touch {marker}']}}\n",
            {"limit": "STRING"},
        ),
        {"limit": "500ms"},
    )
    assert cluster.wait(execution_id, timeout=WAIT).state == "FAILED"
    assert cluster.runs(execution_id)["slow"].error == "task 'slow' timed out after 0:00:00.500000"
    assert not marker.exists()


def test_retry_attempts_and_interval_from_inputs_retry_that_many_times(cluster):
    execution_id = cluster.run(
        flow(
            "  - id: flaky\n    type: shell\n    commands: ['exit 1']\n"
            "    retry: {type: constant, interval: '{{ inputs.wait }}', maxAttempts: '{{ inputs.attempts }}'}\n",
            {"wait": "STRING", "attempts": "INT"},
        ),
        {"wait": "300ms", "attempts": 3},
    )
    assert cluster.wait(execution_id, timeout=WAIT).state == "FAILED"
    run = cluster.runs(execution_id)["flaky"]
    assert run.attempt_count == 3
    assert run.ended_at - run.created_at >= dt.timedelta(milliseconds=600)  # two waits of 300ms


def test_disabled_allow_failure_and_log_level_from_inputs(cluster):
    execution_id = cluster.run(
        flow(
            "  - {id: skipped, type: fail, disabled: '{{ inputs.yes }}'}\n"
            "  - {id: tolerated, type: fail, message: tolerated, allowFailure: '{{ inputs.yes }}'}\n"
            "  - {id: quiet, type: log, message: [dropped, kept], level: INFO, logLevel: '{{ inputs.level }}'}\n"
            "  - {id: loud, type: log, message: shown, level: WARN, logLevel: '{{ inputs.level }}'}\n",
            {"yes": "BOOLEAN", "level": "STRING"},
        ),
        {"yes": True, "level": "WARN"},
    )
    assert cluster.wait(execution_id, timeout=WAIT).state == "WARNING"  # only the tolerated failure: the flow went on
    runs = cluster.runs(execution_id)
    assert {k: r.state for k, r in runs.items()} == {
        "skipped": "SKIPPED",
        "tolerated": "FAILED",
        "quiet": "SUCCESS",
        "loud": "SUCCESS",
    }
    lines = [(line.task_id, line.message) for line in cluster.logs(execution_id) if line.task_id in ("quiet", "loud")]
    assert lines == [("loud", "shown")]


def _overlaps(runs: list) -> int:
    """Most runs between their start and end at one moment."""
    moments = sorted([(r.started_at, 1) for r in runs] + [(r.ended_at, -1) for r in runs])
    most = current = 0
    for _, step in moments:
        current += step
        most = max(most, current)
    return most


def test_parallel_concurrency_and_foreach_limit_from_inputs_limit_what_runs_at_once(cluster):
    children = "".join(f"      - {{id: s{i}, type: sleep, duration: 200ms}}\n" for i in range(3))
    execution_id = cluster.run(
        flow(
            f"  - id: group\n    type: parallel\n    concurrency: '{{{{ inputs.n }}}}'\n    tasks:\n{children}"
            "  - id: each\n    type: foreach\n    values: [1, 2, 3]\n    concurrencyLimit: '{{ inputs.n }}'\n"
            "    tasks:\n      - {id: nap, type: sleep, duration: 200ms}\n",
            {"n": "INT"},
        ),
        {"n": 1},
    )
    assert cluster.wait(execution_id, timeout=WAIT).state == "SUCCESS"
    runs = cluster.runs(execution_id)
    assert _overlaps([runs[f"s{i}"] for i in range(3)]) == 1
    assert _overlaps([runs[f"nap[{i}]"] for i in range(3)]) == 1


def test_a_subflow_told_by_an_input_not_to_wait_returns_at_once(cluster):
    cluster.deploy("id: slow-child\nnamespace: test.sub\ntasks:\n  - {id: hold, type: pause}\n")
    execution_id = cluster.run(
        flow(
            "  - {id: call, type: subflow, namespace: test.sub, flowId: slow-child, wait: '{{ inputs.wait }}',"
            " transmitFailed: '{{ inputs.wait }}'}\n",
            {"wait": "BOOLEAN"},
        ),
        {"wait": False},
    )
    assert cluster.wait(execution_id, timeout=WAIT).state == "SUCCESS"  # while its child is still paused
    child = cluster.execution(cluster.runs(execution_id)["call"].outputs["executionId"])
    assert child.state in ("CREATED", "RUNNING", "PAUSED")


def test_a_pause_delay_from_an_input_resumes_after_it(cluster):
    execution_id = cluster.run(
        flow(
            "  - {id: one, type: return, value: 1}\n  - {id: wait, type: pause, delay: '{{ inputs.delay }}'}\n"
            "  - {id: two, type: return, value: 2}\n",
            {"delay": "STRING"},
        ),
        {"delay": "600ms"},
    )
    assert cluster.wait(execution_id, timeout=WAIT).state == "SUCCESS"
    runs = cluster.runs(execution_id)
    assert runs["two"].started_at - runs["one"].ended_at >= dt.timedelta(milliseconds=550)


def test_a_wrong_value_fails_the_task_naming_the_property_and_the_executor_goes_on(cluster):
    started = {}
    for name, (source, value, _) in BAD.items():
        yaml = flow(f"  - {source}\n  - {{id: after, type: log, message: m}}\n", {"v": "STRING"})
        started[name] = cluster.run(yaml, {"v": value})
    for name, execution_id in started.items():
        assert cluster.wait(execution_id, timeout=WAIT).state == "FAILED", name
        runs = cluster.runs(execution_id)
        assert runs["a"].error.startswith(BAD[name][2]), (name, runs["a"].error)
        assert "after" not in runs
    healthy = cluster.run(
        flow("  - {id: fine, type: log, message: m, disabled: '{{ inputs.v }}'}\n", {"v": "BOOLEAN"}), {"v": False}
    )
    assert cluster.wait(healthy, timeout=WAIT).state == State.SUCCESS.value
