"""Following executions live: one follower per execution per process, fanned out to every viewer.

A follower is an asyncio task that subscribes to the execution's announcements (``events.announce``), reads
what changed from the store once per change (its state, then its new log lines) and wakes every viewer. A
slow safety poll covers announcements lost with Redis. Twenty viewers of one execution cost one reader, not
twenty pollers. The follower keeps only a window of recent lines: a viewer resuming from further back
(``Last-Event-ID``) pages its own way through the store until it reaches that window, one page in memory at
a time. The follower stops when the execution has ended or when its last viewer leaves.

Access is the caller's business: check each viewer before ``watch`` (and again as often as it must).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass

import redis
import redis.asyncio as aioredis
from sqlalchemy import Engine

from engine.core.states import State
from engine.runtime import events
from engine.store import executions as store
from engine.store.database import session_scope
from engine.store.logs import last_log_id, read_logs
from engine.store.tables import LogLine

PAGE = 500  # lines read from the store, and handed to a viewer, at a time
WINDOW = 2000  # recent lines a follower keeps for viewers that are a little behind
SAFETY_POLL = 3.0  # read even without an announcement: a lost pub/sub message delays an update, never loses it
NO_REDIS_POLL = 0.5  # the period when announcements cannot be heard at all
MIN_INTERVAL = 0.1  # announcements closer together than this are read together


@dataclass(frozen=True)
class Update:
    """What one viewer has not seen yet: new lines (oldest first), the state now, and whether it is the last."""

    lines: tuple[LogLine, ...]
    state: str
    tasks_changed: bool  # a task run may have changed (a state announcement, or the safety poll): re-read them
    ended: bool  # the execution ended and every one of its lines was handed over: nothing follows


def _terminal(state: str) -> bool:
    return State(state).terminal


class _Follower:
    def __init__(self, hub: Followers, execution_id: str) -> None:
        self.hub, self.execution_id = hub, execution_id
        self.viewers = 0
        self.ids: list[int] = []  # ids of ``lines``: viewers find their place by bisection
        self.lines: list[LogLine] = []
        self.base = 0  # every line with a greater id (up to ``position``) is in ``lines``
        self.position = 0  # the newest line read
        self.state = ""
        self.tasks_version = 0
        self.ended = False
        self.error: BaseException | None = None
        self.ready = asyncio.Event()
        self.changed = asyncio.Event()  # replaced at each change: viewers wait on the one they last saw
        self.task = asyncio.get_running_loop().create_task(self._run(), name=f"follow {execution_id}")

    def _notify(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()

    def _keep(self, lines: list[LogLine]) -> None:
        self.lines.extend(lines)
        self.ids.extend(line.id for line in lines)  # type: ignore[misc]
        self.position = self.ids[-1]
        window = self.hub.window
        if len(self.lines) > 2 * window:  # trimmed in batches: the cost of a trim is spread over many lines
            dropped = len(self.lines) - window
            self.base = self.ids[dropped - 1]
            del self.lines[:dropped], self.ids[:dropped]

    async def _run(self) -> None:
        pubsub = None
        try:
            pubsub = await self.hub._subscribe(self.execution_id)  # before the first read: nothing is missed
            self.state, self.position = await asyncio.to_thread(self.hub._start, self.execution_id)
            self.base = self.position
            self.ready.set()
            heard = {"start"}
            while True:
                state, lines = await asyncio.to_thread(self.hub._read, self.execution_id, self.position)
                if lines:
                    self._keep(lines)
                moved = state != self.state
                self.state = state
                tasks_moved = moved or bool(heard & {"start", "state", "poll"})
                if tasks_moved:
                    self.tasks_version += 1
                self.ended = _terminal(state) and len(lines) < PAGE
                if lines or tasks_moved or self.ended:
                    self._notify()
                if self.ended:
                    return
                heard = set() if len(lines) == PAGE else await self._wait(pubsub)
        except Exception as exc:  # handed to every viewer, who raises it
            self.error = exc
            self.ready.set()
            self._notify()
        finally:
            if pubsub is not None:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def _wait(self, pubsub: aioredis.client.PubSub | None) -> set[str]:
        """The kinds of announcement heard ("logs", "state"), or {"poll"} when the safety poll came first."""
        if pubsub is None:
            await asyncio.sleep(NO_REDIS_POLL)
            return {"poll"}
        await asyncio.sleep(MIN_INTERVAL)
        heard: set[str] = set()
        try:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=SAFETY_POLL)
            while message is not None:
                heard.add(message["data"].decode() if isinstance(message["data"], bytes) else str(message["data"]))
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0)
        except (redis.RedisError, OSError):
            await asyncio.sleep(NO_REDIS_POLL)
            return {"poll"}
        return heard or {"poll"}


class Followers:
    """The followers of one process (one event loop): ``watch`` an execution from any position."""

    def __init__(
        self, db: Engine, redis_url: str | None, *, window: int = WINDOW, client: aioredis.Redis | None = None
    ) -> None:
        """``client``: a Redis client to subscribe with, instead of one opened on ``redis_url``."""
        self.db, self.redis_url, self.window = db, redis_url, window
        self._redis = client or (aioredis.Redis.from_url(redis_url) if redis_url else None)
        self._followers: dict[str, _Follower] = {}
        self.reads = 0  # store reads made by followers, for tests and the benchmark
        self.started = 0  # followers started

    def following(self) -> list[str]:
        """The executions followed now."""
        return list(self._followers)

    async def watch(self, execution_id: str, after: int = 0, *, idle: float = 5.0) -> AsyncIterator[Update]:
        """Updates for one viewer, from the line after ``after`` until the execution ends. An update with
        nothing new comes every ``idle`` seconds of quiet, so the viewer can check its access or keep its
        connection alive. Close the iterator (``contextlib.aclosing``) when the viewer leaves."""
        follower = self._followers.get(execution_id)
        if follower is None:
            follower = self._followers[execution_id] = _Follower(self, execution_id)
            self.started += 1
        follower.viewers += 1
        try:
            await follower.ready.wait()
            seen_tasks, seen_state = -1, ""
            while True:
                changed = follower.changed  # taken before looking: a change while we yield is not missed
                if follower.error is not None:
                    raise follower.error
                tasks_changed = follower.tasks_version != seen_tasks
                state_changed = follower.state != seen_state
                seen_tasks, seen_state = follower.tasks_version, follower.state
                if after < follower.base:  # behind the window: this viewer pages through the store itself
                    lines = tuple(await asyncio.to_thread(self._page, execution_id, after))
                    after = lines[-1].id if lines else follower.base  # type: ignore[assignment]
                    yield Update(lines, follower.state, tasks_changed, ended=False)
                    continue
                start = bisect.bisect_right(follower.ids, after)
                lines = tuple(follower.lines[start : start + PAGE])
                more = start + PAGE < len(follower.lines)
                if lines:
                    after = lines[-1].id  # type: ignore[assignment]
                ended = follower.ended and not more
                if lines or tasks_changed or state_changed or ended:
                    yield Update(lines, follower.state, tasks_changed or state_changed, ended)
                if ended:
                    return
                if more:
                    continue
                try:
                    await asyncio.wait_for(changed.wait(), idle)
                except TimeoutError:
                    yield Update((), follower.state, tasks_changed=False, ended=False)
        finally:
            follower.viewers -= 1
            if follower.viewers == 0:
                del self._followers[execution_id]
                follower.task.cancel()

    async def _subscribe(self, execution_id: str) -> aioredis.client.PubSub | None:
        if self._redis is None:
            return None
        pubsub = self._redis.pubsub()
        try:
            await pubsub.subscribe(events.updates_channel(execution_id))
        except (redis.RedisError, OSError):
            return None  # followed by polling until Redis is back for the next follower
        return pubsub

    def _start(self, execution_id: str) -> tuple[str, int]:
        """The state and the newest line now: a follower keeps only what comes after."""
        with session_scope(self.db) as session:
            return store.get_execution(session, execution_id).state, last_log_id(session, execution_id)

    def _read(self, execution_id: str, after: int) -> tuple[str, list[LogLine]]:
        """The state, then the lines after ``after``: a line written before the execution ended is always read
        with (or before) the state that says it ended."""
        self.reads += 1
        with session_scope(self.db) as session:
            state = store.get_execution(session, execution_id).state
            return state, read_logs(session, execution_id, after=after, limit=PAGE)

    def _page(self, execution_id: str, after: int) -> list[LogLine]:
        with session_scope(self.db) as session:
            return read_logs(session, execution_id, after=after, limit=PAGE)


_per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Followers] = weakref.WeakKeyDictionary()


def followers(db: Engine, redis_url: str | None) -> Followers:
    """The followers of the running event loop (one per process in a server): every viewer shares them."""
    loop = asyncio.get_running_loop()
    hub = _per_loop.get(loop)
    if hub is None:
        hub = _per_loop[loop] = Followers(db, redis_url)
    return hub
