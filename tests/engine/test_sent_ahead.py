"""Redis commands sent now, answered later (engine/runtime/sent_ahead.py), on a real Redis: the commands apply as
soon as they are sent, the answers come in order, errors are raised, and no connection goes back to the pool with
answers unread on it."""

from __future__ import annotations

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from engine.runtime.connection import connect
from engine.runtime.sent_ahead import SentAhead


@pytest.fixture
def r(redis_server):
    client = connect(redis_server)
    client.flushdb()
    yield client
    client.flushdb()


def _in_use(client: redis.Redis) -> int:
    return len(client.connection_pool._in_use_connections)


def test_commands_apply_once_sent_and_answer_in_order_when_asked(r):
    ahead = SentAhead(r, [("SET", "a", "1", "NX"), ("SET", "a", "2", "NX"), ("INCR", "n"), ("GET", "missing")])
    assert r.get("a") == b"1"  # applied before the answers are read: another connection sees it
    assert _in_use(r) == 1  # the one holding the unread answers
    assert ahead.answers() == [b"OK", None, 1, None]
    assert ahead.answers() == [b"OK", None, 1, None]  # read once, kept
    assert _in_use(r) == 0  # back to the pool, with nothing left on it
    assert r.ping()


def test_a_transaction_applies_all_its_commands_and_answers_each(r):
    ahead = SentAhead(r, [("HSET", "h", "k", "v"), ("SADD", "s", "x"), ("PERSIST", "h")], transaction=True)
    assert ahead.answers() == [1, 1, 0]
    assert r.hget("h", "k") == b"v" and r.smembers("s") == {b"x"}


def test_an_error_answer_is_raised_and_its_connection_still_usable(r):
    r.set("text", "not a number")
    ahead = SentAhead(r, [("INCR", "text"), ("SET", "after", "1")])
    with pytest.raises(redis.ResponseError, match="not an integer"):
        ahead.answers()
    assert r.get("after") == b"1"  # the commands after the failing one applied
    assert _in_use(r) == 0 and r.ping()


def test_a_transaction_with_a_failing_command_raises_it(r):
    r.set("text", "not a number")
    ahead = SentAhead(r, [("SET", "before", "1"), ("INCR", "text")], transaction=True)
    with pytest.raises(redis.ResponseError, match="not an integer"):
        ahead.answers()
    assert r.get("before") == b"1"  # MULTI/EXEC applies the rest: Redis has no rollback
    assert _in_use(r) == 0 and r.ping()


def test_answers_given_up_close_the_connection_and_the_commands_still_apply(r):
    ahead = SentAhead(r, [("SET", "given-up", "1")])
    ahead.discard()
    ahead.discard()  # twice is harmless
    assert _in_use(r) == 0
    assert r.get("given-up") == b"1"
    with pytest.raises(redis.ConnectionError, match="discarded"):
        ahead.answers()
    assert r.ping()  # the next command takes a connection with nothing unread on it


def test_a_server_that_is_gone_fails_the_send_and_leaks_no_connection():
    no_retry = Retry(NoBackoff(), 0)
    gone = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=1, retry=no_retry)  # nothing listens there
    with pytest.raises(redis.ConnectionError):
        SentAhead(gone, [("SET", "k", "v")])
    assert _in_use(gone) == 0
