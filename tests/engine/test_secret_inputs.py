"""SECRET inputs: stored encrypted like namespace secrets, shown as ``****``, decrypted only to render a task,
and masked in whatever the executor writes (outputs, conditions, subflow inputs). Real databases (SQLite, and
PostgreSQL when reachable); the runs through a real executor and workers are in test_secret_inputs_runs.py."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import command
from sqlmodel import Session

from engine.core.progress import ExecutionView, Snapshot, StartSubflow, advance, context_for
from engine.core.states import State
from engine.flows.loader import load_flow_or_raise
from engine.identity.crypto import generate_key, key_from_text
from engine.runtime import scheduler
from engine.runtime.connection import connect
from engine.services import commands, execution_start, snapshots
from engine.services.flow_deploy import deploy_flow
from engine.store import executions as store
from engine.store.database import alembic_config, open_database, session_scope
from engine.workspace import secrets

VALUE = "hunter2-very-secret-value"
FLOW = """\
id: login
namespace: acme
inputs:
  - {id: password, type: SECRET}
  - {id: user, type: STRING}
  - {id: spare, type: SECRET, required: false}
tasks:
  - {id: say, type: log, message: "{{ inputs.user }}"}
"""


def _raw_rows(db: sa.Engine) -> str:
    with db.connect() as connection:
        return repr(connection.execute(sa.text("SELECT * FROM execution")).all())


def test_a_secret_input_is_stored_encrypted_shown_as_mask_and_decrypted_to_render(database, key):
    with session_scope(database) as session:
        deploy_flow(session, FLOW)
        execution = execution_start.create_execution(
            session, "acme", "login", inputs={"password": VALUE, "user": "ann"}
        )
        execution_id = execution.id
    assert VALUE not in _raw_rows(database)
    with Session(database) as session:
        row = store.get_execution(session, execution_id)
        assert row.inputs == {"password": "****", "user": "ann", "spare": None}
        assert set(row.secret_inputs) == {"password"}
        assert row.secret_inputs["password"]["keyId"] == key_from_text(key).key_id
        snapshot = snapshots.load_snapshot(session, execution_id, dt.datetime.now(dt.UTC))
    assert context_for(snapshot)["inputs"] == {"password": VALUE, "user": "ann", "spare": None}
    assert VALUE in snapshot.seen_secrets  # so the worker masks it in the task's logs and outputs


def test_a_replay_is_created_with_the_secret_value_sealed_again(database, key, redis_server):
    with session_scope(database) as session:
        deploy_flow(session, FLOW)
        original = execution_start.create_execution(
            session, "acme", "login", inputs={"password": VALUE, "user": "ann"}
        ).id
    replay_id = commands.replay_execution(commands.Connections(database, connect(redis_server)), original, "say")
    assert VALUE not in _raw_rows(database)
    with Session(database) as session:
        replay = store.get_execution(session, replay_id)
    assert replay.inputs == {"password": "****", "user": "ann", "spare": None}
    assert secrets.open_inputs(replay.secret_inputs) == {"password": VALUE}


def test_the_executor_masks_a_secret_input_it_renders_and_gives_it_to_a_subflow_secret_input():
    flow = load_flow_or_raise(
        "id: f\nnamespace: acme\ninputs:\n  - {id: password, type: SECRET}\ntasks:\n"
        "  - id: check\n    type: if\n    condition: \"{{ inputs.password == '" + VALUE + "' }}\"\n"
        "    then:\n      - {id: call, type: subflow, namespace: acme, flowId: child, wait: false,"
        " inputs: {key: '{{ inputs.password }}', note: 'for {{ inputs.password }}'}}\n"
        "outputs:\n  - {id: leaked, value: 'is {{ inputs.password }}'}\n"
    )
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    execution = ExecutionView("e1", State.CREATED, inputs={"password": "****"})
    snapshot = Snapshot(flow, execution, {}, now, secret_inputs=lambda: {"password": VALUE})
    actions = advance(snapshot)
    runs = {r.task_id: r for r in snapshot.runs.values()}
    assert runs["check"].outputs["condition"] is True  # decided on the real value
    (start,) = [a for a in actions if isinstance(a, StartSubflow)]
    assert start.inputs == {"key": "****", "note": "for ****"}  # what the child's page will show
    assert start.given_inputs == {"key": VALUE, "note": f"for {VALUE}"}  # what the child is created from
    runs["call"].state = State.SUCCESS
    advance(snapshot)
    assert snapshot.execution.state == State.SUCCESS
    assert snapshot.execution.outputs == {"leaked": "is ****"}


def test_a_subflow_keeps_the_secret_in_its_secret_input_and_masks_it_in_the_others(database, key):
    child = "id: child\nnamespace: acme\ninputs:\n  - {id: key, type: SECRET}\n  - {id: note, type: STRING}\n"
    with session_scope(database) as session:
        deploy_flow(session, child + "tasks:\n  - {id: r, type: return, value: x}\n")
        created = execution_start.create_execution(
            session, "acme", "child", inputs={"key": VALUE, "note": f"for {VALUE}"}, mask={VALUE}
        )
        execution_id = created.id
    assert VALUE not in _raw_rows(database)
    with Session(database) as session:
        row = store.get_execution(session, execution_id)
    assert row.inputs == {"key": "****", "note": "for ****"}
    assert secrets.open_inputs(row.secret_inputs) == {"key": VALUE}


def test_rotating_the_key_reencrypts_secret_inputs(database, key):
    with session_scope(database) as session:
        deploy_flow(session, FLOW)
        execution_id = execution_start.create_execution(
            session, "acme", "login", inputs={"password": VALUE, "user": "a"}
        ).id
    new = key_from_text(generate_key())
    with session_scope(database) as session:
        secrets.rotate_key(session, key_from_text(key), new, actor="test")
    with Session(database) as session:
        row = store.get_execution(session, execution_id)
    assert row.secret_inputs["password"]["keyId"] == new.key_id
    assert secrets.open_inputs(row.secret_inputs, lambda: new) == {"password": VALUE}


def test_a_plain_text_secret_input_saved_before_the_upgrade_is_sealed_by_the_migration(database_url, key):
    command.upgrade(alembic_config(database_url), "0008")
    old = sa.create_engine(database_url)
    with Session(old) as session:
        deploy_flow(session, FLOW)
        session.commit()
    with old.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO execution (id, namespace, flow_id, flow_revision, state, inputs, outputs, labels, "
                "created_at, updated_at, held) VALUES ('old', 'acme', 'login', 1, 'SUCCESS', :inputs, '{}', '{}', "
                ":now, :now, false)"
            ),
            {"inputs": f'{{"password": "{VALUE}", "user": "ann"}}', "now": dt.datetime(2026, 1, 1)},
        )
    old.dispose()
    upgraded = open_database(database_url)
    try:
        assert VALUE not in _raw_rows(upgraded)
        with Session(upgraded) as session:
            row = store.get_execution(session, "old")
            assert row.inputs == {"password": "****", "user": "ann"}
            snapshot = snapshots.load_snapshot(session, "old", dt.datetime.now(dt.UTC))
        assert context_for(snapshot)["inputs"]["password"] == VALUE  # it still runs (a replay) with its value
    finally:
        upgraded.dispose()


def test_a_backfill_keeps_its_secret_input_encrypted_until_each_run_is_created(database, key, redis_server):
    flow = FLOW + "triggers:\n  - {id: daily, type: schedule, cron: '0 6 * * *'}\n"
    with session_scope(database) as session:
        deploy_flow(session, flow)
    start, end = dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.datetime(2026, 1, 1, 23, tzinfo=dt.UTC)
    given = {"password": VALUE, "user": "ann"}
    asked = scheduler.start_backfill(database, "acme", "login", "daily", start, end, given)
    assert asked["inputs"] == {"password": "****", "user": "ann"}
    with database.connect() as connection:
        assert VALUE not in repr(connection.execute(sa.text("SELECT * FROM trigger_state")).all())
    (execution_id,) = scheduler.Scheduler(database, connect(redis_server)).tick()
    assert VALUE not in _raw_rows(database)
    with Session(database) as session:
        fired = store.get_execution(session, execution_id)
    assert fired.inputs["password"] == "****" and secrets.open_inputs(fired.secret_inputs) == {"password": VALUE}


def test_the_migration_adds_the_column_as_the_model_declares(database):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlmodel import SQLModel

    with database.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert [d for d in diff if "secret_inputs" in str(d)] == []
    assert "secret_inputs" in {c["name"] for c in sa.inspect(database).get_columns("execution")}


def test_a_flow_trigger_filling_a_secret_input_stores_it_encrypted(database, key):
    from engine.runtime.flow_triggers import fire_flow_triggers

    down = (
        "id: down\nnamespace: acme\ninputs:\n  - {id: password, type: SECRET}\n"
        "tasks:\n  - {id: r, type: return, value: x}\n"
        "triggers:\n  - id: after\n    type: flow\n    conditions: [{namespace: acme, flowId: up}]\n"
        "    inputs: {password: '{{ trigger.outputs.token }}'}\n"
    )
    with session_scope(database) as session:
        deploy_flow(session, down)
        deploy_flow(session, "id: up\nnamespace: acme\ntasks:\n  - {id: r, type: return, value: x}\n")
        ended = execution_start.create_execution(session, "acme", "up")
        ended.state, ended.outputs = State.SUCCESS.value, {"token": VALUE}  # an output of a run that had no secret
        (started,) = fire_flow_triggers(session, ended)
    with Session(database) as session:
        fired = store.get_execution(session, started)
    assert fired.inputs == {"password": "****"}
    assert secrets.open_inputs(fired.secret_inputs) == {"password": VALUE}


def test_a_schedule_trigger_fills_inputs_from_namespace_secrets_sealed_or_masked(database, key, redis_server):
    flow = FLOW + (
        "triggers:\n  - id: daily\n    type: schedule\n    cron: '0 6 * * *'\n"
        "    inputs: {password: \"{{ secret('PW') }}\", user: \"for {{ secret('PW') }}\"}\n"
    )
    with session_scope(database) as session:
        deploy_flow(session, flow)
        secrets.set_secret(session, "acme", "PW", VALUE)
    start, end = dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.datetime(2026, 1, 1, 23, tzinfo=dt.UTC)
    scheduler.start_backfill(database, "acme", "login", "daily", start, end)
    (execution_id,) = scheduler.Scheduler(database, connect(redis_server)).tick()
    assert VALUE not in _raw_rows(database)
    with Session(database) as session:
        fired = store.get_execution(session, execution_id)
    assert fired.inputs == {"password": "****", "user": "for ****", "spare": None}
    assert secrets.open_inputs(fired.secret_inputs) == {"password": VALUE}
