"""Prefetch (engine/runtime/prefetch.py), with a real Redis, SQLite and RQ's own worker loop in this process: when
jobs wait, a worker claims the next job's run in the transaction that ends the attempt before it, and a worker that
stops between the two gives the run and its job back, losing nothing and counting no attempt."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from sqlalchemy import event

from engine.core.states import State
from engine.runtime import worker as worker_module
from engine.runtime.executor import Executor
from engine.runtime.prefetch import PREFETCH
from engine.runtime.queue import enqueue_runs, task_queue, waiting_in_queue
from engine.services import commands
from engine.services.connections import Connections
from engine.services.flow_deploy import deploy_flow
from engine.store import executions as store
from engine.store.database import open_database, session_scope

RUNS = 6
FLOW = "id: fan\nnamespace: acme\ntasks:\n  - id: all\n    type: parallel\n    tasks:\n" + "".join(
    f"      - {{id: t{i}, type: return, value: {i}}}\n" for i in range(RUNS)
)


@pytest.fixture
def engine(tmp_path, monkeypatch, redis_server) -> Iterator[Connections]:
    url = f"sqlite:///{tmp_path / 'prefetch.db'}"
    monkeypatch.setenv("LANNER_DATABASE_URL", url)
    db = open_database(url)
    monkeypatch.setattr(worker_module, "_database", db)  # the worker's own connection: the one watched here
    r = redis.Redis.from_url(redis_server)
    r.flushdb()
    with session_scope(db) as session:
        deploy_flow(session, FLOW)
    yield Connections(db, r)
    PREFETCH.attach(None)
    db.dispose()


def _queued(engine: Connections) -> str:
    """An execution whose task runs all wait in the queue."""
    execution_id = commands.start_execution(engine, "acme", "fan")
    executor = Executor(engine.db, engine.redis)
    for _ in range(5):  # the parallel task starts, then its tasks
        if len(task_queue(engine.redis)) == RUNS:
            break
        executor.advance(execution_id)
    assert len(task_queue(engine.redis)) == RUNS
    return execution_id


def _transactions(db) -> list[list[str]]:
    """The statements of each transaction the database commits from now on."""
    done: list[list[str]] = [[]]
    event.listen(db, "before_cursor_execute", lambda *args: done[-1].append(args[2]))
    event.listen(db, "commit", lambda *_: done.append([]))
    return done


def _work(engine: Connections, **options) -> None:
    worker_module.LannerWorker([task_queue(engine.redis)], connection=engine.redis).work(
        burst=True, logging_level="WARNING", **options
    )


def _runs(engine: Connections, execution_id: str) -> dict:
    with session_scope(engine.db) as session:
        return {run.task_id: run for run in store.task_runs(session, execution_id)}


@pytest.mark.parametrize(("prefetch", "claimed_with_an_end"), [("1", RUNS - 1), ("0", 0)])
def test_a_waiting_job_is_claimed_in_the_transaction_that_ends_the_attempt_before_it(
    engine, monkeypatch, prefetch, claimed_with_an_end
):
    monkeypatch.setenv("LANNER_WORKER_PREFETCH", prefetch)
    execution_id = _queued(engine)
    transactions = _transactions(engine.db)
    _work(engine)
    both = [
        statements
        for statements in transactions
        if any(s.startswith("UPDATE task_run_attempt") for s in statements)  # an attempt ends
        and any(s.startswith("INSERT INTO task_run_attempt") for s in statements)  # another starts
    ]
    assert len(both) == claimed_with_an_end  # every run but the first, when prefetching
    runs = _runs(engine, execution_id)
    assert all(runs[f"t{i}"].state == State.SUCCESS and runs[f"t{i}"].attempt_count == 1 for i in range(RUNS))
    assert (
        len(task_queue(engine.redis)) == 0 and engine.redis.llen(task_queue(engine.redis).intermediate_queue_key) == 0
    )


def test_a_worker_that_stops_with_a_claimed_job_in_hand_gives_the_run_and_its_job_back(engine):
    execution_id = _queued(engine)
    transactions = _transactions(engine.db)
    _work(engine, max_jobs=1)  # the first job ends, the second is claimed with it, then the worker stops
    assert any(s.startswith("DELETE FROM task_run_attempt") for t in transactions for s in t)  # handed back
    runs = _runs(engine, execution_id)
    assert [runs[f"t{i}"].state for i in range(RUNS)] == [State.SUCCESS] + [State.QUEUED] * (RUNS - 1)
    assert runs["t1"].attempt_count == 0 and runs["t1"].started_at is None  # as if never claimed
    with session_scope(engine.db) as session:
        assert not store.attempts_of(session, [runs["t1"].id])
    waiting = waiting_in_queue(engine.redis, [(runs[f"t{i}"].id, 1, None) for i in range(1, RUNS)])
    assert waiting == [True] * (RUNS - 1)  # its job back in the queue, with the others
    assert engine.redis.lindex(task_queue(engine.redis).key, 0).decode().startswith(runs["t1"].id)  # at the front

    _work(engine)  # another worker: every run once, none counted twice
    runs = _runs(engine, execution_id)
    assert all(runs[f"t{i}"].state == State.SUCCESS and runs[f"t{i}"].attempt_count == 1 for i in range(RUNS))
    with session_scope(engine.db) as session:
        assert len(store.attempts_of(session, [runs["t1"].id])) == 1


def test_a_prefetched_job_whose_run_waits_no_more_does_nothing(engine):
    """A duplicate job (the executor's sweep sent one again while the first was slow): its claim fails with the
    end of the attempt before it, and the job ends without touching the run."""
    execution_id = _queued(engine)
    first = _runs(engine, execution_id)["t0"]
    _work(engine, max_jobs=1)  # t0 ran; t1 is claimed and handed back
    engine.redis.delete(task_queue(engine.redis).key)
    enqueue_runs(engine.redis, [(_runs(engine, execution_id)["t1"].id, 1, None), (first.id, 1, None)])  # t0's again
    transactions = _transactions(engine.db)
    _work(engine)
    runs = _runs(engine, execution_id)
    assert runs["t0"].attempt_count == 1 and runs["t1"].state == State.SUCCESS
    with session_scope(engine.db) as session:
        assert len(store.attempts_of(session, [first.id])) == 1
    assert sum(s.startswith("INSERT INTO task_run_attempt") for t in transactions for s in t) == 1  # t1's only
    claims = [s for t in transactions for s in t if s.startswith("UPDATE task_run SET") and "RETURNING" in s]
    ends = [t for t in transactions if any(s.startswith("UPDATE task_run_attempt") for s in t)]
    assert len(claims) == 2 and any(claims[1] in t for t in ends)  # t0's claim tried as t1 ended: it failed
