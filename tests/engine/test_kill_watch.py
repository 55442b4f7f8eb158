"""A task's kill checks (engine/runtime/worker.py ``KillWatch``) against a real Redis: the execution's state read
just before the task starts is the first answer, Redis is asked at most every KILL_CHECK_SECONDS however often
the task checks, and a kill requested meanwhile is seen within that time."""

from __future__ import annotations

import time

import pytest
import redis

from engine.runtime import events
from engine.runtime.worker import KILL_CHECK_SECONDS, KillWatch


@pytest.fixture
def r(redis_server) -> redis.Redis:
    client = redis.Redis.from_url(redis_server)
    client.flushdb()
    return client


def counting(r: redis.Redis) -> list:
    commands: list = []
    real = r.execute_command

    def counted(*args, **options):
        commands.append(args[0])
        return real(*args, **options)

    r.execute_command = counted
    return commands


def test_an_execution_killed_before_its_task_starts_is_seen_without_asking_redis(r):
    commands = counting(r)
    assert KillWatch(r, "e1", killed_at_start=True)()
    assert commands == []


def test_redis_is_asked_at_most_every_few_milliseconds_and_a_kill_is_seen(r):
    commands = counting(r)
    watch = KillWatch(r, "e2", killed_at_start=False)
    checks = 0
    started = time.monotonic()
    while time.monotonic() - started < 0.3:
        assert not watch()
        checks += 1
    assert checks > 1000 and len(commands) <= 0.3 / KILL_CHECK_SECONDS + 1
    events.request_kill(r, "e2")
    time.sleep(KILL_CHECK_SECONDS)
    assert watch()
