"""Claiming an attempt is the one guard against running a task twice: a compare-and-set in the database."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select, update

from engine.core.states import InvalidTransition, State
from engine.store import executions as store
from engine.store.database import session_scope
from engine.store.tables import Execution, TaskRun


def _queued_run(database) -> str:
    with session_scope(database) as session:
        session.add(Execution(id="e1", namespace="acme", flow_id="f", flow_revision=1, state="RUNNING"))
        session.flush()
        session.add(TaskRun(id="r1", execution_id="e1", namespace="acme", flow_id="f", task_id="t", state="QUEUED"))
    return "r1"


def _claim(database, run_id: str, attempt: int | None) -> int | None:
    with session_scope(database) as session:
        run = store.claim_attempt(session, run_id, "worker:test:1", attempt)
        return run.attempt_count if run else None


def test_a_job_for_an_attempt_already_claimed_does_nothing(database):
    run_id = _queued_run(database)
    assert _claim(database, run_id, 1) == 1
    assert _claim(database, run_id, 1) is None  # the same job sent again while the first one runs
    with session_scope(database) as session:  # attempt 1 failed; the retry policy queues attempt 2
        session.execute(update(TaskRun).where(TaskRun.id == run_id).values(state=State.QUEUED.value))
    assert _claim(database, run_id, 1) is None  # a stale job of attempt 1 must not start attempt 2
    assert _claim(database, run_id, 2) == 2
    assert _claim(database, run_id, 2) is None


def test_a_job_without_an_attempt_number_takes_the_next_one(database):
    """Jobs enqueued before jobs carried their attempt number still run."""
    run_id = _queued_run(database)
    assert _claim(database, run_id, None) == 1
    assert _claim(database, run_id, None) is None


def test_an_attempt_ends_only_in_a_state_the_transition_table_allows(database):
    """The compare-and-sets write transitions of engine/core/states.py; an end the table forbids is refused
    before anything is written."""
    run_id = _queued_run(database)
    assert _claim(database, run_id, 1) == 1
    with session_scope(database) as session:
        run = session.get(TaskRun, run_id)
        with pytest.raises(InvalidTransition, match="cannot go from RUNNING to SKIPPED"):
            store.finish_attempt(session, run, State.SKIPPED, outputs={}, error=None)
    with session_scope(database) as session:
        assert session.get(TaskRun, run_id).state == State.RUNNING.value
        assert store.finish_attempt(session, session.get(TaskRun, run_id), State.SUCCESS, outputs={}, error=None)
    with session_scope(database) as session:
        assert session.get(TaskRun, run_id).state == State.SUCCESS.value


def test_only_recoverable_transactions_commit_without_waiting_for_the_disk(database):
    """On PostgreSQL a recoverable transaction (an advance, a claim) commits with synchronous_commit off, for itself
    alone; every other commit waits for the WAL flush. SQLite is left as it is (WAL, synchronous=NORMAL)."""
    seen: list[str] = []

    def at_commit(connection) -> None:
        if connection.dialect.name == "postgresql":
            seen.append(connection.exec_driver_sql("SHOW synchronous_commit").scalar())
        else:
            seen.append(str(connection.exec_driver_sql("PRAGMA synchronous").scalar()))

    event.listen(database, "commit", at_commit)
    try:
        for recoverable in (True, False, True):
            with session_scope(database, recoverable=recoverable) as session:
                session.execute(select(1))
        with session_scope(database) as session:  # a plain one after them: the setting did not stay
            session.execute(select(1))
    finally:
        event.remove(database, "commit", at_commit)
    if database.dialect.name == "postgresql":
        assert seen == ["off", "on", "off", "on"]
    else:
        assert seen == ["1"] * 4  # NORMAL
