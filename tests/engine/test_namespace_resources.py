"""Worker groups and namespace limits without processes: the flow language, the namespace settings (service, access,
refusals) and the fair share's decisions in the database, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import update
from sqlmodel import Session, select

from engine.config import reset_settings
from engine.core import errors
from engine.core.progress import ExecutionView, Snapshot, advance
from engine.core.states import State
from engine.flows.loader import load_flow
from engine.identity import authz
from engine.identity.policy import Principal, Role
from engine.runtime import fair_share
from engine.services import resources
from engine.store import namespace_settings
from engine.store.database import session_scope
from engine.store.tables import Execution, TaskRun, utcnow
from engine.workspace.resources import worker_group_for, worker_group_of
from engine.workspace.task_defaults import parse_defaults

ADMIN = authz.LOCAL


def _flow(extra: str = "", task: str = "") -> str:
    return f"id: f\nnamespace: acme.sales\n{extra}tasks:\n  - {{id: t, type: log, message: x{task}}}\n"


@pytest.mark.parametrize(
    ("text", "flow_group", "task_group"),
    [
        (_flow("workerGroup: gpu\n"), "gpu", None),
        (_flow(task=", workerGroup: {key: gpu}"), None, "gpu"),
        (_flow("workerGroup: {key: cpu}\n", ", workerGroup: gpu-2"), "cpu", "gpu-2"),
    ],
)
def test_a_flow_or_a_task_names_its_worker_group_plainly_or_as_kestra_does(text, flow_group, task_group):
    result = load_flow(text)
    assert result.ok, result.problems
    assert (result.flow.worker_group, result.flow.tasks[0].worker_group) == (flow_group, task_group)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (_flow(task=", workerGroup: {name: gpu}"), "4:49: task 't': workerGroup: unknown property 'name'"),
        (_flow("workerGroup: {}\n"), "3:14: workerGroup: missing required property 'key'"),
        (_flow(task=", workerGroup: GPU"), "4:49: task 't': workerGroup: String should match pattern"),
    ],
)
def test_a_wrong_worker_group_is_refused_at_its_line_and_column(text, message):
    problems = [str(p) for p in load_flow(text).problems]
    assert any(message in p for p in problems), problems


def test_the_most_specific_worker_group_wins(database):
    resources.set_resources(database, ADMIN, "acme", {"worker_group": "team"})
    resources.set_resources(database, ADMIN, "acme.sales", {"worker_group": "sales"})
    resources.set_resources(database, ADMIN, "acme.sales.eu.fr", {"max_running_executions": 3})  # sets no group
    with Session(database) as session:
        assert worker_group_of(session, "acme.sales.eu") == "sales"  # inherited from the nearest namespace setting one
        assert worker_group_of(session, "acme.sales.eu.fr") == "sales"
        assert worker_group_of(session, "acme.sales") == "sales"
        assert worker_group_of(session, "acme.salesforce") == "team"  # a name beginning alike is not above it
        assert worker_group_of(session, "acme") == "team"
        assert worker_group_of(session, "acmex") is None
        assert worker_group_of(session, "other") is None
    flow = load_flow(_flow("workerGroup: flowgroup\n", ", workerGroup: taskgroup")).flow
    bare = load_flow(_flow()).flow
    flow_only = load_flow(_flow("workerGroup: flowgroup\n")).flow

    def namespace() -> str:
        return "team"

    assert worker_group_for(flow, flow.tasks[0], namespace) == "taskgroup"
    assert worker_group_for(flow_only, flow_only.tasks[0], namespace) == "flowgroup"
    assert worker_group_for(bare, bare.tasks[0], namespace) == "team"


def test_namespace_admins_set_the_worker_group_and_only_administrators_the_limits(database):
    admin_of_acme = Principal(name="ada", memberships={"acme": Role.ADMIN})
    editor = Principal(name="ed", memberships={"acme": Role.EDITOR})
    found = resources.set_resources(database, admin_of_acme, "acme", {"worker_group": "gpu"})
    assert found.worker_group == "gpu" and found.updated_by == "ada"
    with pytest.raises(errors.Forbidden, match="manage resources in acme needs the administrator role"):
        resources.set_resources(database, admin_of_acme, "acme", {"max_running_executions": 2})
    with pytest.raises(errors.Forbidden, match="manage variables in acme needs the admin role"):
        resources.set_resources(database, editor, "acme", {"worker_group": "cpu"})
    limits = resources.set_resources(database, ADMIN, "acme", {"max_running_executions": 2, "max_running_task_runs": 3})
    assert (limits.worker_group, limits.max_running_executions, limits.max_running_task_runs) == ("gpu", 2, 3)
    child = resources.resources_of(database, editor, "acme.sales")
    assert (child.worker_group, child.inherited_worker_group, child.max_running_executions) == (None, "gpu", None)
    cleared = resources.set_resources(database, ADMIN, "acme", {"max_running_executions": None})
    assert (cleared.max_running_executions, cleared.max_running_task_runs) == (None, 3)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"max_running_executions": 0}, "max_running_executions: a whole number of at least 1"),
        ({"max_running_task_runs": "3"}, "max_running_task_runs: a whole number of at least 1"),
        ({"max_running_task_runs": True}, "max_running_task_runs: a whole number of at least 1"),
        ({"worker_group": "GPU!"}, "worker_group: 'GPU!' is not a group name"),
        ({"cpus": 4}, "unknown setting 'cpus'"),
    ],
)
def test_wrong_settings_are_refused_naming_the_setting(database, values, message):
    with pytest.raises(errors.InvalidInput, match=message):
        resources.set_resources(database, ADMIN, "acme", values)


def _execution(session: Session, namespace: str) -> str:
    execution = Execution(id=str(uuid.uuid4()), namespace=namespace, flow_id="f", flow_revision=1, state="RUNNING")
    session.add(execution)
    session.flush()
    return execution.id


def _runs(session: Session, execution_id: str, namespace: str, count: int) -> list[tuple[str, int, None]]:
    start = utcnow()
    runs = []
    for index in range(count):
        run = TaskRun(
            id=str(uuid.uuid4()),
            execution_id=execution_id,
            namespace=namespace,
            flow_id="f",
            task_id="t",
            iteration=index,
            state=State.QUEUED.value,
            created_at=start + dt.timedelta(milliseconds=index),
        )
        session.add(run)
        runs.append((run.id, 1, None))
    session.flush()
    return runs


def _states(database, namespace: str) -> dict[str, int]:
    with Session(database) as session:
        rows = session.exec(select(TaskRun.state).where(TaskRun.namespace == namespace)).all()
    return {state: rows.count(state) for state in set(rows)}


def test_runs_past_the_namespace_bound_are_held_then_released_oldest_first(database, monkeypatch):
    monkeypatch.setenv("LANNER_NAMESPACE_TASK_RUNS_IN_FLIGHT", "4")
    reset_settings()
    resources.set_resources(database, ADMIN, "busy", {"max_running_task_runs": 3})
    with session_scope(database) as session:
        first = _execution(session, "busy")
        queued = _runs(session, first, "busy", 5)
        admitted = fair_share.admit(session, "busy", queued)
    assert admitted.enqueue == queued[:3] and admitted.holding  # its own limit (3) is below the shared bound (4)
    assert _states(database, "busy") == {"QUEUED": 3, "CREATED": 2}
    with session_scope(database) as session:  # another namespace is not held by this one's runs
        other = fair_share.admit(session, "calm", _runs(session, _execution(session, "calm"), "calm", 2))
    assert len(other.enqueue) == 2 and not other.holding
    with session_scope(database) as session:
        session.exec(update(TaskRun).where(TaskRun.id == queued[0][0]).values(state="SUCCESS"))  # as a worker ends it
        assert namespace_settings.namespaces_holding(session) == ["busy"]
        released = fair_share.admit(session, "busy", [])
    assert released.enqueue == [queued[3]] and released.released == {first}
    assert _states(database, "busy") == {"SUCCESS": 1, "QUEUED": 3, "CREATED": 1}
    resources.set_resources(database, ADMIN, "busy", {"max_running_task_runs": None})  # the shared bound: 4
    with session_scope(database) as session:
        released = fair_share.admit(session, "busy", [])
    assert released.enqueue == [queued[4]]
    with session_scope(database) as session:
        assert namespace_settings.namespaces_holding(session) == []  # nothing left to hold
    reset_settings()


def _snapshot(namespace_limit: int | None, running: int, state: State = State.CREATED) -> Snapshot:
    flow = load_flow(_flow()).flow
    return Snapshot(flow, ExecutionView("e", state), {}, utcnow(), namespace_limit=namespace_limit,
                    namespace_running=running)  # fmt: skip


def test_an_execution_over_its_namespace_limit_waits_queued():
    waiting = _snapshot(2, 2)
    advance(waiting)
    assert waiting.execution.state == State.QUEUED and not waiting.runs
    admitted = _snapshot(2, 1, State.QUEUED)
    advance(admitted)
    assert admitted.execution.state == State.RUNNING and len(admitted.runs) == 1
    unlimited = _snapshot(None, 50)
    advance(unlimited)
    assert unlimited.execution.state == State.RUNNING


def test_the_executor_takes_turns_between_namespaces_in_a_batch_of_events(database):
    with session_scope(database) as session:
        flood = [_execution(session, "team.a") for _ in range(4)]
        other = _execution(session, "team.b")
    with Session(database) as session:
        rounds = fair_share.take_turns(session, [*flood, other, "gone"])  # "gone": an execution deleted since
        assert rounds == [[flood[0], other, "gone"], [flood[1]], [flood[2]], [flood[3]]]
        assert fair_share.take_turns(session, [other]) == [[other]]


def test_a_namespace_task_default_cannot_name_a_worker_group():
    # The worker applies namespace task defaults to the task it already took from a queue: the namespace's own
    # worker group is the way to route its task runs, and saying so beats a setting that would do nothing.
    _, problems = parse_defaults("- type: shell\n  values:\n    workerGroup: gpu\n")
    assert [(p.line, p.column) for p in problems] == [(3, 5)]
    assert "set the namespace's worker group instead" in problems[0].message
    flow = load_flow(_flow("taskDefaults:\n  - {type: log, values: {workerGroup: gpu}}\n")).flow
    assert flow.tasks[0].worker_group == "gpu"  # a flow's own task defaults are applied when it is loaded
