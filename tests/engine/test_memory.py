"""The engine's long-running processes leave what they hold for good to the garbage collector once started
(engine/runtime/memory.py): a full collection no longer walks their start-up objects in the middle of a run."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.cli import servers
from engine.config import load_settings
from engine.runtime import server, worker
from engine.runtime.connection import connect
from engine.runtime.memory import GC_YOUNG_THRESHOLD


@pytest.fixture
def collector() -> Iterator[None]:
    """This test process' collector as it was, whatever the process under test did to it."""
    thresholds = gc.get_threshold()
    gc.unfreeze()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.fixture
def engine_settings(tmp_path: Path, redis_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("LANNER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LANNER_DATABASE_URL", f"sqlite:///{tmp_path / 'lanner.db'}")
    monkeypatch.setenv("LANNER_REDIS_URL", redis_server)
    connect(redis_server).flushdb()
    return redis_server


def _frozen_after(start) -> tuple[int, tuple[int, int, int]]:
    kept = {"held": ["since start-up"]}  # as the process' own modules and classes are
    start()
    frozen = not any(found is kept for found in gc.get_objects())  # frozen objects are not tracked any more
    return gc.get_freeze_count() if frozen else 0, gc.get_threshold()


def test_an_executor_freezes_what_it_built_before_its_loop(collector, engine_settings):
    stop = threading.Event()
    stop.set()  # the loop ends at once: what matters is what happened before it
    frozen, thresholds = _frozen_after(lambda: server.run_executor(load_settings(), engine_settings, stop))
    assert frozen > 10_000, "the executor's start-up objects are still walked by every full collection"
    assert thresholds[0] == GC_YOUNG_THRESHOLD


def test_a_worker_freezes_what_it_built_before_its_loop(collector, engine_settings):
    frozen, thresholds = _frozen_after(lambda: worker.work(engine_settings, 1, burst=True))  # nothing queued
    assert frozen > 10_000, "the worker's start-up objects are still walked by every full collection"
    assert thresholds[0] == GC_YOUNG_THRESHOLD


def test_the_api_freezes_its_app_once_built(collector, engine_settings):
    frozen, thresholds = _frozen_after(servers.api_app)
    assert frozen > 10_000, "the API's start-up objects are still walked by every full collection"
    assert thresholds[0] == GC_YOUNG_THRESHOLD
