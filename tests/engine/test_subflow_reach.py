"""Where a flow may start subflows: the pure rule, the state machine's refusal, and a real cluster."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.config import load_settings
from engine.core.progress import ExecutionView, Snapshot, StartSubflow, advance
from engine.core.states import State
from engine.flows.loader import load_flow_or_raise
from engine.identity.policy import SubflowReach, may_start_subflow
from tests.support.ids import unique

ROOT, SUBTREE, ANY = SubflowReach.ROOT, SubflowReach.SUBTREE, SubflowReach.ANY

# (caller, target, allowed under root, under subtree, under any)
TABLE = [
    ("acme", "acme", True, True, True),
    ("acme", "acme.sales", True, True, True),
    ("acme.sales", "acme.sales.eu", True, True, True),
    ("acme.sales", "acme.ops.x", True, False, True),  # a sibling team of the same company
    ("acme.sales", "acme", True, False, True),  # the parent
    ("acme.sales", "acme.salesforce", True, False, True),  # a name that only starts like ours
    ("acme", "acmecorp", False, False, True),  # another root, however alike the name
    ("acme.sales", "globex.y", False, False, True),
    ("acme.sales", "globex", False, False, True),
]


@pytest.mark.parametrize(("caller", "target", "root", "subtree", "anywhere"), TABLE)
def test_the_reach_table(caller: str, target: str, root: bool, subtree: bool, anywhere: bool):
    assert may_start_subflow(caller, target, ROOT) is root
    assert may_start_subflow(caller, target, SUBTREE) is subtree
    assert may_start_subflow(caller, target, ANY) is anywhere
    assert may_start_subflow(caller, target, "root") is root  # the setting's text is accepted as is


def test_the_setting_defaults_to_root_and_refuses_an_unknown_value():
    assert load_settings({}).subflow_reach == "root"
    assert load_settings({"LANNER_SUBFLOW_REACH": "Subtree"}).subflow_reach == "subtree"
    with pytest.raises(ValueError, match="LANNER_SUBFLOW_REACH must be one of root, subtree, any"):
        load_settings({"LANNER_SUBFLOW_REACH": "everywhere"})


def _advance(target: str, reach: str) -> tuple[Snapshot, list]:
    flow = load_flow_or_raise(
        f"id: f\nnamespace: acme.sales\ntasks:\n  - {{id: call, type: subflow, namespace: {target}, flowId: g}}\n"
    )
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    snapshot = Snapshot(flow, ExecutionView("e1", State.CREATED), {}, now, subflow_reach=reach)
    return snapshot, advance(snapshot)


def test_the_state_machine_fails_the_task_instead_of_starting_a_subflow_out_of_reach():
    refused, actions = _advance("globex.y", "root")
    assert not any(isinstance(a, StartSubflow) for a in actions)
    assert refused.execution.state == State.FAILED
    (run,) = refused.runs.values()
    assert run.state == State.FAILED
    assert run.error == (
        "task 'call': a flow of namespace acme.sales may not start a subflow in namespace globex.y "
        "(LANNER_SUBFLOW_REACH=root allows only acme and the namespaces below it)"
    )
    assert any(isinstance(a, StartSubflow) for a in _advance("globex.y", "any")[1])
    (within_subtree,) = _advance("acme.ops", "subtree")[0].runs.values()
    assert "LANNER_SUBFLOW_REACH=subtree allows only acme.sales and the namespaces below it" in within_subtree.error


def test_a_real_subflow_into_another_root_fails_and_one_within_the_root_runs(cluster):
    company, other = unique("acme"), unique("globex")
    child = "id: child\nnamespace: {ns}\ntasks:\n  - {{id: r, type: return, value: done}}\n"
    cluster.deploy(child.format(ns=f"{company}.ops"))
    cluster.deploy(child.format(ns=other))
    caller = (
        f"id: {unique('f')}\nnamespace: {company}.sales\ntasks:\n"
        "  - {{id: call, type: subflow, namespace: {target}, flowId: child}}\n"
    )

    outside = cluster.wait(cluster.run(caller.format(target=other)))
    assert outside.state == "FAILED"
    error = cluster.runs(outside.id)["call"].error
    assert f"namespace {company}.sales may not start a subflow in namespace {other}" in error
    assert "LANNER_SUBFLOW_REACH=root" in error

    inside = cluster.wait(cluster.run(caller.format(target=f"{company}.ops")))
    assert inside.state == "SUCCESS", cluster.runs(inside.id)["call"].error
    assert cluster.runs(inside.id)["call"].outputs["state"] == "SUCCESS"
