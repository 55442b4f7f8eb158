"""The service layer: one access check, every person's action through the transition table, typed refusals."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest
from sqlalchemy import event
from sqlmodel import Session

from engine.api.schemas import ExecutionOut, FlowOut
from engine.core import errors
from engine.core.states import (
    EXECUTION_TRANSITIONS,
    USER_ACTIONS,
    ActionRefused,
    State,
    UserAction,
    user_action_target,
)
from engine.flows.inputs import InputsInvalid
from engine.identity import audit, authz
from engine.identity.policy import Principal, Role
from engine.runtime.connection import connect
from engine.services import errors as service_errors
from engine.services import executions, flows
from engine.services.commands import Connections
from engine.services.views import ExecutionView
from engine.store import executions as store
from engine.store.tables import Execution, TaskRun
from tests.support.ids import unique

ADMIN = authz.LOCAL
VIEWER = Principal(name="vera", memberships={"acme": Role.VIEWER})
OPERATOR = Principal(name="otto", memberships={"acme": Role.OPERATOR})
FLOW = (
    "id: {id}\nnamespace: acme\ntasks:\n  - {{id: a, type: log, message: hi}}\n  - {{id: b, type: log, message: ho}}\n"
)


@pytest.fixture
def conn(database, redis_server) -> Connections:
    return Connections(database, connect(redis_server))


def _execution(conn: Connections, state: State, *, held: bool = False, paused_task: bool = False) -> str:
    """An execution of a fresh flow, put in ``state`` by hand (no executor runs: the state stays put)."""
    flow_id = unique("f")
    flows.save(conn.db, ADMIN, FLOW.format(id=flow_id))
    execution_id = executions.start(conn, ADMIN, "acme", flow_id, trigger={"type": "test"}).id
    with Session(conn.db) as session:
        row = session.get(Execution, execution_id)
        row.state, row.held = state.value, held
        session.add(row)
        if paused_task:
            paused = TaskRun(
                id=str(uuid.uuid4()),
                execution_id=execution_id,
                namespace=row.namespace,
                flow_id=row.flow_id,
                task_id="a",
                state=State.PAUSED.value,
                kind="executor",
            )
            session.add(paused)
        session.commit()
    return execution_id


def _state(conn: Connections, execution_id: str) -> State:
    with Session(conn.db) as session:
        return State(store.get_execution(session, execution_id).state)


@pytest.mark.parametrize("action", list(UserAction))
@pytest.mark.parametrize("state", list(State))
def test_every_user_action_is_allowed_by_the_table_or_refused_with_the_typed_error(action, state):
    rule = USER_ACTIONS[action]
    if state in rule.targets:
        target = user_action_target(action, state, "e1")
        assert target == state or target in EXECUTION_TRANSITIONS[state]
    else:
        with pytest.raises(ActionRefused) as refused:
            user_action_target(action, state, "e1")
        assert isinstance(refused.value, errors.Conflict) and isinstance(refused.value, ValueError)


def test_the_refusals_are_the_four_typed_kinds_and_keep_their_builtin_bases():
    assert issubclass(authz.Forbidden, service_errors.Forbidden) and issubclass(authz.Forbidden, PermissionError)
    assert issubclass(authz.NotVisible, service_errors.NotFound) and issubclass(authz.NotVisible, LookupError)
    assert issubclass(store.ExecutionNotFound, service_errors.NotFound)
    assert issubclass(store.ExecutionConflict, service_errors.Conflict)
    assert issubclass(InputsInvalid, service_errors.InvalidInput)
    assert issubclass(executions.TaskNotFound, service_errors.NotFound)


@pytest.mark.parametrize(
    ("action", "state", "message"),
    [
        ("kill", State.SUCCESS, "execution {id} has already ended (SUCCESS)"),
        ("restart", State.RUNNING, "only a FAILED or KILLED execution can be restarted (it is RUNNING)"),
        ("pause", State.FAILED, "execution {id} is FAILED: it cannot be paused"),
        ("resume", State.SUCCESS, "execution {id} is SUCCESS: it cannot be resumed"),
        ("resume", State.RUNNING, "execution {id} is not paused"),
    ],
)
def test_an_impossible_action_is_a_conflict_and_changes_nothing(conn, action, state, message):
    execution_id = _execution(conn, state)
    with pytest.raises(service_errors.Conflict) as refused:
        getattr(executions, action)(conn, OPERATOR, execution_id)
    assert str(refused.value) == message.format(id=execution_id)
    assert _state(conn, execution_id) == state


def test_each_allowed_action_goes_where_the_table_says(conn):
    queued = _execution(conn, State.QUEUED)
    assert executions.kill(conn, OPERATOR, queued).state == State.KILLED
    running = _execution(conn, State.RUNNING)
    assert executions.kill(conn, OPERATOR, running).state == State.KILLING
    failed = _execution(conn, State.FAILED)
    assert executions.restart(conn, OPERATOR, failed).state == State.RUNNING
    held = executions.pause(conn, OPERATOR, _execution(conn, State.RUNNING))
    assert held.held and held.state == State.RUNNING  # the executor moves it to PAUSED
    released = executions.resume(conn, OPERATOR, held.id)
    assert not released.held
    paused = _execution(conn, State.PAUSED, paused_task=True)
    resumed = executions.resume(conn, OPERATOR, paused)
    assert [r.state for r in resumed.task_runs if r.task_id == "a"] == [State.SUCCESS]


def test_access_is_decided_once_by_the_service_before_anything_changes(conn):
    running = _execution(conn, State.RUNNING)
    with pytest.raises(service_errors.Forbidden, match="kill in acme needs the operator role"):
        executions.kill(conn, VIEWER, running)
    assert _state(conn, running) == State.RUNNING
    stranger = Principal(name="sam", memberships={"globex": Role.ADMIN})
    with pytest.raises(service_errors.NotFound, match=f"^no execution {running}$"):
        executions.get(conn.db, stranger, running)
    with pytest.raises(service_errors.NotFound, match=r"^no execution nope$"):
        executions.get(conn.db, ADMIN, "nope")
    assert executions.search(conn.db, stranger, executions.ExecutionFilter()).total == 0
    assert executions.search(conn.db, VIEWER, executions.ExecutionFilter()).total == 1


def test_a_replay_from_an_unknown_task_is_not_found(conn):
    failed = _execution(conn, State.FAILED)
    with pytest.raises(executions.TaskNotFound, match=r"^task 'zz' is not in flow acme/"):
        executions.replay(conn, OPERATOR, failed, "zz")


def test_saving_a_flow_under_another_name_is_a_conflict_and_views_feed_the_api_bodies(conn):
    flow_id = unique("f")
    deployed = flows.save(conn.db, ADMIN, FLOW.format(id=flow_id))
    assert (deployed.status, deployed.revision) == ("created", 1)
    with pytest.raises(service_errors.Conflict, match=f"declares acme/{flow_id}, not acme/other"):
        flows.save(conn.db, ADMIN, FLOW.format(id=flow_id), expected=("acme", "other"))
    view = flows.get(conn.db, VIEWER, "acme", flow_id)
    assert FlowOut.model_validate(view, from_attributes=True).model_dump()["id"] == flow_id
    execution = executions.get(conn.db, VIEWER, _execution(conn, State.RUNNING))
    assert isinstance(execution, ExecutionView)
    body = ExecutionOut.model_validate(execution, from_attributes=True)
    assert body.id == execution.id and len(body.task_runs or []) == len(execution.task_runs or [])


def test_the_api_and_the_studio_services_never_load_the_worker():
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, engine.api.app, engine.services.commands, studio.services.executions; print('engine.runtime.worker' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "False"


def test_a_trigger_writes_its_execution_and_audit_row_without_the_orms_unit_of_work(conn):
    """Two Core inserts in the trigger's one transaction: the ORM's flush of two new objects cost a trigger more
    CPU than its rows. What is read back is what was given, on SQLite and PostgreSQL."""
    flow_id = unique("f")
    flows.save(conn.db, ADMIN, FLOW.format(id=flow_id))
    flushed: list[str] = []  # the new objects each ORM flush wrote

    def before_flush(session, _context, _instances) -> None:
        flushed.extend(type(instance).__name__ for instance in session.new)

    event.listen(Session, "before_flush", before_flush)
    try:
        started = executions.start(conn, OPERATOR, "acme", flow_id, labels={"team": "sales"}, trigger={"type": "api"})
    finally:
        event.remove(Session, "before_flush", before_flush)
    assert flushed == []
    with Session(conn.db) as session:
        row = session.get(Execution, started.id)
        (ran,) = audit.events(session, "acme", actor="api", limit=1)
    assert (row.namespace, row.flow_id, row.state, row.labels, row.trigger) == (
        "acme", flow_id, "CREATED", {"team": "sales"}, {"type": "api"}
    )  # fmt: skip
    assert (row.inputs, row.outputs, row.secret_inputs, row.runs_created) == ({}, {}, None, 0)
    assert ExecutionView.of(row, []) == started  # the answer given is the row as read
    assert (ran.action, ran.target_id, ran.details) == ("ran", started.id, {"flow": flow_id, "revision": 1})
