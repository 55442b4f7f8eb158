"""Control properties people compute (timeout, retry, disabled, allowFailure, logLevel, concurrency, a subflow's
wait and transmitFailed, a pause's delay), decided by the pure state machine: rendered with the run's context,
and a wrong value fails that task with a message naming the property. Real runs: test_computed_runs.py."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.core.progress import StartSubflow, next_wakeup
from engine.core.states import State
from engine.flows.loader import load_flow
from engine.tasks import registry
from tests.support.computed import BAD
from tests.support.simulation import T0, Sim


def _flow(tasks: str, inputs: dict[str, str], extra: str = "") -> str:
    declared = "".join(f"  - {{id: {name}, type: {kind}}}\n" for name, kind in inputs.items())
    declared = f"inputs:\n{declared}" if declared else ""
    return f"id: f\nnamespace: t\n{declared}{extra}tasks:\n{tasks}"


def test_disabled_from_an_input_skips_the_task_or_runs_it():
    source = _flow("  - {id: a, type: log, message: a, disabled: '{{ inputs.skip }}'}\n", {"skip": "BOOLEAN"})
    assert Sim(source, {"skip": True}).states() == {"a": "SKIPPED"}
    assert Sim(source, {"skip": False}).states() == {"a": "QUEUED"}


def test_retry_numbers_and_durations_from_inputs_decide_the_attempts_and_the_wait():
    source = _flow(
        "  - id: a\n    type: fail\n"
        "    retry: {type: exponential, interval: '{{ inputs.wait }}', maxAttempts: '{{ inputs.attempts }}',"
        " delayFactor: '{{ inputs.factor }}'}\n",
        {"wait": "STRING", "attempts": "INT", "factor": "FLOAT"},
    )
    sim = Sim(source, {"wait": "2s", "attempts": 3, "factor": 3.0})
    sim.finish("a", State.FAILED)
    assert sim.run("a").state == State.RETRYING and sim.run("a").next_attempt_at == T0 + dt.timedelta(seconds=2)
    sim.later(2)
    sim.finish("a", State.FAILED)
    assert sim.run("a").next_attempt_at == sim.s.now + dt.timedelta(seconds=6)
    sim.later(6)
    sim.finish("a", State.FAILED)
    assert sim.run("a").attempts == 3 and sim.run("a").state == State.FAILED and sim.state == State.FAILED


def test_a_retry_may_read_the_outputs_of_an_earlier_task_and_the_flow_default_may_be_computed():
    source = _flow(
        "  - {id: plan, type: return, value: 2}\n"
        "  - {id: a, type: fail, retry: {type: constant, interval: 1s, maxAttempts: '{{ outputs.plan.value }}'}}\n"
        "  - {id: b, type: fail}\n",
        {"attempts": "INT"},
        "retry: {type: constant, interval: 1s, maxAttempts: '{{ inputs.attempts }}'}\n",
    )
    sim = Sim(source, {"attempts": 1})
    sim.finish("plan", State.SUCCESS, {"value": 2})
    sim.finish("a", State.FAILED)
    assert sim.run("a").state == State.RETRYING
    sim.later(1)
    sim.finish("a", State.FAILED)
    assert sim.run("a").state == State.FAILED and sim.state == State.FAILED
    sim = Sim(
        source.replace("  - {id: a, type: fail, retry", "  - {id: a, type: log, message: m, retry"), {"attempts": 1}
    )
    sim.finish("plan", State.SUCCESS, {"value": 2})
    sim.finish("a")
    sim.finish("b", State.FAILED)  # the flow's default, maxAttempts 1: no retry
    assert sim.run("b").state == State.FAILED and sim.state == State.FAILED


def test_allow_failure_from_an_input_lets_the_flow_go_on():
    source = _flow(
        "  - {id: a, type: fail, allowFailure: '{{ inputs.tolerate }}'}\n  - {id: b, type: log, message: b}\n",
        {"tolerate": "BOOLEAN"},
    )
    sim = Sim(source, {"tolerate": True})
    sim.finish("a", State.FAILED)
    sim.finish("b")
    assert sim.state == State.WARNING
    sim = Sim(source, {"tolerate": False})
    sim.finish("a", State.FAILED)
    assert sim.state == State.FAILED and "b" not in sim.states()


def test_parallel_concurrency_and_foreach_concurrency_limit_from_inputs():
    children = "".join(f"      - {{id: t{i}, type: log, message: m}}\n" for i in range(4))
    sim = Sim(
        _flow(
            f"  - id: p\n    type: parallel\n    concurrency: '{{{{ inputs.n }}}}'\n    tasks:\n{children}",
            {"n": "INT"},
        ),
        {"n": 3},
    )
    assert sim.queued() == ["t0", "t1", "t2"]
    sim = Sim(
        _flow(
            "  - id: each\n    type: foreach\n    values: [a, b, c, d]\n    concurrencyLimit: '{{ inputs.n }}'\n"
            "    tasks:\n      - {id: up, type: log, message: m}\n",
            {"n": "INT"},
        ),
        {"n": 2},
    )
    assert sorted(k for k, v in sim.states().items() if v == "QUEUED") == ["up[0]", "up[1]"]


def test_subflow_wait_false_from_an_input_ends_once_the_child_is_started():
    source = _flow(
        "  - {id: call, type: subflow, namespace: t, flowId: child, wait: '{{ inputs.wait }}',"
        " transmitFailed: '{{ inputs.wait }}'}\n",
        {"wait": "BOOLEAN"},
    )
    sim = Sim(source, {"wait": False})
    assert any(isinstance(a, StartSubflow) for a in sim.actions)
    assert sim.run("call").state == State.SUCCESS and sim.state == State.SUCCESS
    sim = Sim(source, {"wait": True})
    assert sim.run("call").state == State.RUNNING
    sim.s.subflows[sim.run("call").id] = (State.FAILED, {})
    sim.later(0)
    assert sim.run("call").state == State.FAILED


def test_pause_delay_from_an_input_resumes_after_it():
    sim = Sim(
        _flow(
            "  - {id: wait, type: pause, delay: '{{ inputs.delay }}'}\n  - {id: b, type: log, message: b}\n",
            {"delay": "STRING"},
        ),
        {"delay": "30s"},
    )
    assert sim.run("wait").outputs == {"resumeAt": (T0 + dt.timedelta(seconds=30)).isoformat()}
    sim.later(29)
    assert sim.run("wait").state == State.PAUSED
    sim.later(1)
    assert sim.run("wait").state == State.SUCCESS and sim.queued() == ["b"]


# Each: a task whose control property is computed from inputs.v, a value it refuses, and what the error says.


@pytest.mark.parametrize("name", BAD)
def test_a_wrong_rendered_value_fails_the_task_naming_the_property(name: str):
    source, value, message = BAD[name]
    sim = Sim(_flow(f"  - {source}\n  - {{id: after, type: log, message: m}}\n", {"v": "STRING"}), {"v": value})
    run = sim.run("a")
    assert run.state == State.FAILED and run.error.startswith(message), run.error
    assert sim.state == State.FAILED and "after" not in sim.states()
    assert not any(isinstance(a, StartSubflow) for a in sim.actions)  # nothing started with a wrong value
    assert not [k for k, v in sim.states().items() if v == "QUEUED"]  # nor queued for a worker


def test_an_expression_that_fails_names_the_property_and_a_task_failed_before_running_is_never_retried():
    sim = Sim(
        _flow(
            "  - {id: a, type: log, message: m, timeout: '{{ inputs.v.nope }}',"
            " retry: {type: constant, interval: 1s, maxAttempts: 5}}\n",
            {"v": "STRING"},
        ),
        {"v": "x"},
    )
    run = sim.run("a")
    assert run.error.startswith("task 'a': property 'timeout': ") and "inputs.v.nope" in run.error
    assert run.state == State.FAILED and run.attempts == 0 and sim.state == State.FAILED


def test_a_computed_retry_that_stops_rendering_fails_without_retrying_and_says_why():
    # taskrun.attempt changes between attempts: the policy renders for the first and not after it
    source = _flow(
        "  - {id: a, type: fail, retry: {type: constant, interval: 1s,"
        " maxAttempts: '{{ 3 if taskrun.attempt == 0 else \"never\" }}'}}\n",
        {},
    )
    sim = Sim(source)
    sim.finish("a", State.FAILED)
    run = sim.run("a")
    assert run.state == State.FAILED and sim.state == State.FAILED
    assert "property 'retry.maxAttempts' expects a whole number" in run.error
    assert len(sim.actions) == len({repr(a) for a in sim.actions})  # the note is added once


LITERALS = {
    "timeout": ("{id: a, type: log, message: m, timeout: soon}", "'soon' is not a duration"),
    "disabled": ("{id: a, type: log, message: m, disabled: maybe}", "disabled"),
    "retry": ("{id: a, type: log, message: m, retry: {type: constant, interval: 1s, maxAttempts: 0}}", "maxAttempts"),
    "concurrency": ("{id: a, type: parallel, concurrency: -1, tasks: [{id: c, type: log, message: m}]}", "concurrency"),
    "wait": ("{id: a, type: subflow, namespace: t, flowId: c, wait: later}", "wait"),
    "delay": ("{id: a, type: pause, delay: tomorrow}", "'tomorrow' is not a duration"),
}


@pytest.mark.parametrize("name", LITERALS)
def test_a_wrong_literal_is_still_refused_when_the_flow_is_loaded_with_its_line(name: str):
    source, fragment = LITERALS[name]
    (problem,) = load_flow(
        f"id: f\nnamespace: t\ntasks:\n  - {{id: first, type: log, message: m}}\n  - {source}\n"
    ).problems
    assert problem.line == 5 and problem.column > 1 and fragment in problem.message, problem


def test_the_forms_read_the_same_schema_for_control_properties():
    shell = registry.json_schema("shell")
    assert shell["properties"]["disabled"]["type"] == "boolean"
    assert shell["properties"]["allowFailure"]["type"] == "boolean"
    assert shell["properties"]["timeout"]["anyOf"][0]["format"] == "duration"
    assert shell["properties"]["disabled"]["description"] == "Skip this task without running it."
    max_attempts = shell["$defs"]["ConstantRetry"]["properties"]["maxAttempts"]["anyOf"][0]
    assert max_attempts == {"minimum": 1, "type": "integer"}
    assert registry.json_schema("parallel")["properties"]["concurrency"]["type"] == "integer"
    assert registry.json_schema("foreach")["properties"]["concurrencyLimit"]["minimum"] == 0
    assert registry.json_schema("subflow")["properties"]["wait"]["type"] == "boolean"
    assert registry.json_schema("pause")["properties"]["delay"]["anyOf"][0]["format"] == "duration"


def test_the_flow_timeout_from_an_input_ends_the_execution_and_a_wrong_one_fails_it_before_anything_runs():
    source = _flow("  - {id: a, type: log, message: m}\n", {"budget": "STRING"}, "timeout: '{{ inputs.budget }}'\n")
    sim = Sim(source, {"budget": "1m"})
    assert sim.queued() == ["a"] and next_wakeup(sim.s) == T0 + dt.timedelta(minutes=1)
    sim.later(60)
    assert sim.s.execution.error == "the flow timed out after 0:01:00"
    sim = Sim(source, {"budget": "whenever"})
    assert sim.state == State.FAILED and sim.states() == {} and next_wakeup(sim.s) is None
    assert sim.s.execution.error.startswith("flow: after rendering, timeout: Value error, 'whenever' is not a duration")
