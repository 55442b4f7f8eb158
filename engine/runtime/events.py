"""What travels through Redis besides task jobs: executor events, timers, kill flags, heartbeats, live updates.

Nothing here is the source of truth: every key can be lost (a Redis restart) and rebuilt from the
database by the executor's sweep.
"""

from __future__ import annotations

import datetime as dt
import os
import socket

import redis

EVENTS = "lanner:events"
EXECUTORS_GROUP = "executors"
TIMERS = "lanner:timers"
EVENTS_MAX_LENGTH = 100_000
# Lua: delete a key (a lock, a lease) only while the one releasing it still holds it (ARGV[1]: its token).
RELEASE_IF_HELD = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


def consumer_name(role: str) -> str:
    return f"{role}:{socket.gethostname()}:{os.getpid()}"


def publish_event(r: redis.Redis | redis.client.Pipeline, execution_id: str) -> None:
    """Tell the executors that ``execution_id`` has something new to decide on."""
    r.xadd(EVENTS, {"e": execution_id}, maxlen=EVENTS_MAX_LENGTH, approximate=True)


def ensure_group(r: redis.Redis) -> None:
    try:
        r.xgroup_create(EVENTS, EXECUTORS_GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def schedule_wakeup(r: redis.Redis | redis.client.Pipeline, execution_id: str, when: dt.datetime) -> None:
    """Look at ``execution_id`` again at ``when`` (retries, pause delays, timeouts); the earliest wins."""
    r.zadd(TIMERS, {execution_id: when.timestamp()}, lt=True)


def due_wakeups(r: redis.Redis, now: dt.datetime, limit: int = 500) -> list[str]:
    due = r.zrangebyscore(TIMERS, "-inf", now.timestamp(), start=0, num=limit)
    if due:
        r.zrem(TIMERS, *due)
    return [d.decode() for d in due]


def kill_key(execution_id: str) -> str:
    return f"lanner:kill:{execution_id}"


def request_kill(r: redis.Redis | redis.client.Pipeline, execution_id: str) -> None:
    r.set(kill_key(execution_id), b"1", ex=86_400)


def heartbeat_key(task_run_id: str) -> str:
    return f"lanner:hb:{task_run_id}"


def updates_channel(execution_id: str) -> str:
    """Pub/sub channel announcing new log lines or a state change of one execution."""
    return f"lanner:updates:{execution_id}"


def announce(r: redis.Redis | redis.client.Pipeline, execution_id: str, what: str) -> None:
    r.publish(updates_channel(execution_id), what)


#: Pub/sub channel naming every execution the executor changed: lists (executions, triggers) follow it.
CHANGES_CHANNEL = "lanner:changes"


def announce_change(r: redis.Redis | redis.client.Pipeline, execution_id: str) -> None:
    r.publish(CHANGES_CHANNEL, execution_id)
