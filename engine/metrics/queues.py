"""The task queues as the executor sees them: jobs waiting in each RQ queue and workers alive (by Lanner's process
heartbeats, engine/runtime/cluster.py: RQ's registry keeps a worker killed mid-job for the job's timeout). Looked at
every few seconds, not at every sweep."""

from __future__ import annotations

import time

import redis
from rq import Queue

from engine.metrics import record
from engine.runtime.cluster import workers_alive
from engine.runtime.queue import TASK_QUEUE, task_queue

LOOK_EVERY = 5.0  # seconds
_next_look = 0.0


def look(r: redis.Redis) -> None:
    """Record every queue's depth and the workers alive, at most once per ``LOOK_EVERY`` seconds."""
    global _next_look
    if not record.ENABLED or time.monotonic() < _next_look:
        return
    _next_look = time.monotonic() + LOOK_EVERY
    alive = workers_alive(r)
    queues = {queue.name: queue for queue in Queue.all(connection=r)}  # those RQ has had jobs for
    queues.setdefault(TASK_QUEUE, task_queue(r))  # shown from the start, at 0
    for name, queue in queues.items():
        record.queue_seen(name, queue.count)
    record.workers_seen(alive)
