"""The task queues as the executor sees them: jobs waiting in each RQ queue and workers alive (registered with
RQ, which forgets a worker whose heartbeat stopped). Looked at every few seconds, not at every sweep."""

from __future__ import annotations

import time

import redis
from rq import Queue, Worker

from engine.metrics import record
from engine.runtime.queue import TASK_QUEUE, task_queue

LOOK_EVERY = 5.0  # seconds
_next_look = 0.0


def look(r: redis.Redis) -> None:
    """Record every queue's depth and the workers alive, at most once per ``LOOK_EVERY`` seconds."""
    global _next_look
    if not record.ENABLED or time.monotonic() < _next_look:
        return
    _next_look = time.monotonic() + LOOK_EVERY
    alive = Worker.count(connection=r)
    queues = {queue.name: queue for queue in Queue.all(connection=r)}  # those RQ has had jobs for
    queues.setdefault(TASK_QUEUE, task_queue(r))  # shown from the start, at 0
    for name, queue in queues.items():
        record.queue_seen(name, queue.count)
    record.workers_seen(alive)
