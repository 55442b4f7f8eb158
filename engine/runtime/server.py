"""Running the engine's parts: each alone (a cluster), or all together on one machine."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator

from engine.config import Settings
from engine.runtime import cluster
from engine.runtime.children import spawn
from engine.runtime.cluster import ProcessKind
from engine.runtime.connection import connect
from engine.runtime.executor import Executor
from engine.runtime.memory import collect_less
from engine.store.database import open_database


def run_executor(settings: Settings, redis_url: str, stop: threading.Event | None = None) -> None:
    stop = stop or _stop_on_signals()
    executor = Executor(
        open_database(settings.database_url),
        connect(redis_url),
        heartbeat_timeout=settings.heartbeat_timeout,
        sweep_interval=settings.sweep_interval,
        stale_after=settings.stale_after,
        claim_idle=settings.event_claim_idle,
        queued_recovery_after=settings.queued_recovery_after,
        retention=settings.retention,
        purge_interval=settings.purge_interval,
    )
    collect_less()
    with cluster.present(executor.r, ProcessKind.EXECUTOR):
        executor.run(stop)


def run_scheduler(settings: Settings, redis_url: str, stop: threading.Event | None = None) -> None:
    from engine.runtime.scheduler import Scheduler

    stop = stop or _stop_on_signals()
    scheduler = Scheduler(open_database(settings.database_url), connect(redis_url))
    with cluster.present(scheduler.r, ProcessKind.SCHEDULER):
        scheduler.run(stop)


def run_trigger_listener(settings: Settings, redis_url: str, stop: threading.Event | None = None) -> None:
    from engine.runtime.trigger_listener import TriggerListener

    stop = stop or _stop_on_signals()
    TriggerListener(open_database(settings.database_url), connect(redis_url)).run(stop)


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def stop_on_sigterm() -> None:
    """Turn SIGTERM into KeyboardInterrupt so ``finally`` blocks stop the children."""

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def child_environment(settings: Settings, redis_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(LANNER_HOME=str(settings.home), LANNER_DATABASE_URL=settings.database_url, LANNER_REDIS_URL=redis_url)
    return env


@contextlib.contextmanager
def background_engine(settings: Settings, redis_url: str, *, workers: int = 1) -> Iterator[None]:
    """An executor thread and a worker pool process for the duration of a block (``lanner run`` alone)."""
    open_database(settings.database_url)
    stop = threading.Event()
    executor = threading.Thread(target=run_executor, args=(settings, redis_url, stop), daemon=True)
    executor.start()
    pool = spawn([sys.executable, "-m", "engine", "worker", "-n", str(workers)], child_environment(settings, redis_url))
    try:
        yield
    finally:
        stop.set()
        stop_process(pool)
        executor.join(5)


def stop_process(process: subprocess.Popen, grace: float = 10.0) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
