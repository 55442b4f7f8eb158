"""Store reads added so that the studio and the API need no SQL of their own, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy
from sqlalchemy import or_
from sqlmodel import select

from engine.core.states import State
from engine.identity import authz, tokens, users
from engine.identity import sessions as login_sessions
from engine.identity.crypto import SecretKey, generate_key, key_from_text
from engine.identity.policy import Principal, Role
from engine.services.execution_start import create_execution
from engine.services.flow_deploy import deploy_flow
from engine.store import executions, hashed_tokens, namespaces, triggers
from engine.store import secrets as secret_store
from engine.store import variables as variable_store
from engine.store.database import session_scope
from engine.store.tables import (
    ApiToken,
    Execution,
    LoginSession,
    Namespace,
    ShareLink,
    TaskRun,
    TaskRunAttempt,
    TriggerFire,
    utcnow,
)
from engine.workspace import secrets, variables

FLOW = "id: {id}\nnamespace: {namespace}\ntasks:\n  - {{id: r, type: return, value: x}}\n"


def test_namespaces_and_their_counts(database, tmp_path, monkeypatch):
    monkeypatch.setenv("LANNER_HOME", str(tmp_path))
    with session_scope(database) as session:
        for namespace, flow_id in (("acme", "a"), ("acme.sales", "b"), ("acme.sales", "c"), ("other", "d")):
            deploy_flow(session, FLOW.format(id=flow_id, namespace=namespace))
        create_execution(session, "acme.sales", "b")
        create_execution(session, "acme.sales", "c")
        create_execution(session, "other", "d")
    with session_scope(database) as session:
        assert namespaces.namespace_names(session) == ["acme", "acme.sales", "other"]
        assert namespaces.live_flows_per_namespace(session) == {"acme": 1, "acme.sales": 2, "other": 1}
        assert namespaces.executions_per_namespace(session) == {"acme.sales": 2, "other": 1}
        sales = Execution.namespace == "acme.sales"
        assert namespaces.executions_per_namespace(session, sales) == {"acme.sales": 2}
        readable = or_(Namespace.name == "other", Namespace.name.startswith("acme."))
        assert namespaces.namespace_names(session, readable) == ["acme.sales", "other"]


def test_attempts_of_runs_and_the_last_fire_of_a_trigger(database):
    now = utcnow()
    with session_scope(database) as session:
        session.add(Execution(id="e", namespace="n", flow_id="f", flow_revision=1, state="RUNNING"))
        for run_id in ("r1", "r2"):
            session.add(TaskRun(id=run_id, execution_id="e", namespace="n", flow_id="f", task_id="t", state="RUNNING"))
        session.flush()
        for run_id, attempt in (("r1", 1), ("r1", 2), ("r2", 1)):
            session.add(TaskRunAttempt(task_run_id=run_id, attempt=attempt, state="FAILED", started_at=now))
        for key in ("old", "new"):
            triggers.add_trigger_fire(session, "n", "f", "daily", key, "e")
        session.flush()
        for fire in session.exec(select(TriggerFire)):  # the newer fire is the later one, whatever the clock
            fire.created_at = now + dt.timedelta(minutes=5 if fire.key == "new" else 0)
    with session_scope(database) as session:
        assert sorted((a.task_run_id, a.attempt) for a in executions.attempts_of(session, ["r1"])) == [
            ("r1", 1),
            ("r1", 2),
        ]
        assert len(executions.attempts_of(session, ["r1", "r2"])) == 3
        assert triggers.last_fire(session, "n", "f", "daily").key == "new"
        assert triggers.last_fire(session, "n", "f", "weekly") is None


def test_variables_and_secret_names_along_a_lineage(database):
    key: SecretKey = key_from_text(generate_key())
    with session_scope(database) as session:
        variables.set_variable(session, "acme", "region", "eu")
        variables.set_variable(session, "acme.sales", "region", "fr")
        variables.set_variable(session, "other", "region", "us")
        secrets.set_secret(session, "acme", "TOKEN", "s3cret", key=key)
        secrets.set_secret(session, "other", "TOKEN", "x", key=key)
    lineage = variables.lineage("acme.sales.eu")
    with session_scope(database) as session:
        rows = variable_store.variable_rows_in(session, lineage)
        assert sorted((r.namespace, r.value) for r in rows) == [("acme", "eu"), ("acme.sales", "fr")]
        assert secret_store.secret_names_in(session, lineage) == [("acme", "TOKEN")]


def test_one_lookup_finds_every_kind_of_hashed_token(database):
    with session_scope(database) as session:
        user = users.create_user(session, "ana", "correct horse battery", actor="system")
        session.add(ApiToken(user_id=user.id, name="t", token_hash=hashed_tokens.digest("lnr_a"), prefix="lnr_a"))
        session.add(LoginSession(user_id=user.id, token_hash=hashed_tokens.digest("lss_a"), expires_at=utcnow()))
        session.add(
            ShareLink(
                token_hash=hashed_tokens.digest("lns_a"), kind="flow", namespace="n", target_id="f", created_by="ana"
            )
        )
    with session_scope(database) as session:
        assert hashed_tokens.find_by_token(session, ApiToken, "lnr_a").name == "t"
        assert hashed_tokens.find_by_token(session, LoginSession, "lss_a").user_id == user.id
        assert hashed_tokens.find_by_token(session, ShareLink, "lns_a").target_id == "f"
        assert hashed_tokens.find_by_token(session, ApiToken, "lnr_b") is None
        assert hashed_tokens.find_by_token(session, ApiToken, "lss_a") is None  # a session token is no API token


def test_who_a_token_or_cookie_names_is_read_in_one_statement_with_their_roles(database):
    """Every API call asks who calls: the token's row, its user and their roles come in one statement (three ORM
    reads cost each call 0.8 ms of CPU more); its last use is written once a minute, not on every call."""
    with session_scope(database) as session:
        ana = users.create_user(session, "ana", "correct horse battery", actor="system")
        bob = users.create_user(session, "bob", "correct horse battery", actor="system")
        users.grant(session, ana, "acme", "editor", actor="system")
        users.grant(session, ana, "beta.sub", "viewer", actor="system")
        _, ana_plain = tokens.create_token(session, ana, "ci", actor="ana")
        _, bob_plain = tokens.create_token(session, bob, "ci", actor="bob")
        _, cookie = login_sessions.open_session(session, ana)
    ana_principal = Principal("ana", memberships={"acme": Role.EDITOR, "beta.sub": Role.VIEWER})
    statements: list[str] = []

    def count(_connection, _cursor, statement, *_) -> None:
        statements.append(statement)

    with session_scope(database) as session:  # their first use is written
        assert authz.principal_from(session, bearer=ana_plain) == ana_principal
        assert authz.principal_from(session, bearer=bob_plain) == Principal("bob")
    with session_scope(database) as session:
        assert all(token.last_used_at is not None for token in session.exec(select(ApiToken)))
    sqlalchemy.event.listen(database, "before_cursor_execute", count)
    try:
        for who, expected in (
            ({"bearer": ana_plain}, ana_principal),
            ({"bearer": bob_plain}, Principal("bob")),  # no role anywhere
            ({"cookie": cookie}, ana_principal),
        ):
            with session_scope(database) as session:
                statements.clear()
                assert authz.principal_from(session, **who) == expected
                assert len(statements) == 1, statements
    finally:
        sqlalchemy.event.remove(database, "before_cursor_execute", count)


def test_an_execution_and_its_runs_read_while_it_advances_agree(database):
    """The executor ends a run and the execution between the reads of the execution and of its runs: the answer is
    read again, never the old RUNNING execution above an ended run (nor an ended execution above running runs)."""
    with session_scope(database) as session:
        session.add(Execution(id="e", namespace="n", flow_id="f", flow_revision=1, state="RUNNING"))
        session.flush()
        session.add(TaskRun(id="r", execution_id="e", namespace="n", flow_id="f", task_id="t", state="RUNNING"))
    advanced = []

    def advance_meanwhile(connection, _cursor, statement, _parameters, _context, _many):
        if advanced or "FROM task_run" not in statement or connection is not advancing:
            return
        advanced.append(statement)
        with session_scope(database) as other:  # another process' commit, between the two reads
            other.get(TaskRun, "r").state = "SUCCESS"
            execution = other.get(Execution, "e")
            execution.state, execution.updated_at = "SUCCESS", utcnow()

    advancing = None
    sqlalchemy.event.listen(database, "before_cursor_execute", advance_meanwhile)
    try:
        with session_scope(database) as session:
            advancing = session.connection()  # only the reader's statements advance the execution
            execution, runs = executions.execution_with_runs(session, "e")
    finally:
        sqlalchemy.event.remove(database, "before_cursor_execute", advance_meanwhile)
    assert advanced  # the advance did happen between the reads
    assert (execution.state, [run.state for run in runs]) == ("SUCCESS", ["SUCCESS"])


def test_the_database_counts_the_task_runs_created_for_an_execution_whoever_inserts_them(database):
    """What a snapshot compares with the runs it holds (engine/services/snapshots.py): the trigger counts runs
    inserted in bulk (the executor), one by one through the ORM (a working-directory group, a restart's copies), for
    each execution apart; deleting runs leaves the count (a snapshot compares growth) and raises the generation."""
    with session_scope(database) as session:
        for execution_id in ("e", "other"):
            session.add(Execution(id=execution_id, namespace="n", flow_id="f", flow_revision=1, state="RUNNING"))
        session.flush()
        row = dict(namespace="n", flow_id="f", task_id="t", state="SUCCESS", kind="worker", attempt_count=1,
                   retryable=True, created_at=utcnow(), outputs={})  # fmt: skip
        executions.add_task_runs(session, [{**row, "id": f"r{i}", "execution_id": "e"} for i in range(3)])
        executions.add_task_runs(session, [{**row, "id": "o1", "execution_id": "other"}])
        executions.add_task_run(
            session, TaskRun(id="r3", execution_id="e", namespace="n", flow_id="f", task_id="u", state="QUEUED")
        )
        session.flush()
    with session_scope(database) as session:
        executions.delete_task_runs(session, ["r0"])
    with session_scope(database) as session:
        e, other = (executions.execution_row(session, execution_id) for execution_id in ("e", "other"))
        assert (e.runs_created, e.runs_generation, other.runs_created, other.runs_generation) == (4, 1, 1, 0)
        assert executions.changed_task_runs(session, "e", [], utcnow(), ["n"])[1] == 4


def test_every_change_to_a_task_run_raises_its_version_once_whoever_makes_it(database):
    """What a snapshot compares to know an unsettled run changed (engine/services/snapshots.py): the store's own
    statements raise it themselves, a change any other way (the ORM, plain SQL) is raised by a trigger, and a change
    is counted once, never twice."""
    with session_scope(database) as session:
        session.add(Execution(id="e", namespace="n", flow_id="f", flow_revision=1, state="RUNNING"))
        session.flush()
        row = dict(namespace="n", flow_id="f", task_id="t", kind="worker", attempt_count=0, retryable=True,
                   created_at=utcnow(), outputs={}, execution_id="e")  # fmt: skip
        executions.add_task_runs(
            session, [{**row, "id": "r", "state": "QUEUED"}, {**row, "id": "q", "state": "QUEUED"}]
        )

    def version() -> int:
        with session_scope(database) as session:
            return {run.id: run.version for run in executions.task_run_rows(session, "e")}["r"]

    changes = [
        lambda session: executions.claim_attempt(session, "r", "worker-1"),
        lambda session: executions.finish_attempt(
            session, executions.task_runs_by_id(session, ["r"])[0], State.FAILED, outputs={}, error="boom"
        ),
        lambda session: executions.change_task_runs_each(session, {"r": {"state": "QUEUED", "error": None}}),
        lambda session: executions.change_task_run(session, "r", {"next_attempt_at": utcnow()}),
        lambda session: setattr(session.get(TaskRun, "r"), "error", "by the ORM"),
        lambda session: session.connection().execute(
            sqlalchemy.text("UPDATE task_run SET error = 'plain' WHERE id = 'r'")
        ),
    ]
    assert version() == 0
    for expected, change in enumerate(changes, start=1):
        with session_scope(database) as session:
            change(session)
        assert version() == expected
    with session_scope(database) as session:  # only the unsettled runs whose version is not the one given
        rows, created, _ = executions.changed_task_runs(session, "e", [], utcnow(), known=[("r", 6), ("q", 0)])
        assert (rows, created) == ([], 2)
        rows, _, _ = executions.changed_task_runs(session, "e", [], utcnow(), known=[("r", 5), ("q", 0)])
        assert [(run.id, run.version, run.error) for run in rows] == [("r", 6, "plain")]
        # However many runs a snapshot names (a foreach over thousands), each list is sent as one value: over
        # SQLite's 32,766 parameters, it is still one statement, and still exact.
        many = [(f"other-{number}", 0) for number in range(40_000)]
        rows, created, _ = executions.changed_task_runs(session, "e", [], utcnow(), known=[*many, ("q", 0)])
        assert ([run.id for run in rows], created) == (["r"], 2)
        session.connection().execute(sqlalchemy.text("UPDATE task_run SET state = 'SUCCESS' WHERE id = 'q'"))
        rows, _, _ = executions.changed_task_runs(session, "e", [f"other-{n}" for n in range(40_000)], utcnow())
        assert [run.id for run in rows] == ["r"]  # q settled, but not among the ones named
        rows, _, _ = executions.changed_task_runs(session, "e", [*(r for r, _ in many), "q"], utcnow())
        assert sorted(run.id for run in rows) == ["q", "r"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_snapshot_reads_its_own_executions_runs_whatever_the_history_holds(database):
    """The read every advance and every attempt makes (engine/services/snapshots.py) finds its rows by the index of
    the execution's runs or by primary key, never along an index that holds other executions' runs: one that walked
    the settled runs of every execution cost each task 1.3 ms at 8,000 runs in the table, and grew with the history.
    EXPLAIN QUERY PLAN on SQLite (PostgreSQL plans by its statistics, and took the primary key there too)."""
    with session_scope(database) as session:
        for execution_id in ("e", "old"):
            session.add(Execution(id=execution_id, namespace="n", flow_id="f", flow_revision=1, state="RUNNING"))
        session.flush()
        row = dict(namespace="n", flow_id="f", task_id="t", kind="worker", attempt_count=1, retryable=True,
                   created_at=utcnow(), outputs={})  # fmt: skip
        history = [{**row, "id": f"old-{n}", "execution_id": "old", "state": "SUCCESS"} for n in range(200)]
        executions.add_task_runs(session, [*history, {**row, "id": "r", "execution_id": "e", "state": "RUNNING"}])
    statements: list[tuple[str, object]] = []

    def record(_connection, _cursor, statement, parameters, *_) -> None:
        statements.append((statement, parameters))

    sqlalchemy.event.listen(database, "before_cursor_execute", record)
    try:
        with session_scope(database) as session:  # an advance's read (with the group) and a worker's
            executions.changed_task_runs(session, "e", ["r", "old-1"], utcnow(), ["n"], known=[("r", 0)])
            executions.changed_task_runs(session, "e", ["r"], utcnow(), known=[("r", 1)])
    finally:
        sqlalchemy.event.remove(database, "before_cursor_execute", record)
    reads = [(s, p) for s, p in statements if "FROM task_run" in s]
    assert len(reads) == 2
    with database.connect() as connection:
        for statement, parameters in reads:
            plan = [d for *_, d in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)]
            steps = [d for d in plan if d.startswith(("SCAN task_run", "SEARCH task_run"))]
            assert len(steps) == 3, plan
            own = ("ix_task_run_execution_state (execution_id=?", "sqlite_autoindex_task_run_1 (id=?)")
            assert all(any(index in step for index in own) for step in steps), plan
