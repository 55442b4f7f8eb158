"""The pure state machine, driven by hand: no Redis, no database, no workers."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.core.progress import (
    CreateRun,
    SetExecution,
    StartSubflow,
    UpdateRun,
    advance,
    apply,
    next_wakeup,
)
from engine.core.states import InvalidTransition, State
from tests.support.simulation import T0, Sim


def flow(tasks: str, extra: str = "") -> str:
    return f"id: f\nnamespace: t\n{extra}tasks:\n{tasks}"


def test_a_plain_list_runs_one_task_at_a_time_and_outputs_are_rendered():
    sim = Sim(flow("  - {id: a, type: return, value: 1}\n  - {id: b, type: return, value: '{{ outputs.a.value + 1 }}'}\n",
                   "outputs:\n  - {id: total, value: '{{ outputs.b.value }}'}\n"))  # fmt: skip
    assert sim.state == State.RUNNING and sim.queued() == ["a"]
    sim.finish("a", outputs={"value": 1})
    assert sim.queued() == ["b"]
    sim.finish("b", outputs={"value": 2})
    assert sim.state == State.SUCCESS and sim.s.execution.outputs == {"total": 2}
    assert advance(sim.s) == []  # settled: nothing more to do


def test_depends_on_draws_a_dag():
    sim = Sim(flow("  - {id: start, type: log, message: s}\n"
                   "  - {id: x, type: log, message: x, dependsOn: [start]}\n"
                   "  - {id: y, type: log, message: y, dependsOn: [start]}\n"
                   "  - {id: join, type: log, message: j, dependsOn: [x, y]}\n"
                   "  - {id: early, type: log, message: e, dependsOn: []}\n"))  # fmt: skip
    assert sim.queued() == ["early", "start"]
    sim.finish("start")
    assert sim.queued() == ["early", "x", "y"]
    sim.finish("x")
    assert "join" not in sim.states()
    sim.finish("y")
    assert sim.queued() == ["early", "join"]
    sim.finish("join")
    sim.finish("early")
    assert sim.state == State.SUCCESS


def test_failure_stops_the_list_runs_errors_then_finally():
    sim = Sim(flow("  - {id: a, type: fail}\n  - {id: b, type: log, message: never}\n",
                   "errors:\n  - {id: alert, type: log, message: oops}\nfinally:\n  - {id: tidy, type: log, message: t}\n"))  # fmt: skip
    sim.finish("a", State.FAILED)
    assert sim.queued() == ["alert"] and "b" not in sim.states()
    sim.finish("alert")
    assert sim.queued() == ["tidy"]
    sim.finish("tidy")
    assert sim.state == State.FAILED


def test_finally_runs_after_success_and_its_failure_fails_the_flow():
    sim = Sim(flow("  - {id: a, type: log, message: a}\n", "finally:\n  - {id: tidy, type: fail}\n"))
    sim.finish("a")
    sim.finish("tidy", State.FAILED)
    assert sim.state == State.FAILED


def test_allow_failure_gives_warning():
    sim = Sim(flow("  - {id: a, type: fail, allowFailure: true}\n  - {id: b, type: log, message: b}\n"))
    sim.finish("a", State.FAILED)
    sim.finish("b")
    assert sim.state == State.WARNING


def test_retry_waits_then_requeues_until_attempts_run_out():
    sim = Sim(flow("  - {id: a, type: fail, retry: {type: exponential, interval: 1s, maxAttempts: 3}}\n"))
    sim.finish("a", State.FAILED)
    run = sim.run("a")
    assert run.state == State.RETRYING and run.next_attempt_at == T0 + dt.timedelta(seconds=1)
    assert next_wakeup(sim.s) == run.next_attempt_at
    sim.later(0.5)
    assert run.state == State.RETRYING
    sim.later(0.5)
    assert run.state == State.QUEUED
    sim.finish("a", State.FAILED)
    assert run.state == State.RETRYING and run.next_attempt_at == sim.s.now + dt.timedelta(seconds=2)
    sim.later(2)
    sim.finish("a", State.FAILED)
    assert run.attempts == 3 and run.state == State.FAILED and sim.state == State.FAILED


def test_a_failure_no_retry_cures_fails_at_once_whatever_the_retry_policy():
    sim = Sim(flow("  - {id: a, type: log, message: hi, retry: {type: constant, interval: 1s, maxAttempts: 5}}\n"))
    sim.run("a").retryable = False  # the worker met a ConfigurationError (a secret that is not set)
    sim.finish("a", State.FAILED)
    assert sim.run("a").state == State.FAILED and sim.run("a").attempts == 1 and sim.state == State.FAILED


def test_flow_level_retry_is_the_default():
    sim = Sim(flow("  - {id: a, type: fail}\n", "retry: {type: constant, interval: 2s, maxAttempts: 2}\n"))
    sim.finish("a", State.FAILED)
    assert sim.run("a").state == State.RETRYING


def test_parallel_with_concurrency_limit():
    sim = Sim(flow("  - id: p\n    type: parallel\n    concurrency: 2\n    tasks:\n"
                   + "".join(f"      - {{id: t{i}, type: log, message: m}}\n" for i in range(5))
                   + "  - {id: after, type: log, message: done}\n"))  # fmt: skip
    assert sim.queued() == ["t0", "t1"]
    sim.finish("t0")
    assert sim.queued() == ["t1", "t2"]
    for name in ("t1", "t2", "t3", "t4"):
        sim.finish(name)
    assert sim.run("p").state == State.SUCCESS and sim.queued() == ["after"]


def test_switch_if_and_their_labels():
    sim = Sim(flow("  - id: s\n    type: switch\n    value: '{{ inputs.mode }}'\n    cases:\n"
                   "      full: [{id: f, type: log, message: f}]\n      quick: [{id: q, type: log, message: q}]\n"
                   "  - id: c\n    type: if\n    condition: \"{{ inputs.mode == 'full' }}\"\n"
                   "    then: [{id: yes, type: log, message: y}]\n    else: [{id: no, type: log, message: n}]\n",
                   "inputs:\n  - {id: mode, type: STRING}\n"), inputs={"mode": "quick"})  # fmt: skip
    assert sim.queued() == ["q"] and sim.run("s").outputs == {"value": "quick", "case": "quick"}
    sim.finish("q")
    assert sim.run("s").state == State.SUCCESS and sim.queued() == ["no"]
    sim.finish("no")
    assert sim.state == State.SUCCESS and "f" not in sim.states() and "yes" not in sim.states()


def test_switch_without_a_match_or_defaults_succeeds_and_a_bad_expression_fails_naming_the_task():
    sim = Sim(
        flow("  - id: s\n    type: switch\n    value: 'zzz'\n    cases:\n      a: [{id: x, type: log, message: m}]\n")
    )
    assert sim.state == State.SUCCESS
    sim = Sim(
        flow(
            "  - id: s\n    type: switch\n    value: '{{ nope.x }}'\n    cases:\n      a: [{id: x, type: log, message: m}]\n"
        )
    )
    assert sim.state == State.FAILED
    assert "task 's'" in sim.run("s").error and "nope" in sim.run("s").error


def test_foreach_iterations_with_limit_and_their_own_outputs():
    sim = Sim(flow("  - id: each\n    type: foreach\n    values: '{{ [1, 2, 3] }}'\n    concurrencyLimit: 2\n    tasks:\n"
                   "      - {id: double, type: return, value: '{{ taskrun.value * 2 }}'}\n"
                   "      - {id: show, type: log, message: '{{ outputs.double.value }}'}\n"))  # fmt: skip
    assert sorted(sim.states()) == ["double[0]", "double[1]", "each"]
    assert sim.run("double", 1).value == 2
    sim.finish("double", outputs={"value": 4}, iteration=1)
    assert sim.run("show", 1).state == State.QUEUED
    from engine.core.progress import context_for

    assert context_for(sim.s, sim.run("show", 1))["outputs"]["double"] == {"value": 4}
    sim.finish("double", outputs={"value": 2}, iteration=0)
    assert "double[2]" not in sim.states()  # iterations 0 and 1 are in flight: limit 2
    sim.finish("show", iteration=0)
    assert sim.run("double", 2).state == State.QUEUED
    sim.finish("show", iteration=1)
    sim.finish("double", iteration=2)
    sim.finish("show", iteration=2)
    assert sim.state == State.SUCCESS


def test_run_if_and_disabled_tasks_are_skipped():
    sim = Sim(flow("  - {id: a, type: log, message: a, runIf: '{{ 1 > 2 }}'}\n"
                   "  - {id: b, type: log, message: b, disabled: true}\n  - {id: c, type: log, message: c}\n"))  # fmt: skip
    assert sim.states() == {"a": "SKIPPED", "b": "SKIPPED", "c": "QUEUED"}


def test_kill_stops_waiting_runs_and_waits_for_running_ones():
    sim = Sim(flow("  - id: p\n    type: parallel\n    concurrency: 1\n    tasks:\n"
                   "      - {id: a, type: sleep, duration: 1m}\n      - {id: b, type: sleep, duration: 1m}\n"))  # fmt: skip
    sim.run("a").state = State.RUNNING
    apply(sim.s, SetExecution(State.KILLING))
    sim.actions = advance(sim.s)
    assert sim.run("p").state == State.KILLED and sim.state == State.KILLING
    sim.run("a").state = State.KILLED
    sim.actions = advance(sim.s)
    assert sim.state == State.KILLED and "b" not in sim.states()


def test_flow_timeout_kills_and_fails():
    sim = Sim(flow("  - {id: a, type: sleep, duration: 1h}\n", "timeout: 10s\n"))
    sim.run("a").state = State.RUNNING
    sim.later(11)
    assert sim.state == State.KILLING and "timed out" in sim.s.execution.error
    sim.run("a").state = State.KILLED
    sim.later(0)
    assert sim.state == State.FAILED


@pytest.mark.parametrize(("behavior", "expected"), [("queue", State.QUEUED), ("cancel", State.CANCELLED),
                                                    ("fail", State.FAILED)])  # fmt: skip
def test_concurrency_limit(behavior: str, expected: State):
    sim = Sim(flow("  - {id: a, type: log, message: m}\n", f"concurrency: {{limit: 1, behavior: {behavior}}}\n"),
              flow_running=1)  # fmt: skip
    assert sim.state == expected and sim.s.runs == {}
    if behavior == "queue":
        sim.s.flow_running = 0
        sim.later(0)
        assert sim.state == State.RUNNING and sim.queued() == ["a"]


def test_pause_with_delay_pauses_the_execution_then_resumes():
    sim = Sim(flow("  - {id: wait, type: pause, delay: 30s}\n  - {id: a, type: log, message: m}\n"))
    assert sim.run("wait").state == State.PAUSED and sim.state == State.PAUSED
    sim.later(31)
    assert sim.run("wait").state == State.SUCCESS and sim.state == State.RUNNING and sim.queued() == ["a"]


def test_subflow_starts_a_child_and_takes_its_outputs():
    sim = Sim(flow("  - {id: child, type: subflow, namespace: t.other, flowId: g, inputs: {x: 1}}\n"))
    (start,) = [a for a in sim.actions if isinstance(a, StartSubflow)]
    assert (start.namespace, start.flow_id, start.inputs) == ("t.other", "g", {"x": 1})
    sim.s.subflows[start.run_id] = (State.SUCCESS, {"y": 2})
    sim.later(0)
    assert sim.state == State.SUCCESS and sim.run("child").outputs["outputs"] == {"y": 2}


def test_the_transition_table_refuses_what_it_does_not_list():
    sim = Sim(flow("  - {id: a, type: log, message: m}\n"))
    sim.finish("a")
    with pytest.raises(InvalidTransition):
        apply(sim.s, SetExecution(State.RUNNING))
    assert all(isinstance(a, CreateRun | SetExecution) for a in sim.actions)


def test_a_settled_run_is_never_changed_so_snapshots_may_share_it():
    sim = Sim(flow("  - {id: a, type: return, value: 1}\n  - {id: b, type: return, value: 2}\n"))
    sim.finish("a", outputs={"value": 1})
    settled = sim.run("a")
    with pytest.raises(InvalidTransition, match="settled"):
        apply(sim.s, UpdateRun(settled.id, None, {"outputs": {"value": 99}}))
    assert settled.outputs == {"value": 1}


def test_a_flowable_runs_its_own_errors_and_finally_and_fails():
    sim = Sim(flow("  - id: group\n    type: sequential\n    tasks:\n      - {id: a, type: fail}\n      - {id: b, type: log, message: never}\n"
                   "    errors:\n      - {id: on_error, type: log, message: e}\n"
                   "    finally:\n      - {id: always, type: log, message: f}\n"
                   "  - {id: after, type: log, message: never}\n"))  # fmt: skip
    sim.finish("a", State.FAILED)
    assert sim.queued() == ["on_error"]
    sim.finish("on_error")
    assert sim.queued() == ["always"]
    sim.finish("always")
    assert sim.run("group").state == State.FAILED and sim.state == State.FAILED
    assert "b" not in sim.states() and "after" not in sim.states()


def test_resuming_a_pause_that_is_the_last_task_ends_the_execution():
    sim = Sim(flow("  - {id: a, type: log, message: m}\n  - {id: wait, type: pause}\n"))
    sim.finish("a")
    assert sim.state == State.PAUSED
    sim.run("wait").state = State.SUCCESS
    sim.later(0)
    assert sim.state == State.SUCCESS


def test_a_held_execution_starts_nothing_new_until_released():
    sim = Sim(flow("  - {id: a, type: log, message: m}\n  - {id: b, type: log, message: m}\n"))
    sim.s.execution.held = True
    sim.finish("a")
    assert sim.state == State.PAUSED and "b" not in sim.states()
    sim.s.execution.held = False
    sim.later(0)
    assert sim.state == State.RUNNING and sim.queued() == ["b"]


class _CountedLookups(dict):
    """A task list's runs, counting how many a pass looks up."""

    looked_up = 0

    def get(self, key, default=None):
        self.looked_up += 1
        return super().get(key, default)


def test_a_pass_over_a_long_chain_looks_only_at_what_is_in_flight():
    sim = Sim(flow("".join(f"  - {{id: t{i}, type: return, value: {i}}}\n" for i in range(2000))))
    for i in range(1999):  # each ends as a worker would leave it; the next one starts
        sim.s.scopes[(None, None)][f"t{i}"].state = State.SUCCESS
        sim.actions = advance(sim.s)
        assert [a.run.task_id for a in sim.actions if isinstance(a, CreateRun)] == [f"t{i + 1}"]
    assert sim.s.settled_prefixes[(None, None, "t0")] == (1999, False)
    runs = sim.s.scopes[(None, None)] = _CountedLookups(sim.s.scopes[(None, None)])
    assert advance(sim.s) == [] and runs.looked_up <= 2  # not the 1,999 settled runs before it
    runs["t1999"].state = State.WARNING
    advance(sim.s)
    assert sim.state == State.WARNING and runs.looked_up <= 6
