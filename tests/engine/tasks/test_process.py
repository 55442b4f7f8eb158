"""Waiting for a task's child process: it ends the wait as soon as the child exits, and asks the task whether it
was killed while the child runs. Real processes."""

from __future__ import annotations

import subprocess
import time

import pytest

from engine.tasks.context import TaskKilled
from engine.tasks.process import CHECK_SECONDS, wait_checking


def test_a_short_command_is_seen_ended_at_once_not_at_the_next_check():
    started = time.monotonic()
    codes = [wait_checking(subprocess.Popen(["/bin/sh", "-c", f"exit {n}"])) for n in range(10)]
    took = time.monotonic() - started
    assert codes == list(range(10))
    # sleeping between checks cost each at least CHECK_SECONDS: ten took 0.5 s or more
    assert took < 10 * CHECK_SECONDS * 0.8, f"ten commands took {took:.3f} s"


def test_a_kill_noticed_while_the_command_runs_ends_the_wait():
    process = subprocess.Popen(["sleep", "30"])
    calls = []

    def check() -> None:
        calls.append(time.monotonic())
        if len(calls) == 3:
            raise TaskKilled("killed")

    started = time.monotonic()
    try:
        with pytest.raises(TaskKilled):
            wait_checking(process, check)
        assert time.monotonic() - started < 5 and process.poll() is None  # the caller stops it
    finally:
        process.kill()
        process.wait()
