"""The executor: advances an execution when one of its task runs changes, and sweeps for what was lost.

Events arrive on a Redis stream read by a consumer group, so several executors share the work; a
per-execution lock serialises advancing one execution. The loop is thin (read, advance, tick); what
to do is decided by ``engine.core.progress``. An event is acknowledged only after its advance committed,
so an executor killed mid-advance leaves it pending, and another (or the restarted one) claims it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from types import SimpleNamespace

import redis
from sqlalchemy import Engine

from engine.core import progress
from engine.core.sandbox import time_budget
from engine.metrics import queues, record
from engine.metrics.log_format import log_context
from engine.runtime import events, fair_share, sla_breaches, worker_groups
from engine.runtime.flow_triggers import fire_flow_triggers
from engine.runtime.lost_work import LostWork
from engine.runtime.purge import Purge
from engine.runtime.queue import enqueue_runs
from engine.runtime.sent_ahead import SentAhead
from engine.services import snapshots
from engine.store import executions as store
from engine.store import namespace_settings
from engine.store.database import session_scope
from engine.store.tables import utcnow

log = logging.getLogger("lanner.executor")
#: All the expressions one advance renders share this many LANNER_EXPRESSION_TIMEOUTs (each has one at most).
EXPRESSIONS_PER_ADVANCE = 5
#: Executions advanced in one transaction when their events pile up, in the order of their turns (fair_share).
ADVANCES_PER_TRANSACTION = 20
TIMER_SECONDS = 0.02  # how often due timers (retries, pause delays, timeouts) are looked for
TRANSACTION_SECONDS = 0.002  # and no more executions join a transaction open this long


@dataclass
class _Advanced:
    """One execution's advance, persisted in a transaction: what to do once it is committed."""

    before: progress.Snapshot
    snapshot: progress.Snapshot
    persisted: snapshots.Persisted
    wakeup: dt.datetime | None
    parent_id: str | None


def _lock_key(execution_id: str) -> str:
    return f"lanner:lock:{execution_id}"


class _Locks:
    """The locks of the executions an advance is about to decide on, asked for without waiting for the answer: an
    advance of one execution reads and decides while it travels (engine/runtime/sent_ahead.py), and learns whether it
    holds the lock just before it commits."""

    def __init__(self, r: redis.Redis, execution_ids: Sequence[str]) -> None:
        self.tokens = {execution_id: uuid.uuid4().hex for execution_id in execution_ids}
        asked = [
            ("SET", _lock_key(execution_id), token, "NX", "PX", 30_000) for execution_id, token in self.tokens.items()
        ]
        self._answers = SentAhead(r, asked)
        self._held: dict[str, str] | None = None

    def held(self) -> dict[str, str]:
        """The executions this executor now holds (another may be advancing the others), with their tokens."""
        if self._held is None:
            answers = self._answers.answers()
            self._held = {e: token for (e, token), ok in zip(self.tokens.items(), answers, strict=True) if ok}
        return self._held

    def to_release(self) -> dict[str, str]:
        """The locks to let go of: those held, or every one asked for when the answer never came (a release deletes
        only a lock its token still holds)."""
        if self._held is None:
            self._answers.discard()
            return self.tokens
        return self._held


@dataclass
class _Release:
    """The locks ``advance_together`` took and the events it acknowledges once all is done: sent with the words of
    its last commit (one round trip fewer per advance), else on their own as it ends."""

    locks: _Locks
    acknowledge: Sequence[bytes]
    sent: bool = False

    def add_to(self, pipe: redis.client.Pipeline, *, done: bool) -> None:
        for execution_id, token in self.locks.to_release().items():
            # EVAL, not the registered script: in a pipeline that asks SCRIPT EXISTS first, a round trip more
            pipe.eval(events.RELEASE_IF_HELD, 1, _lock_key(execution_id), token)
        if done and self.acknowledge:  # an error on the way leaves them pending: claimed again later
            pipe.xack(events.EVENTS, events.EXECUTORS_GROUP, *self.acknowledge)


class _HeldElsewhere(Exception):
    """Another executor holds the execution's lock: what this one decided is rolled back."""


class Executor:
    def __init__(
        self,
        db: Engine,
        r: redis.Redis,
        *,
        name: str | None = None,
        heartbeat_timeout: float = 10.0,
        sweep_interval: float = 1.0,
        stale_after: float = 10.0,
        claim_idle: float = 10.0,
        queued_recovery_after: float = 10.0,
        retention: dt.timedelta | None = None,
        purge_interval: float = 60.0,
    ) -> None:
        self.db, self.r = db, r
        self.name = name or events.consumer_name("executor")
        self.sweep_interval, self.stale_after, self.claim_idle = sweep_interval, stale_after, claim_idle
        self._next_sweep = self._next_stale_check = self._next_timers = 0.0
        self.lost = LostWork(db, r, heartbeat_timeout=heartbeat_timeout, queued_recovery_after=queued_recovery_after)
        self.purge = Purge(db, r, self.name, retention, purge_interval)  # beside the loop, now and then
        self._holding: set[str] = set()  # namespaces that may hold task runs back (fair_share), refreshed each sweep
        self._waiting_turn: dict[str, list[bytes]] = {}  # execution id -> its events read, not yet acknowledged
        # so an advance reads only the runs that may have changed (with the worker group of the runs it creates)
        self._settled = snapshots.SettledRuns(advancing=True)

    # --- one execution -------------------------------------------------------------------------

    def advance(self, execution_id: str) -> bool:
        """Decide and persist what happens next for one execution. False to look again: another executor holds
        it, or its state changed (a kill) while this one decided."""
        outcome = self.advance_together([execution_id])[execution_id]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def advance_together(
        self, execution_ids: list[str], acknowledge: Sequence[bytes] = ()
    ) -> dict[str, bool | Exception]:
        """``advance`` for several executions in one transaction, their words sent after its commit in one round
        trip: when events pile up (many executions started at once), the commit, the locks and the words cost one
        round each per batch instead of per execution. If one of them changed meanwhile or failed, nothing of the
        batch is kept and each is advanced alone, as ``advance`` would: True, False (look again) or the error.
        The events ``acknowledge`` names are acknowledged with the locks' release, once all is done."""
        locks = _Locks(self.r, execution_ids)
        release = _Release(locks, acknowledge)
        outcomes: dict[str, bool | Exception] = {execution_id: False for execution_id in execution_ids}
        done = False
        try:
            # One execution (a chain's next step): its lock is checked just before the commit, a batch's first.
            left = list(execution_ids) if len(execution_ids) == 1 else [e for e in execution_ids if e in locks.held()]
            while len(left) > 1 and (together := self._advance_in_one_transaction(left, release)):
                outcomes.update(dict.fromkeys(left[:together], True))
                left = left[together:]
            for execution_id in left:
                outcomes[execution_id] = self._advance_alone(
                    execution_id, locks, release if execution_id == left[-1] else None
                )
            done = True
            return outcomes
        finally:
            if not release.sent:
                with self.r.pipeline(transaction=False) as pipe:
                    release.add_to(pipe, done=done)
                    pipe.execute()

    def _advance_in_one_transaction(self, execution_ids: list[str], release: _Release) -> int:
        """How many of ``execution_ids``, from the first, were advanced in one transaction (0: none, it rolled
        back). It takes no more after TRANSACTION_SECONDS: it holds SQLite's one write lock, which the API's
        writes and the workers' wait for. ``release`` goes with its words if it advanced them all."""
        decided: list[_Advanced | None] = []
        closing = time.monotonic() + TRANSACTION_SECONDS
        try:
            with session_scope(self.db, recoverable=True) as session:
                for execution_id in execution_ids:
                    decided.append(self._decide(session, execution_id))
                    if time.monotonic() > closing:
                        break
        except Exception:
            log.debug("a batch of %d advances rolled back: each goes alone", len(execution_ids), exc_info=True)
            return 0
        last = release if len(decided) == len(execution_ids) else None
        self._after_commit([advanced for advanced in decided if advanced is not None], last)
        return len(decided)

    def _advance_alone(self, execution_id: str, locks: _Locks, release: _Release | None) -> bool | Exception:
        """``release``: sent with its words (the last execution of ``advance_together``)."""
        try:
            with session_scope(self.db, recoverable=True) as session:
                advanced = self._decide(session, execution_id)
                if execution_id not in locks.held():
                    raise _HeldElsewhere(execution_id)
        except (store.ExecutionChanged, _HeldElsewhere):
            return False  # the caller looks again shortly, at the execution as it is now
        except redis.RedisError:
            raise  # the loop waits for Redis, as for any of its calls
        except Exception as exc:  # the caller logs it and tries this one again later
            return exc
        if advanced is not None:
            self._after_commit([advanced], release)
        return True

    def _decide(self, session, execution_id: str) -> _Advanced | None:
        """One execution's next step, persisted in ``session`` (not committed); None if it is gone."""
        try:
            snapshot = snapshots.load_snapshot(session, execution_id, utcnow(), settled=self._settled)
        except store.ExecutionNotFound:
            return None
        before = snapshots.copy_snapshot(snapshot)
        with time_budget(EXPRESSIONS_PER_ADVANCE):  # one execution's expressions never hold the loop long
            actions = progress.advance(snapshot)
        persisted = snapshots.persist(session, before, snapshot, actions) if actions else snapshots.Persisted()
        self._share(session, snapshot.flow.namespace, persisted)
        wakeup = progress.next_wakeup(snapshot)
        if persisted.breaches:
            persisted.notify += sla_breaches.record(session, snapshot, persisted.breaches)
        parent_id = None
        if persisted.ended:
            row = store.get_execution(session, execution_id)
            parent_id = row.parent_execution_id
            ended = SimpleNamespace(
                id=execution_id,
                namespace=row.namespace,
                flow_id=row.flow_id,
                state=snapshot.execution.state.value,
                outputs=snapshot.execution.outputs,
                test=row.test,
            )
            persisted.notify += fire_flow_triggers(session, ended)
        return _Advanced(before, snapshot, persisted, wakeup, parent_id)

    def _after_commit(self, batch: list[_Advanced], release: _Release | None = None) -> None:
        """The jobs and the words of a commit, in one round trip, with ``release`` when it is the last commit."""
        with self.r.pipeline(transaction=False) as pipe:
            self._send_runs([advanced.persisted for advanced in batch], pipe)
            for advanced in batch:
                snapshot, persisted = advanced.snapshot, advanced.persisted
                execution_id = snapshot.execution.id
                sla_breaches.announce(snapshot, persisted.breaches)
                if persisted.kill:  # a timeout or an SLA stops the execution: its running tasks are told to stop
                    events.request_kill(pipe, execution_id)
                if advanced.wakeup is not None and not snapshot.execution.state.terminal:
                    events.schedule_wakeup(pipe, execution_id, advanced.wakeup)
                for other in persisted.notify:
                    events.publish_event(pipe, other)
                if advanced.parent_id:
                    events.publish_event(pipe, advanced.parent_id)
                if persisted.changed:
                    events.announce(pipe, execution_id, "state")
                    events.announce_change(pipe, execution_id)
            if release is not None:
                release.add_to(pipe, done=True)
            pipe.execute()
            if release is not None:
                release.sent = True
        ended = {(a.snapshot.flow.namespace, a.snapshot.flow.id if a.snapshot.flow.concurrency else None)
                 for a in batch if a.persisted.ended}  # fmt: skip
        if ended:
            self._admit_next(ended)
        for advanced in batch:
            record.execution_advanced(advanced.before.execution.state, advanced.snapshot)
            # Committed, and done with: the next advance of each reads again only the runs that may have changed.
            self._settled.keep(advanced.snapshot)

    def _admit_next(self, ended: set[tuple[str, str | None]]) -> None:
        """Executions ended in these (namespace, flow id when the flow limits its executions): the one waiting
        longest for each flow's slot and the one waiting longest for each namespace's are looked at again."""
        waiting: set[str | None] = set()
        with session_scope(self.db) as session:
            for namespace in {namespace for namespace, _ in ended}:
                waiting.add(namespace_settings.oldest_queued_in_namespace(session, namespace))
            for namespace, flow_id in ended:
                if flow_id:
                    waiting.add(store.oldest_queued(session, namespace, flow_id))
        for execution_id in waiting - {None}:
            events.publish_event(self.r, execution_id)

    def _share(self, session, namespace: str, persisted: snapshots.Persisted) -> None:
        """Hold back the runs this advance queued past the namespace's fair share, or fill its free slots with
        runs it held back (engine/runtime/fair_share.py), in the advance's transaction."""
        if not persisted.enqueue and namespace not in self._holding:
            return
        admitted = fair_share.admit(session, namespace, persisted.enqueue, holding=namespace in self._holding)
        persisted.enqueue, persisted.released = admitted.enqueue, admitted.released
        if admitted.holding:
            self._holding.add(namespace)
        else:
            self._holding.discard(namespace)

    # --- the loop ------------------------------------------------------------------------------

    def process(self, block_ms: int = 100, count: int = 500) -> int:
        """Read a batch of events and advance each execution named in it once; returns how many."""
        block = None if self._waiting_turn else block_ms  # executions waiting their turn: do not wait for more
        answer = self.r.xreadgroup(events.EXECUTORS_GROUP, self.name, {events.EVENTS: ">"}, count=count, block=block)
        entries = answer[0][1] if answer else []
        return self._handle(entries)

    def _handle(self, entries: list) -> int:
        """Advance the executions the events name, with those still waiting their turn, one of each namespace per
        round for at most fair_share.TURN_SECONDS. The events of those advanced are acknowledged; the others stay
        pending, and waiting here with the next batch's (another executor claims them if this one dies)."""
        record.events_read(len(entries))
        for entry_id, fields in entries:
            self._waiting_turn.setdefault(fields[b"e"].decode(), []).append(entry_id)
        if not self._waiting_turn:
            return 0
        with session_scope(self.db) as session:
            rounds = fair_share.take_turns(session, list(self._waiting_turn))  # one of each namespace per round
        deadline, advanced = time.monotonic() + fair_share.TURN_SECONDS, 0
        in_turn = [execution_id for turn in rounds for execution_id in turn]
        for first in range(0, len(in_turn), ADVANCES_PER_TRANSACTION):
            if advanced and time.monotonic() > deadline:
                break
            batch = in_turn[first : first + ADVANCES_PER_TRANSACTION]
            entries = [entry for execution_id in batch for entry in self._waiting_turn[execution_id]]
            started = time.perf_counter()
            with log_context(batch[0] if len(batch) == 1 else None):
                outcomes = self.advance_together(batch, acknowledge=entries)
            took = (time.perf_counter() - started) / len(batch)
            for execution_id, outcome in outcomes.items():
                record.advance_took(took)
                if isinstance(outcome, Exception):
                    with log_context(execution_id):
                        log.error("advancing execution %s failed; it will be retried", execution_id, exc_info=outcome)
                    events.schedule_wakeup(self.r, execution_id, utcnow() + dt.timedelta(seconds=2))
                elif not outcome:
                    events.publish_event(self.r, execution_id)  # held elsewhere: look again shortly
                self._waiting_turn.pop(execution_id)
            advanced += len(batch)
        return advanced

    def tick(self) -> None:
        """Timers that are due, and now and then a sweep for what was lost."""
        if time.monotonic() >= self._next_timers:  # not after every event: one round trip each time
            self._next_timers = time.monotonic() + TIMER_SECONDS
            for execution_id in events.due_wakeups(self.r, utcnow()):
                # Advanced next, ahead of the events still in the stream: a retry or a pause's delay never waits
                # behind a backlog. Lost with this executor before its advance, it is found by the stale sweep.
                self._waiting_turn.setdefault(execution_id, [])
        if time.monotonic() >= self._next_sweep:
            self._next_sweep = time.monotonic() + self.sweep_interval
            self.sweep()
            queues.look(self.r)

    def run(self, stop: threading.Event) -> None:
        events.ensure_group(self.r)
        while not stop.is_set():
            try:
                self.process()
                self.tick()
            except redis.ConnectionError:
                log.warning("Redis is unreachable; retrying")
                time.sleep(0.5)
                with contextlib.suppress(redis.RedisError):
                    events.ensure_group(self.r)  # a restarted Redis has lost the group
            except redis.ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                events.ensure_group(self.r)  # a restarted Redis has lost the group
            except Exception:  # the loop must survive anything; each failure is logged
                log.exception("executor loop error")
                time.sleep(0.5)
        self.close()

    def close(self, timeout: float = 30.0) -> None:
        """Wait for the purge running beside the loop, if any."""
        self.purge.join(timeout)

    # --- recovery ------------------------------------------------------------------------------

    def sweep(self) -> None:
        self._claim_abandoned_events()
        self.lost.fail_lost_attempts()
        self.lost.requeue_lost_jobs()
        self._release_held_runs()
        if time.monotonic() >= self._next_stale_check:
            self._next_stale_check = time.monotonic() + self.stale_after
            self.lost.revisit_stale_executions(older_than=utcnow() - dt.timedelta(seconds=self.stale_after))
        self.purge.start_if_due()

    def _claim_abandoned_events(self) -> None:
        """Events read by an executor that died before acknowledging them."""
        _, entries, *_ = self.r.xautoclaim(
            events.EVENTS, events.EXECUTORS_GROUP, self.name, min_idle_time=int(self.claim_idle * 1000), count=500
        )
        self._handle([entry for entry in entries if entry and entry[1]])

    def _release_held_runs(self) -> None:
        """Runs held back for a namespace's slot are queued when it has room, even if no event comes (the executor
        that held them died, or the slots freed while this one advanced nothing of the namespace)."""
        with session_scope(self.db) as session:
            self._holding = set(namespace_settings.namespaces_holding(session))
        for namespace in sorted(self._holding):
            persisted = snapshots.Persisted()
            with session_scope(self.db) as session:
                self._share(session, namespace, persisted)
            with self.r.pipeline(transaction=False) as pipe:
                self._send_runs([persisted], pipe)
                pipe.execute()

    def _send_runs(self, persisted: list[snapshots.Persisted], pipe: redis.client.Pipeline) -> None:
        """After the commit, added to ``pipe``: the queued runs' jobs, first (RQ turns the pipeline into a MULTI
        before its first job), and a word to the pages following executions whose held runs were queued. A
        warning goes now on runs whose worker group has no live worker."""
        queued = [run for each in persisted for run in each.enqueue]
        enqueue_runs(self.r, queued, pipe)
        worker_groups.warn_unserved(self.db, self.r, queued)
        for execution_id in (released for each in persisted for released in each.released):
            events.announce(pipe, execution_id, "state")
