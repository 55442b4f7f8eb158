"""Following an execution: its log lines from a position, and its state, until it ends."""

from __future__ import annotations

import time
from collections.abc import Iterator

import redis
from sqlalchemy import Engine

from engine.core.states import State
from engine.runtime import events
from engine.store import executions as store
from engine.store.database import session_scope
from engine.store.logs import read_logs
from engine.store.tables import LogLine


def follow(
    db: Engine, r: redis.Redis, execution_id: str, *, after: int = 0, timeout: float | None = None, poll: float = 0.5
) -> Iterator[LogLine | State]:
    """Yield log lines (oldest first, each once) and every new state, until the execution has ended
    and its last line was yielded. Lines are read by id, so a follower resuming ``after`` a line it
    saw misses nothing and repeats nothing."""
    pubsub = r.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(events.updates_channel(execution_id))
    deadline = None if timeout is None else time.monotonic() + timeout
    last_state: State | None = None
    try:
        while True:
            with session_scope(db) as session:
                state = State(store.get_execution(session, execution_id).state)
                lines = read_logs(session, execution_id, after=after)
            for line in lines:
                after = line.id
                yield line
            if state != last_state:
                last_state = state
                yield state
            if state.terminal and len(lines) < 1000:
                with session_scope(db) as session:  # lines written between the two reads
                    tail = read_logs(session, execution_id, after=after)
                for line in tail:
                    after = line.id
                    yield line
                if not tail:
                    return
                continue
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"execution {execution_id} did not end in time")
            if len(lines) < 1000:
                pubsub.get_message(timeout=poll)
                while pubsub.get_message(timeout=0):
                    pass
    finally:
        pubsub.close()
