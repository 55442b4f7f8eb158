"""Slow down password guessing without letting a stranger lock a person out.

Three counts of failed sign-ins, each over a window that starts at its first failure:

- a name from one address: after ``MAX_FAILURES`` that address waits (``429``) before trying that name again;
- one address, whatever the names: after ``MAX_FAILURES_PER_CLIENT`` it waits (people behind one NAT share it);
- a name from anywhere: never refused (anyone could then lock the administrator out), but every attempt on it
  waits a little before the password is checked, longer as failures pile up (``slowdown``).

The right password from another address therefore always works, at worst a few seconds later. The address is
the connection's: ``X-Forwarded-For`` counts only from a proxy the server is told to trust (uvicorn's
``FORWARDED_ALLOW_IPS``). Counts live in Redis (shared by every API process) and expire by themselves; the
decisions are pure functions.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis import Redis

MAX_FAILURES = 5  # per name and address
MAX_FAILURES_PER_CLIENT = 20  # per address: people behind one NAT share it
SLOW_DOWN_AFTER = 5  # failures on a name from anywhere before its attempts are slowed down
MAX_DELAY_SECONDS = 4.0
WINDOW_SECONDS = 15 * 60
_PREFIX = "lanner:login-failures:"


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # seconds until a new attempt is accepted
    delay: float = 0.0  # seconds to wait before checking the password of an accepted attempt


def decide(failures: int, seconds_left: int, *, max_failures: int = MAX_FAILURES) -> Verdict:
    """Whether one more attempt may be checked, given the failures counted in the current window."""
    if failures < max_failures:
        return Verdict(True)
    return Verdict(False, max(seconds_left, 1))


def slowdown(failures: int) -> float:
    """Seconds to wait before checking a password for a name that failed ``failures`` times from anywhere:
    one second at ``SLOW_DOWN_AFTER``, doubling, at most ``MAX_DELAY_SECONDS``."""
    if failures < SLOW_DOWN_AFTER:
        return 0.0
    return min(2.0 ** (failures - SLOW_DOWN_AFTER), MAX_DELAY_SECONDS)


def _name_key(username: str) -> str:
    return f"{_PREFIX}user:{username.lower()}"


def _limited_keys(username: str, client: str | None) -> list[tuple[str, int]]:
    """The counts that refuse, with their limits: this name from this address, and this address."""
    address = client or "unknown"
    return [
        (f"{_PREFIX}pair:{address}:{username.lower()}", MAX_FAILURES),
        (f"{_PREFIX}client:{address}", MAX_FAILURES_PER_CLIENT),
    ]


def check(redis: Redis, username: str, client: str | None) -> Verdict:
    pipeline = redis.pipeline()
    keys = _limited_keys(username, client)
    for key, _ in keys:
        pipeline.get(key)
        pipeline.ttl(key)
    pipeline.get(_name_key(username))
    *values, name_failures = pipeline.execute()
    verdicts = [
        decide(int(count or 0), int(ttl), max_failures=limit)
        for (_, limit), count, ttl in zip(keys, values[::2], values[1::2], strict=True)
    ]
    refused = [v for v in verdicts if not v.allowed]
    if refused:
        return max(refused, key=lambda v: v.retry_after)
    return Verdict(True, delay=slowdown(int(name_failures or 0)))


def record_failure(redis: Redis, username: str, client: str | None) -> None:
    pipeline = redis.pipeline()
    for key in [_name_key(username), *(key for key, _ in _limited_keys(username, client))]:
        # The window starts at the first failure (SET NX): later failures do not extend it. (EXPIRE NX would
        # say the same but needs Redis 7.)
        pipeline.set(key, 0, ex=WINDOW_SECONDS, nx=True)
        pipeline.incr(key)
    pipeline.execute()


def record_success(redis: Redis, username: str, client: str | None = None) -> None:
    """The person is in: their name is no longer slowed down, and this address may try it again at once."""
    redis.delete(_name_key(username), _limited_keys(username, client)[0][0])
