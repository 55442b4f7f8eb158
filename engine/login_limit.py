"""Slow down password guessing: after too many failed sign-ins for a name or from an address, wait.

Counts live in Redis (shared by every API process) and expire by themselves; the decision is a pure function.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis import Redis

MAX_FAILURES = 5  # per username
MAX_FAILURES_PER_CLIENT = 20  # per address: people behind one NAT share it
WINDOW_SECONDS = 15 * 60
_PREFIX = "lanner:login-failures:"


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # seconds until a new attempt is accepted


def decide(failures: int, seconds_left: int, *, max_failures: int = MAX_FAILURES) -> Verdict:
    """Whether one more attempt may be checked, given the failures counted in the current window."""
    if failures < max_failures:
        return Verdict(True)
    return Verdict(False, max(seconds_left, 1))


def _keys(username: str, client: str | None) -> list[tuple[str, int]]:
    keys = [(f"{_PREFIX}user:{username.lower()}", MAX_FAILURES)]
    if client:
        keys.append((f"{_PREFIX}client:{client}", MAX_FAILURES_PER_CLIENT))
    return keys


def check(redis: Redis, username: str, client: str | None) -> Verdict:
    pipeline = redis.pipeline()
    keys = _keys(username, client)
    for key, _ in keys:
        pipeline.get(key)
        pipeline.ttl(key)
    values = pipeline.execute()
    verdicts = [
        decide(int(count or 0), int(ttl), max_failures=limit)
        for (_, limit), count, ttl in zip(keys, values[::2], values[1::2], strict=True)
    ]
    refused = [v for v in verdicts if not v.allowed]
    return max(refused, key=lambda v: v.retry_after) if refused else Verdict(True)


def record_failure(redis: Redis, username: str, client: str | None) -> None:
    pipeline = redis.pipeline()
    for key, _ in _keys(username, client):
        # The window starts at the first failure (SET NX): later failures do not extend it. (EXPIRE NX would
        # say the same but needs Redis 7.)
        pipeline.set(key, 0, ex=WINDOW_SECONDS, nx=True)
        pipeline.incr(key)
    pipeline.execute()


def record_success(redis: Redis, username: str) -> None:
    redis.delete(*(key for key, _ in _keys(username, None)))
