"""SECRET values given after an execution started: a pause's ``onResume`` answers and a backfill's inputs.

Both are stored encrypted like SECRET inputs (engine/workspace/secrets.py), shown as ``****``, re-encrypted by a key
rotation, and opened only to render the tasks (or create the runs) that use them. Real databases (SQLite, and
PostgreSQL when reachable); the runs through the real API, executor, workers and scheduler are in
tests/engine/api/test_secret_resume_api.py.
"""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa
from alembic import command
from sqlmodel import Session

from engine.core.progress import context_for
from engine.core.states import State
from engine.identity.crypto import generate_key, key_from_text
from engine.runtime import scheduler
from engine.runtime.connection import connect
from engine.services import commands
from engine.services.execution_start import create_execution
from engine.services.flow_deploy import deploy_flow
from engine.services.snapshots import load_snapshot
from engine.store import executions as store
from engine.store.database import alembic_config, open_database, session_scope
from engine.store.tables import TaskRun, TriggerState
from engine.workspace import secrets

VALUE = "hunter2-very-secret-value"
GATE = """\
id: gate
namespace: acme
inputs:
  - {id: password, type: SECRET, required: false}
tasks:
  - id: approve
    type: pause
    onResume:
      - {id: token, type: SECRET}
      - {id: note, type: STRING}
  - {id: back, type: return, value: "{{ outputs.approve.resumed.token }}"}
triggers:
  - {id: daily, type: schedule, cron: '0 6 * * *'}
"""


def _raw(db: sa.Engine, *tables: str) -> str:
    with db.connect() as connection:
        return repr([connection.execute(sa.text(f"SELECT * FROM {table}")).all() for table in tables])


def _paused_execution(db: sa.Engine) -> tuple[str, str]:
    """An execution of GATE whose pause waits (as the executor leaves it): its id and the pause's run id."""
    with session_scope(db) as session:
        deploy_flow(session, GATE)
        execution = create_execution(session, "acme", "gate")
        execution.state = State.RUNNING.value
        run = TaskRun(
            id="pause-run",
            execution_id=execution.id,
            namespace="acme",
            flow_id="gate",
            task_id="approve",
            state=State.PAUSED.value,
            kind="executor",
        )
        session.add(run)
        return execution.id, run.id


def _resume(db: sa.Engine, redis_url: str, execution_id: str) -> None:
    connections = commands.Connections(db, connect(redis_url))
    commands.resume_execution(connections, execution_id, {"token": VALUE, "note": "ok"})


def test_a_secret_resume_answer_is_stored_encrypted_shown_as_mask_and_opened_to_render(database, key, redis_server):
    execution_id, run_id = _paused_execution(database)
    _resume(database, redis_server, execution_id)
    assert VALUE not in _raw(database, "task_run", "execution", "audit_event")
    with Session(database) as session:
        run = session.get(TaskRun, run_id)
        assert run.state == State.SUCCESS.value
        assert run.outputs == {"resumed": {"token": "****", "note": "ok"}}
        assert run.secret_outputs["resumed"]["token"]["keyId"] == key_from_text(key).key_id
        snapshot = load_snapshot(session, execution_id, dt.datetime.now(dt.UTC))
    assert snapshot.runs[run_id].outputs["resumed"]["token"] == "****"  # what the executor would write back
    assert context_for(snapshot)["outputs"]["approve"]["resumed"] == {"token": VALUE, "note": "ok"}
    assert VALUE in snapshot.seen_secrets  # so the worker and the executor mask it in what they write


def test_a_replay_keeps_the_secret_resume_answer_encrypted(database, key, redis_server):
    execution_id, _ = _paused_execution(database)
    _resume(database, redis_server, execution_id)
    replay_id = commands.replay_execution(commands.Connections(database, connect(redis_server)), execution_id, "back")
    assert VALUE not in _raw(database, "task_run")
    with Session(database) as session:
        snapshot = load_snapshot(session, replay_id, dt.datetime.now(dt.UTC))
    assert context_for(snapshot)["outputs"]["approve"]["resumed"]["token"] == VALUE


def test_rotating_the_key_reencrypts_resume_answers_and_backfill_inputs(database, key, redis_server):
    execution_id, run_id = _paused_execution(database)
    _resume(database, redis_server, execution_id)
    start, end = dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.datetime(2026, 1, 1, 23, tzinfo=dt.UTC)
    scheduler.start_backfill(database, "acme", "gate", "daily", start, end, {"password": VALUE})
    new = key_from_text(generate_key())
    with session_scope(database) as session:
        secrets.rotate_key(session, key_from_text(key), new, actor="test")
    with Session(database) as session:
        run = session.get(TaskRun, run_id)
        backfill = session.get(TriggerState, ("acme", "gate", "daily")).data["backfill"]
    assert run.secret_outputs["resumed"]["token"]["keyId"] == new.key_id
    assert secrets.open_inputs(run.secret_outputs["resumed"], lambda: new) == {"token": VALUE}
    assert backfill["secretInputs"]["password"]["keyId"] == new.key_id
    assert secrets.open_inputs(backfill["secretInputs"], lambda: new) == {"password": VALUE}
    assert backfill["inputs"] == {"password": "****"} and backfill["start"] == start.isoformat()


def test_a_backfill_is_shown_without_its_ciphertext(database, key):
    with session_scope(database) as session:
        deploy_flow(session, GATE)
    start, end = dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.datetime(2026, 1, 1, 23, tzinfo=dt.UTC)
    shown = scheduler.start_backfill(database, "acme", "gate", "daily", start, end, {"password": VALUE})
    assert shown["inputs"] == {"password": "****"} and "secretInputs" not in shown
    paused = scheduler.set_backfill_flag(database, "acme", "gate", "daily", paused=True)
    assert paused["paused"] is True and "secretInputs" not in paused
    old = {"inputs": {"password": VALUE}, "total": 1}  # saved in plain text before backfills sealed them
    assert scheduler.backfill_view(old, ["password"]) == {"inputs": {"password": "****"}, "total": 1}


def test_a_backfill_secret_input_reaches_each_run_as_given_never_rendered(database, key, redis_server):
    given = "pa{{ trigger.date }}ss {{ nope( }}"  # a value is data: braces in it are not an expression
    with session_scope(database) as session:
        deploy_flow(session, GATE)
    start, end = dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.datetime(2026, 1, 1, 23, tzinfo=dt.UTC)
    scheduler.start_backfill(database, "acme", "gate", "daily", start, end, {"password": given})
    (execution_id,) = scheduler.Scheduler(database, connect(redis_server)).tick()
    with Session(database) as session:
        fired = store.get_execution(session, execution_id)
    assert fired.inputs == {"password": "****"}
    assert secrets.open_inputs(fired.secret_inputs) == {"password": given}


def test_the_migration_seals_resume_answers_and_backfill_inputs_saved_in_plain_text(database_url, key):
    command.upgrade(alembic_config(database_url), "0010")
    old = sa.create_engine(database_url)
    with Session(old) as session:
        deploy_flow(session, GATE)
        session.commit()
    now = dt.datetime(2026, 1, 1)
    backfill = {"backfill": {"start": "2026-01-01T00:00:00+00:00", "inputs": {"password": VALUE}, "total": 1}}
    with old.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO execution (id, namespace, flow_id, flow_revision, state, inputs, outputs, labels, "
                "created_at, updated_at, held) VALUES ('old', 'acme', 'gate', 1, 'RUNNING', '{}', '{}', '{}', "
                ":now, :now, false)"
            ),
            {"now": now},
        )
        connection.execute(  # a pause answered before the answers were sealed
            sa.text(
                "INSERT INTO task_run (id, execution_id, namespace, flow_id, task_id, state, kind, attempt_count, "
                "retryable, outputs, created_at) VALUES ('r', 'old', 'acme', 'gate', 'approve', 'SUCCESS', "
                "'executor', 0, true, :outputs, :now)"
            ),
            {"outputs": f'{{"resumed": {{"token": "{VALUE}", "note": "ok"}}}}', "now": now},
        )
        connection.execute(
            sa.text(
                "INSERT INTO trigger_state (namespace, flow_id, trigger_id, enabled, data, updated_at) "
                "VALUES ('acme', 'gate', 'daily', true, :data, :now)"
            ),
            {"data": json.dumps(backfill), "now": now},
        )
    old.dispose()
    upgraded = open_database(database_url)
    try:
        assert VALUE not in _raw(upgraded, "task_run", "trigger_state")
        with Session(upgraded) as session:
            run = session.get(TaskRun, "r")
            assert run.outputs == {"resumed": {"token": "****", "note": "ok"}}
            assert secrets.open_inputs(run.secret_outputs["resumed"]) == {"token": VALUE}
            sealed = session.get(TriggerState, ("acme", "gate", "daily")).data["backfill"]
        assert sealed["inputs"] == {"password": "****"}
        assert secrets.open_inputs(sealed["secretInputs"]) == {"password": VALUE}
    finally:
        upgraded.dispose()


def test_the_migration_adds_the_column_as_the_model_declares(database):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlmodel import SQLModel

    with database.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert [d for d in diff if "secret_outputs" in str(d)] == []
    assert "secret_outputs" in {c["name"] for c in sa.inspect(database).get_columns("task_run")}
