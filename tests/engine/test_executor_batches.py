"""When events pile up, the executor advances several executions in one transaction and sends their words in one
round trip (engine/runtime/executor.py ``advance_together``); one that fails fails alone. Real Redis, real
SQLite and PostgreSQL, the executor driven in this process."""

from __future__ import annotations

import logging
import threading
import time

import pytest
import redis
from rq import Queue
from sqlalchemy import event
from sqlmodel import select

from engine.core import progress
from engine.core.states import State
from engine.runtime import events
from engine.runtime import executor as executor_module
from engine.runtime.connection import connect
from engine.runtime.executor import Executor
from engine.runtime.purge import PURGE_KEY
from engine.runtime.queue import TASK_QUEUE
from engine.runtime.sent_ahead import SentAhead
from engine.services import commands, retention
from engine.services.connections import Connections
from engine.services.flow_deploy import deploy_flow
from engine.store import executions as store
from engine.store.database import session_scope
from engine.store.tables import TaskRun, utcnow
from tests.support.ids import unique


@pytest.fixture
def setup(database, redis_server):
    r = connect(redis_server)
    r.flushdb()
    events.ensure_group(r)
    namespace = unique("ns")
    with session_scope(database) as session:
        deploy_flow(session, f"id: one\nnamespace: {namespace}\ntasks:\n  - {{id: only, type: return, value: 1}}\n")
    executor = Executor(database, r, name=unique("executor"))
    yield database, r, Connections(database, r), namespace, executor
    r.flushdb()


def _commits(database) -> list[int]:
    counted = [0]

    def commit(_connection) -> None:
        counted[0] += 1

    event.listen(database, "commit", commit)
    return counted


def _runs(database, execution_ids: list[str]) -> dict[str, list[TaskRun]]:
    with session_scope(database) as session:
        rows = list(session.exec(select(TaskRun).where(TaskRun.execution_id.in_(execution_ids))))
    return {execution_id: [row for row in rows if row.execution_id == execution_id] for execution_id in execution_ids}


def test_executions_started_together_are_advanced_in_one_transaction(setup, monkeypatch):
    database, r, connections, namespace, executor = setup
    monkeypatch.setattr(executor_module, "TRANSACTION_SECONDS", 60.0)  # however slow this machine is now
    started = [commands.start_execution(connections, namespace, "one") for _ in range(6)]
    commits = _commits(database)
    assert executor.process(block_ms=10) == 6
    # one for the turns (fair_share.take_turns reads), one for the six advances
    assert commits[0] <= 2
    runs = _runs(database, started)
    assert all(len(found) == 1 and found[0].state == "QUEUED" for found in runs.values())
    assert len(Queue(TASK_QUEUE, connection=r)) == 6  # the jobs, sent after the commit
    assert r.xpending(events.EVENTS, events.EXECUTORS_GROUP)["pending"] == 0  # every event acknowledged


def test_a_transaction_takes_no_more_executions_once_open_its_time(setup, monkeypatch):
    """It holds SQLite's one write lock: the API and the workers wait for it."""
    database, _r, connections, namespace, executor = setup
    monkeypatch.setattr(executor_module, "TRANSACTION_SECONDS", 0.0)
    started = [commands.start_execution(connections, namespace, "one") for _ in range(4)]
    commits = _commits(database)
    assert executor.process(block_ms=10) == 4
    assert commits[0] == 1 + 4  # the turns, then one transaction each
    assert all(len(found) == 1 for found in _runs(database, started).values())


def test_one_advance_that_fails_leaves_the_others_advanced_and_is_tried_again(setup, monkeypatch, caplog):
    database, r, connections, namespace, executor = setup
    started = [commands.start_execution(connections, namespace, "one") for _ in range(4)]
    broken = started[2]
    real_advance = progress.advance

    def advance(snapshot):
        if snapshot.execution.id == broken:
            raise RuntimeError("a fault in this one execution")
        return real_advance(snapshot)

    monkeypatch.setattr(progress, "advance", advance)
    with caplog.at_level(logging.ERROR, logger="lanner.executor"):
        assert executor.process(block_ms=10) == 4
    runs = _runs(database, started)
    assert [len(runs[execution_id]) for execution_id in started] == [1, 1, 0, 1]
    assert any(broken in record.getMessage() and record.exc_info for record in caplog.records)
    assert r.zscore(events.TIMERS, broken) is not None  # looked at again in two seconds

    monkeypatch.setattr(progress, "advance", real_advance)  # the fault is gone: its wake-up advances it
    assert executor.advance(broken) is True
    assert len(_runs(database, [broken])[broken]) == 1


def test_an_execution_another_executor_holds_is_looked_at_again_and_the_rest_advance(setup):
    database, r, connections, namespace, executor = setup
    started = [commands.start_execution(connections, namespace, "one") for _ in range(3)]
    r.set(f"lanner:lock:{started[1]}", "another executor", px=30_000)
    outcomes = executor.advance_together(started)
    assert outcomes == {started[0]: True, started[1]: False, started[2]: True}
    assert r.get(f"lanner:lock:{started[1]}") == b"another executor"  # not released by this one
    assert not r.exists(f"lanner:lock:{started[0]}") and not r.exists(f"lanner:lock:{started[2]}")
    assert [len(found) for found in _runs(database, started).values()] == [1, 0, 1]


def test_a_batch_that_ends_one_execution_and_starts_another_sends_both(setup):
    """The words of an execution that ends come before the job of the next one in the batch's one pipeline."""
    database, r, connections, namespace, executor = setup
    ending = commands.start_execution(connections, namespace, "one")
    assert executor.process(block_ms=10) == 1
    run = _runs(database, [ending])[ending][0]
    with session_scope(database) as session:
        claimed = store.claim_attempt(session, run.id, "a worker", 1)
        store.finish_attempt(session, claimed, State.SUCCESS, outputs={"value": 1}, error=None)
    Queue(TASK_QUEUE, connection=r).empty()
    events.publish_event(r, ending)
    starting = commands.start_execution(connections, namespace, "one")
    assert executor.process(block_ms=10) == 2
    with session_scope(database) as session:
        assert store.get_execution(session, ending).state == "SUCCESS"
    assert [len(found) for found in _runs(database, [starting]).values()] == [1]
    assert Queue(TASK_QUEUE, connection=r).job_ids == [f"{_runs(database, [starting])[starting][0].id}_1"]


def test_a_timer_due_is_advanced_ahead_of_the_events_waiting_in_the_stream(setup, monkeypatch):
    """A retry's or a pause's timer does not join the end of a backlog: it is advanced in the next round."""
    database, r, connections, namespace, _ = setup
    monkeypatch.setattr(executor_module, "TIMER_SECONDS", 0.0)
    executor = Executor(database, r, name=unique("executor"), sweep_interval=3600)
    executor.tick()  # its first sweep, now: the next is an hour away
    waking = commands.start_execution(connections, namespace, "one")
    assert executor.process(block_ms=10) == 1
    run = _runs(database, [waking])[waking][0]
    with session_scope(database) as session:  # its task ended, and no event said so: only its timer will
        claimed = store.claim_attempt(session, run.id, "a worker", 1)
        store.finish_attempt(session, claimed, State.SUCCESS, outputs={"value": 1}, error=None)
    backlog = [commands.start_execution(connections, namespace, "one") for _ in range(3)]
    events.schedule_wakeup(r, waking, utcnow())
    executor.tick()
    assert r.zscore(events.TIMERS, waking) is None  # taken
    assert executor.process(block_ms=10, count=1) == 2  # the timer's execution, then one event of the backlog
    with session_scope(database) as session:
        assert store.get_execution(session, waking).state == "SUCCESS"
    assert [len(found) for found in _runs(database, backlog).values()] == [1, 0, 0]  # the rest wait their turn
    assert executor.process(block_ms=10) == 2
    executor.close()  # its first sweep's purge


def test_an_advance_sends_its_jobs_words_and_lock_release_in_one_round_trip(setup, monkeypatch):
    """The lock is asked for ahead (its answer read before the commit), then one round trip per commit: the last
    carries the release and the acknowledgement too."""
    _database, r, connections, namespace, executor = setup
    started = commands.start_execution(connections, namespace, "one")
    sent: list[list[str]] = []  # the commands of each pipeline, as they go
    asked: list[list[str]] = []  # the commands sent ahead
    send, ask = redis.client.Pipeline.execute, SentAhead.__init__

    def execute(pipe, *args, **kwargs):
        sent.append([str(command[0][0]).upper() for command in pipe.command_stack])
        return send(pipe, *args, **kwargs)

    def ask_ahead(self, client, commands, **kwargs):
        asked.append([str(command[0]).upper() for command in commands])
        ask(self, client, commands, **kwargs)

    monkeypatch.setattr(redis.client.Pipeline, "execute", execute)
    monkeypatch.setattr(SentAhead, "__init__", ask_ahead)
    assert executor.process(block_ms=10) == 1
    assert asked == [["SET"]]
    (words,) = sent
    assert "HSET" in words and words[-2:] == ["EVAL", "XACK"]  # the job, then the release and the acknowledgement
    assert not r.exists(f"lanner:lock:{started}")
    assert r.xpending(events.EVENTS, events.EXECUTORS_GROUP)["pending"] == 0
    assert len(Queue(TASK_QUEUE, connection=r)) == 1


def test_one_execution_is_decided_while_its_lock_travels_and_kept_only_if_held(setup, monkeypatch):
    """A chain's next step: the lock's answer is read after the decision, before the commit. Held by another
    executor, the decision is rolled back and the lock left alone; free, the advance commits."""
    database, r, connections, namespace, executor = setup
    started = commands.start_execution(connections, namespace, "one")
    order: list[str] = []
    answers, decide = SentAhead.answers, Executor._decide

    def read_answers(self):
        order.append("lock answered")
        return answers(self)

    def decided(self, session, execution_id):
        advanced = decide(self, session, execution_id)
        order.append("decided")
        return advanced

    monkeypatch.setattr(SentAhead, "answers", read_answers)
    monkeypatch.setattr(Executor, "_decide", decided)
    r.set(f"lanner:lock:{started}", "another executor", px=30_000)
    assert executor.advance_together([started]) == {started: False}
    assert order == ["decided", "lock answered"]
    assert r.get(f"lanner:lock:{started}") == b"another executor"  # not released by this one
    assert _runs(database, [started])[started] == []  # nothing of the decision kept
    assert len(Queue(TASK_QUEUE, connection=r)) == 0

    r.delete(f"lanner:lock:{started}")
    assert executor.advance_together([started]) == {started: True}
    assert [run.state for run in _runs(database, [started])[started]] == ["QUEUED"]
    assert not r.exists(f"lanner:lock:{started}")


def test_redis_gone_while_a_lock_travels_stops_the_advance_and_keeps_nothing(setup, monkeypatch):
    """The loop waits for Redis as for any of its calls; the decision is not committed without the lock."""
    database, r, connections, namespace, executor = setup
    started = commands.start_execution(connections, namespace, "one")

    def lost(self):
        raise redis.ConnectionError("Redis went away")

    monkeypatch.setattr(SentAhead, "answers", lost)
    with pytest.raises(redis.ConnectionError):
        executor.advance_together([started])
    assert _runs(database, [started])[started] == []
    monkeypatch.undo()
    assert not r.exists(f"lanner:lock:{started}")  # let go of as the advance ended, though never answered
    assert executor.advance_together([started]) == {started: True}


def test_a_slow_purge_runs_beside_the_loop_one_at_a_time(setup, monkeypatch):
    """Expired executions and closed days' summaries never hold up advancing executions."""
    _database, r, connections, namespace, _ = setup
    r.delete(PURGE_KEY)
    executor = Executor(_database, r, name=unique("executor"), purge_interval=0)  # due at every sweep
    go_on, purges = threading.Event(), []
    purge = retention.purge_expired

    def slow_purge(*args, **kwargs):
        purges.append(threading.current_thread().name)
        go_on.wait(30)
        return purge(*args, **kwargs)

    monkeypatch.setattr(retention, "purge_expired", slow_purge)
    began = time.monotonic()
    executor.sweep()
    executor.sweep()  # the first purge still runs: no second beside it
    started = commands.start_execution(connections, namespace, "one")
    assert executor.process(block_ms=10) == 1  # advanced while the purge waits
    assert time.monotonic() - began < 10
    assert [len(found) for found in _runs(_database, [started]).values()] == [1]
    go_on.set()
    executor.close()
    assert purges == ["lanner-purge"]
