"""Who is alive in the cluster: every long-running process (API, studio, executor, scheduler, worker) keeps a
Redis hash of its own, refreshed every LANNER_HEARTBEAT_INTERVAL and expiring after LANNER_HEARTBEAT_TIMEOUT,
so a process that dies, however it dies, drops out of ``alive()`` within that timeout.

RQ keeps a registry of its workers too (``rq.Worker.all``), but a worker that dies in the middle of a job stays
listed there until the job's timeout (a day for Lanner's jobs): RQ's view says what a live worker is doing
(idle, busy), Lanner's heartbeat says whether it is alive.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib.metadata
import json
import logging
import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

import redis
from rq import Worker

from engine.config import load_settings
from engine.runtime.queue import task_queue

log = logging.getLogger("lanner.cluster")
PREFIX = "lanner:process:"


class ProcessKind(StrEnum):
    API = "api"
    STUDIO = "studio"
    EXECUTOR = "executor"
    SCHEDULER = "scheduler"
    WORKER = "worker"
    TRIGGER_LISTENER = "trigger-listener"


def version() -> str:
    try:
        return importlib.metadata.version("lanner")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


@dataclass(frozen=True)
class ProcessRecord:
    """A live process as its last heartbeat described it."""

    kind: ProcessKind
    host: str
    pid: int
    version: str
    started_at: dt.datetime
    last_beat: dt.datetime
    metrics_port: int | None = None
    state: str = "running"  # workers: RQ's state (idle, busy...), or "stopping" once told to stop
    task_runs: tuple[str, ...] = ()  # ids of the task runs a worker holds now
    queues: tuple[str, ...] = ()  # the RQ queues a worker serves (its groups')

    @property
    def name(self) -> str:
        return f"{self.kind.value}:{self.host}:{self.pid}"

    @property
    def metrics_url(self) -> str | None:
        return f"http://{self.host}:{self.metrics_port}/metrics" if self.metrics_port else None


# What this process holds now (a worker's task runs) and whether it was told to stop: read by each heartbeat.
_held: set[str] = set()
_stopping = threading.Event()


@contextlib.contextmanager
def holding(task_run_id: str) -> Iterator[None]:
    """Show ``task_run_id`` among this process' current task runs for the duration of the block."""
    _held.add(task_run_id)
    try:
        yield
    finally:
        _held.discard(task_run_id)


def mark_stopping() -> None:
    _stopping.set()


class Presence(threading.Thread):
    """The heartbeat of one process: a hash that expires unless refreshed."""

    def __init__(self, r: redis.Redis, kind: ProcessKind, queues: tuple[str, ...] = ()) -> None:
        super().__init__(daemon=True, name=f"lanner-presence-{kind.value}")
        settings = load_settings()
        self.r, self.kind = r, kind
        self.interval, self.timeout = settings.heartbeat_interval, settings.heartbeat_timeout
        self.key = f"{PREFIX}{kind.value}:{socket.gethostname()}:{os.getpid()}"
        self.fields = {
            "kind": kind.value,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "version": version(),
            "started_at": dt.datetime.now(dt.UTC).isoformat(),  # when it began to serve
            "metrics_port": settings.metrics_port or "",
            "queues": json.dumps(list(queues)),
        }
        self.stopped = threading.Event()

    def beat(self) -> None:
        now = dt.datetime.now(dt.UTC).isoformat()
        state = "stopping" if _stopping.is_set() else "running"
        with self.r.pipeline(transaction=True) as pipe:
            runs = json.dumps(sorted(_held))
            pipe.hset(self.key, mapping={**self.fields, "last_beat": now, "state": state, "runs": runs})
            pipe.pexpire(self.key, int(self.timeout * 1000))
            pipe.execute()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                self.beat()
            except redis.RedisError:  # Redis away for a moment: the next beat retries
                log.debug("heartbeat of %s failed", self.key, exc_info=True)
            self.stopped.wait(self.interval)

    def stop(self) -> None:
        self.stopped.set()
        self.join(5)
        with contextlib.suppress(redis.RedisError):
            self.r.delete(self.key)


@contextlib.contextmanager
def present(r: redis.Redis, kind: ProcessKind, queues: tuple[str, ...] = ()) -> Iterator[Presence]:
    """This process shows as alive (``kind``; a worker with the ``queues`` it serves) for the duration of the block;
    it leaves at once when the block ends."""
    presence = Presence(r, kind, queues)
    with contextlib.suppress(redis.RedisError):
        presence.beat()  # visible at once, not after the first interval
    presence.start()
    try:
        yield presence
    finally:
        presence.stop()


def _record(fields: dict[bytes, bytes]) -> ProcessRecord | None:
    text = {key.decode(): value.decode() for key, value in fields.items()}
    try:
        return ProcessRecord(
            kind=ProcessKind(text["kind"]),
            host=text["host"],
            pid=int(text["pid"]),
            version=text.get("version", "unknown"),
            started_at=dt.datetime.fromisoformat(text["started_at"]),
            last_beat=dt.datetime.fromisoformat(text["last_beat"]),
            metrics_port=int(text["metrics_port"]) if text.get("metrics_port") else None,
            state=text.get("state", "running"),
            task_runs=tuple(json.loads(text.get("runs") or "[]")),
            queues=tuple(json.loads(text.get("queues") or "[]")),
        )
    except (KeyError, ValueError):  # written by another version, or half-written: skipped, not fatal
        return None


def alive(r: redis.Redis) -> list[ProcessRecord]:
    """Every process whose heartbeat has not expired, by kind then host and pid; workers with RQ's state."""
    keys = sorted(r.scan_iter(match=f"{PREFIX}*", count=500))
    with r.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.hgetall(key)
        answers = pipe.execute()
    records = [record for fields in answers if fields and (record := _record(fields))]
    rq_states = {(w.hostname, w.pid): w.get_state() for w in Worker.all(connection=r)}
    records = [
        _with_rq_state(record, rq_states.get((record.host, record.pid))) if record.kind == "worker" else record
        for record in records
    ]
    return sorted(records, key=lambda p: (list(ProcessKind).index(p.kind), p.host, p.pid))


def _with_rq_state(record: ProcessRecord, rq_state: str | None) -> ProcessRecord:
    if record.state == "stopping" or rq_state is None:
        return record
    return ProcessRecord(**{**record.__dict__, "state": str(rq_state)})


def workers_alive(r: redis.Redis) -> int:
    """How many workers' heartbeats have not expired (one key each, counted without reading them)."""
    return sum(1 for _ in r.scan_iter(match=f"{PREFIX}{ProcessKind.WORKER.value}:*", count=500))


def workers_serving(r: redis.Redis, queue: str) -> int:
    """How many live workers serve ``queue`` (by their heartbeats: a worker killed mid-job drops out within the
    heartbeat timeout, where RQ's registry keeps it for the job's timeout)."""
    keys = list(r.scan_iter(match=f"{PREFIX}{ProcessKind.WORKER.value}:*", count=500))
    with r.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.hget(key, "queues")
        answers = pipe.execute()
    return sum(1 for served in answers if served and queue in json.loads(served))


def running(r: redis.Redis, kind: ProcessKind) -> bool:
    """Whether some process of ``kind`` is alive (``lanner run`` starts its own engine when no executor is)."""
    return next(r.scan_iter(match=f"{PREFIX}{kind.value}:*", count=500), None) is not None


def queue_depth(r: redis.Redis) -> int:
    """Task runs waiting in RQ's queue for a worker."""
    return task_queue(r).count
