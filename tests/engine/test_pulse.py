"""The worker process' heartbeats and log shipping (engine/runtime/pulse.py), against a real Redis: a kept run
beats from the beat thread's first look and for as long as it runs, past the heartbeat timeout; a run that ends
before costs no round trip; its lines are shipped meanwhile; once
released its key is gone and no late beat brings it back; several runs share the same two threads."""

from __future__ import annotations

import threading
import time

import pytest
import redis

from engine.runtime import events
from engine.runtime.pulse import PULSE


@pytest.fixture
def r(redis_server, monkeypatch) -> redis.Redis:
    monkeypatch.setenv("LANNER_HEARTBEAT_INTERVAL", "0.2")
    monkeypatch.setenv("LANNER_HEARTBEAT_TIMEOUT", "0.6")
    client = redis.Redis.from_url(redis_server)
    client.flushdb()
    return client


def test_a_kept_run_beats_soon_and_past_the_timeout_and_its_key_goes_with_it(r):
    shipped = []
    key = events.heartbeat_key("run-1")
    with PULSE.keep(r, "run-1", lambda: shipped.append(time.monotonic())):
        time.sleep(0.3)
        assert r.exists(key)  # from the beat thread's first look
        time.sleep(1.2)  # more than twice the timeout: only beats keep the key
        assert r.exists(key)
        assert len(shipped) >= 4  # lines are written every 0.2 s while it runs
    assert not r.exists(key)
    time.sleep(0.5)  # a beat thread's next look: nothing brings the key back
    assert not r.exists(key)


def test_runs_kept_together_share_two_threads_and_each_keeps_its_own_key(r):
    with PULSE.keep(r, "a", lambda: None), PULSE.keep(r, "b", lambda: None):
        time.sleep(0.9)
        assert r.exists(events.heartbeat_key("a")) and r.exists(events.heartbeat_key("b"))
        names = [thread.name for thread in threading.enumerate()]
    assert not r.exists(events.heartbeat_key("b"))
    assert names.count("lanner-heartbeats") == 1 and names.count("lanner-log-shipper") == 1


def test_a_failing_log_write_does_not_stop_the_heartbeat(r):
    def failing() -> None:
        raise OSError("database away")

    with PULSE.keep(r, "run-2", failing):
        time.sleep(1.2)
        assert r.exists(events.heartbeat_key("run-2"))


def test_a_slow_log_write_does_not_hold_up_the_heartbeat(r):
    with PULSE.keep(r, "run-3", lambda: time.sleep(1.5)):  # the database takes longer than the timeout
        time.sleep(1.2)
        assert r.exists(events.heartbeat_key("run-3"))


def test_a_run_that_ends_before_the_first_beat_costs_no_redis_round_trip(r):
    commands = []
    real = r.execute_command

    def counted(*args, **options):
        commands.append(args[0])
        return real(*args, **options)

    r.execute_command = counted
    time.sleep(0.25)  # just after a look of the beat thread: the next one is 0.2 s away
    with PULSE.keep(r, "run-4", lambda: None):
        pass
    assert commands == []
