"""Redis as a message broker (redis-py): lists as queues, streams with consumer groups, and pub/sub channels.
(Named so as not to shadow the ``redis`` package; Lanner's own Redis is engine/runtime's, this is the user's.)

Guarantees:
- a list is a queue: ``push`` appends at the tail and a ``ListSubscription`` takes from the head with BLMOVE into
  a processing list of its own, removed (LREM) on ``ack``. What a subscription holds goes back to the head of the
  queue when it is nacked or closed, or, should its process die, once its lease (a key refreshed by a heartbeat
  thread) expires: another subscription of the queue puts it back. At least once; a list keeps no message id nor
  delivery count (every message says 1);
- a stream with a consumer group: ``StreamSubscription`` reads new entries (XREADGROUP), acknowledges them with
  XACK, and claims (XAUTOCLAIM) entries another consumer has held unacknowledged for ``claim_idle``; while it
  lives it keeps the entries it holds fresh (XCLAIM JUSTID) so that nobody claims them from it. The message id is
  the entry id and the delivery count comes from XPENDING. At least once;
- pub/sub keeps nothing: a ``ChannelSubscription`` gets what is published while it listens, at most once, and its
  ``ack``/``nack`` do nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from pydantic import Field

from engine.core.durations import Duration
from engine.flows.spec import Computed, Spec
from engine.messaging.base import BrokerUnavailable, Message, without_password
from engine.tasks.context import TaskFailed

#: Longest a blocking read waits in one command: the socket's read timeout is this plus the connect timeout, so
#: a server that stops answering is noticed instead of waited for forever.
BLOCK_SECONDS = 5.0
#: The field of a stream entry that holds the message's body; the other fields are its headers.
BODY_FIELD = "body"
#: How long ago a nacked stream entry pretends it was delivered: any consumer claims it at its next XAUTOCLAIM.
NACKED_IDLE_MS = 86_400_000
#: A stream consumer holding nothing that has not read for this long is a subscription that is gone.
CONSUMER_FORGOTTEN_SECONDS = 600.0


class RedisServer(Spec):
    """Where and how to connect to a Redis server used as a broker."""

    url: Annotated[str, Field(min_length=1)] = "redis://localhost:6379/0"
    """The server's address: redis://host:6379/0 (the number is the database), rediss:// for TLS, or
    unix:///path/to/redis.sock?db=0; keep a password out of it and in password."""
    username: str | None = None
    """The account to sign in with (Redis 6 ACL users); empty: the default user."""
    password: str | None = None
    """The password; keep it in a secret: {{ secret('REDIS_PASSWORD') }}."""
    connect_timeout: Computed[Duration] = Field(default=dt.timedelta(seconds=5))
    """How long to wait for the server when connecting, e.g. 5s."""

    def where(self) -> str:
        return without_password(self.url)

    def client(self) -> Any:
        """A redis-py client of this server (connecting on its first command)."""
        import redis

        seconds = max(self.connect_timeout.total_seconds(), 0.1)
        try:
            return redis.Redis.from_url(
                self.url,
                username=self.username,
                password=self.password,
                socket_connect_timeout=seconds,
                socket_timeout=seconds + BLOCK_SECONDS,
                health_check_interval=30,
                client_name="lanner",
            )
        except ValueError as exc:  # the URL's own words; the password is not in them
            raise TaskFailed(f"url is not a Redis address ({exc}); e.g. redis://redis.acme.internal:6379/0") from None


@contextmanager
def talking_to(server: RedisServer, what: str) -> Iterator[None]:
    """Turn redis-py's errors inside the block into task errors naming the server (never its password)."""
    import redis.exceptions as errors

    try:
        yield
    except errors.AuthenticationError as exc:
        raise BrokerUnavailable(f"{what}: Redis at {server.where()} refused the credentials ({exc})") from None
    except (errors.ConnectionError, errors.TimeoutError, OSError) as exc:
        raise BrokerUnavailable(f"{what}: Redis at {server.where()} is unreachable ({exc})") from None
    except errors.RedisError as exc:
        raise TaskFailed(f"{what}: Redis at {server.where()} answered: {exc}") from None


def list_push(server: RedisServer, key: str, bodies: list[bytes], head: bool = False) -> int:
    """Append the bodies to the list (in order; at its head when ``head``): the list's length after."""
    client = server.client()
    with talking_to(server, f"pushing to {key}"):
        try:
            return client.lpush(key, *reversed(bodies)) if head else client.rpush(key, *bodies)
        finally:
            client.close()


def stream_add(
    server: RedisServer, key: str, body: bytes, fields: dict[str, str] | None = None, max_len: int | None = None
) -> str:
    """Add an entry (the body under ``body``, the fields beside it) to the stream, trimmed to about ``max_len``
    entries: the entry's id."""
    client = server.client()
    with talking_to(server, f"adding to {key}"):
        try:
            entry = client.xadd(key, {**(fields or {}), BODY_FIELD: body}, maxlen=max_len, approximate=True)
        finally:
            client.close()
    return entry.decode()


def publish(server: RedisServer, channel: str, body: bytes) -> int:
    """Publish on a pub/sub channel: how many subscribers received it (nobody keeps it for later)."""
    client = server.client()
    with talking_to(server, f"publishing on {channel}"):
        try:
            return client.publish(channel, body)
        finally:
            client.close()


def consumer_name() -> str:
    """A name no other subscription uses: host, process, and a random part."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


class Heartbeat:
    """Calls ``beat`` every ``interval`` seconds on a thread of its own until stopped; a failing beat is skipped
    (the subscription's next command reports a lost connection)."""

    def __init__(self, interval: float, beat: Callable[[], None], name: str) -> None:
        self._stop = threading.Event()
        self._interval, self._beat = interval, beat
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._beat()
            except Exception:  # noqa: S112 - the owner's next command says what is wrong
                continue

    def stop(self) -> None:
        self._stop.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(self._interval + 1)


def _wait_slices(timeout: float, longest: float) -> Iterator[float]:
    """The waits of one receive: ``timeout`` in slices of at most ``longest`` and BLOCK_SECONDS, so that what
    must happen between two waits (taking over a dead consumer's messages) does (Redis takes 0 as forever)."""
    deadline = time.monotonic() + timeout
    longest = min(longest, BLOCK_SECONDS)
    while True:
        left = deadline - time.monotonic()
        yield max(min(left, longest), 0.01)
        if left <= longest:
            return


# Put back one message a subscription holds: removed from its processing list, pushed back at the queue's head
# (only when it was still there, so that a message put back twice is not duplicated).
_GIVE_BACK = """
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 1 then
  redis.call('LPUSH', KEYS[2], ARGV[1])
  return 1
end
return 0
"""


class ListSubscription:
    """Takes messages from the head of a list, keeping each in a processing list of its own until acknowledged."""

    def __init__(self, server: RedisServer, key: str, lease: float = 30.0) -> None:
        self.server, self.key, self.lease = server, key, lease
        self.consumer = consumer_name()
        self._client = server.client()
        self._processing = self._processing_key(self.consumer)
        self._rescued_at = 0.0
        self._handed_out: Counter[bytes] = Counter()  # bodies received and not yet acknowledged nor given back
        with talking_to(server, f"subscribing to {key}"):
            self._beat()  # alive before it is registered: nobody ever takes it for dead
            self._client.sadd(self._consumers_key, self.consumer)
            self._give_back = self._client.register_script(_GIVE_BACK)
        self._heartbeat = Heartbeat(max(lease / 3, 0.2), self._beat, f"redis list lease {key}")

    @property
    def _consumers_key(self) -> str:
        return f"{self.key}:lanner:consumers"

    def _processing_key(self, consumer: str) -> str:
        return f"{self.key}:lanner:processing:{consumer}"

    def _alive_key(self, consumer: str) -> str:
        return f"{self.key}:lanner:alive:{consumer}"

    def _beat(self) -> None:
        self._client.set(self._alive_key(self.consumer), b"1", px=int(self.lease * 1000))

    def _requeue(self, consumer: str) -> int:
        """Move what ``consumer`` holds back to the queue's head, oldest first in the queue: how many."""
        moved = 0
        while self._client.lmove(self._processing_key(consumer), self.key, "LEFT", "LEFT") is not None:
            moved += 1
        return moved

    def _rescue(self) -> None:
        """Put back what subscriptions whose lease ran out (their process died) were holding, and what this one
        holds without having handed it out (a BLMOVE whose answer was lost with the connection: redis-py sent it
        again on a new one)."""
        self._rescued_at = time.monotonic()
        for member in self._client.smembers(self._consumers_key):
            consumer = member.decode()
            if consumer != self.consumer and not self._client.exists(self._alive_key(consumer)):
                self._requeue(consumer)
                self._client.srem(self._consumers_key, consumer)
        unknown = Counter(self._client.lrange(self._processing, 0, -1)) - self._handed_out
        for body in unknown.elements():
            self._give_back(keys=[self._processing, self.key], args=[body])

    def receive(self, timeout: float) -> Message | None:
        with talking_to(self.server, f"receiving from {self.key}"):
            for wait in _wait_slices(timeout, self.lease / 2):
                if time.monotonic() - self._rescued_at > self.lease / 2:
                    self._rescue()
                body = self._client.blmove(self.key, self._processing, wait, "LEFT", "LEFT")
                if body is not None:
                    self._handed_out[body] += 1
                    return Message(body=body, topic=self.key, receipt=body)
        return None

    def ack(self, message: Message) -> None:
        with talking_to(self.server, f"acknowledging a message of {self.key}"):
            self._client.lrem(self._processing, 1, message.receipt)
        self._settled(message.receipt)

    def nack(self, message: Message) -> None:
        with talking_to(self.server, f"giving back a message of {self.key}"):
            self._give_back(keys=[self._processing, self.key], args=[message.receipt])
        self._settled(message.receipt)

    def _settled(self, body: bytes) -> None:
        self._handed_out[body] -= 1
        if self._handed_out[body] <= 0:
            del self._handed_out[body]

    def close(self) -> None:
        """Put back what it holds (at the queue's head, in order) and leave."""
        self._heartbeat.stop()
        try:
            with talking_to(self.server, f"closing the subscription to {self.key}"):
                self._requeue(self.consumer)
                self._client.delete(self._alive_key(self.consumer))
                self._client.srem(self._consumers_key, self.consumer)
        except TaskFailed:  # unreachable: another subscription puts it back once the lease runs out
            pass
        finally:
            self._client.close()


def _text(value: bytes) -> str:
    return value.decode("utf-8", errors="replace")


def entry_message(key: str, entry_id: bytes, fields: dict[bytes, bytes], deliveries: int, group: str) -> Message:
    """A stream entry as a ``Message``: the body field as body (all fields as JSON when it has none), the other
    fields as headers, the entry id as message id and as timestamp (its first part is milliseconds)."""
    headers = {_text(name): _text(value) for name, value in fields.items() if name != BODY_FIELD.encode()}
    body = fields.get(BODY_FIELD.encode())
    if body is None:
        body = json.dumps(headers, ensure_ascii=False).encode()
    text_id = entry_id.decode()
    milliseconds = int(text_id.split("-", 1)[0])
    return Message(
        body=body,
        topic=key,
        headers=headers,
        message_id=text_id,
        delivery_count=max(deliveries, 1),
        timestamp=dt.datetime.fromtimestamp(milliseconds / 1000, dt.UTC),
        properties={"stream": key, "group": group},
        receipt=text_id,
    )


class StreamSubscription:
    """A consumer of a stream's consumer group (the group created when missing, at the stream's end or start)."""

    def __init__(
        self,
        server: RedisServer,
        key: str,
        group: str,
        consumer: str | None = None,
        start: str = "$",
        claim_idle: float = 60.0,
        batch: int = 10,
    ) -> None:
        import redis.exceptions

        self.server, self.key, self.group = server, key, group
        self.consumer = consumer or consumer_name()
        self.claim_idle, self.batch = claim_idle, max(batch, 1)
        self._client = server.client()
        self._buffer: deque[Message] = deque()
        self._held: set[str] = set()
        self._lock = threading.Lock()
        self._claim_cursor, self._claimed_at = "0-0", 0.0
        with talking_to(server, f"joining group {group} of {key}"):
            try:
                self._client.xgroup_create(key, group, id=start, mkstream=True)
            except redis.exceptions.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):  # the group exists: join it as it is
                    raise
        self._heartbeat = Heartbeat(max(claim_idle / 3, 0.2), self._keep_held, f"redis stream claims {key}")

    def _keep_held(self) -> None:
        with self._lock:
            held = list(self._held)
        if held:  # claiming its own entries again resets their idle time: nobody else claims them meanwhile
            self._client.xclaim(self.key, self.group, self.consumer, 0, held, justid=True)

    def _claim(self) -> list[tuple[bytes, dict | None]]:
        """Entries other consumers held unacknowledged for longer than ``claim_idle`` (or nacked), now ours."""
        self._claimed_at = time.monotonic()
        answer = self._client.xautoclaim(
            self.key, self.group, self.consumer, int(self.claim_idle * 1000), self._claim_cursor, count=self.batch
        )
        cursor, entries = answer[0], answer[1]
        self._claim_cursor = cursor.decode() if isinstance(cursor, bytes) else str(cursor)
        self._forget_idle_consumers()
        return entries

    def _forget_idle_consumers(self) -> None:
        """Remove the group's consumers that hold nothing and have not read for long (closed or dead
        subscriptions' names, which would otherwise pile up; a live one reads every few seconds, and is made
        again by its next read if it was not)."""
        idle_ms = max(self.claim_idle * 2, CONSUMER_FORGOTTEN_SECONDS) * 1000
        for consumer in self._client.xinfo_consumers(self.key, self.group):
            if consumer["pending"] == 0 and consumer["idle"] > idle_ms and consumer["name"] != self.consumer.encode():
                self._client.xgroup_delconsumer(self.key, self.group, consumer["name"])

    def _take(self, entries: list[tuple[bytes, dict | None]]) -> None:
        """Buffer the entries with their delivery counts (an entry trimmed away meanwhile comes back empty from a
        claim: Redis 7 drops it from the pending entries itself)."""
        entries = [(entry_id, fields) for entry_id, fields in entries if entry_id is not None and fields is not None]
        if not entries:
            return
        pending = self._client.xpending_range(
            self.key, self.group, entries[0][0], entries[-1][0], len(entries), consumername=self.consumer
        )
        deliveries = {row["message_id"]: row["times_delivered"] for row in pending}
        with self._lock:
            for entry_id, fields in entries:
                message = entry_message(self.key, entry_id, fields, deliveries.get(entry_id, 1), self.group)
                self._held.add(message.receipt)
                self._buffer.append(message)

    def receive(self, timeout: float) -> Message | None:
        with talking_to(self.server, f"receiving from {self.key}"):
            for wait in _wait_slices(timeout, self.claim_idle / 2):
                if self._buffer:
                    break
                if time.monotonic() - self._claimed_at > self.claim_idle / 2:
                    self._take(self._claim())
                    if self._buffer:
                        break
                answer = self._client.xreadgroup(
                    self.group, self.consumer, {self.key: ">"}, count=self.batch, block=int(wait * 1000) or 1
                )
                if answer:
                    self._take(answer[0][1])
        return self._buffer.popleft() if self._buffer else None

    def ack(self, message: Message) -> None:
        with talking_to(self.server, f"acknowledging {message.message_id} of {self.key}"):
            self._client.xack(self.key, self.group, message.receipt)
        with self._lock:
            self._held.discard(message.receipt)

    def nack(self, message: Message) -> None:
        self._give_back([message.receipt])

    def _give_back(self, entry_ids: list[str]) -> None:
        """Make the entries claimable at once: still pending, but as if delivered long ago."""
        with self._lock:
            self._held.difference_update(entry_ids)
        if entry_ids:
            with talking_to(self.server, f"giving back entries of {self.key}"):
                self._client.xclaim(self.key, self.group, self.consumer, 0, entry_ids, idle=NACKED_IDLE_MS, justid=True)
            self._claimed_at = 0.0  # this subscription, too, may take them again at its next receive

    def close(self) -> None:
        """Give back what it holds, and leave the group when nothing is pending for it."""
        self._heartbeat.stop()
        with self._lock:
            held = list(self._held)
        self._buffer.clear()
        try:
            self._give_back(held)
            with talking_to(self.server, f"leaving group {self.group} of {self.key}"):
                pending = self._client.xpending_range(self.key, self.group, "-", "+", 1, consumername=self.consumer)
                if not pending:
                    self._client.xgroup_delconsumer(self.key, self.group, self.consumer)
        except TaskFailed:  # unreachable: other consumers claim its entries after claim_idle
            pass
        finally:
            self._client.close()


class ChannelSubscription:
    """Pub/sub: what is published on the channels (or channels matching the patterns) while it listens; nothing
    to acknowledge, nothing given back."""

    def __init__(self, server: RedisServer, channels: list[str], patterns: list[str] | None = None) -> None:
        self.server = server
        self._client = server.client()
        self._pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        with talking_to(server, f"subscribing to {', '.join([*channels, *(patterns or [])])}"):
            if channels:
                self._pubsub.subscribe(*channels)
            if patterns:
                self._pubsub.psubscribe(*patterns)

    def receive(self, timeout: float) -> Message | None:
        deadline = time.monotonic() + timeout
        with talking_to(self.server, "receiving from pub/sub"):
            while True:
                left = deadline - time.monotonic()
                got = self._pubsub.get_message(timeout=max(min(left, BLOCK_SECONDS), 0.0))
                if got and got["type"] in ("message", "pmessage"):
                    properties = {"pattern": _text(got["pattern"])} if got.get("pattern") else {}
                    return Message(body=got["data"], topic=_text(got["channel"]), properties=properties)
                if left <= 0:
                    return None

    def ack(self, message: Message) -> None:
        """Nothing to do: pub/sub keeps no message."""

    def nack(self, message: Message) -> None:
        """Nothing to do: pub/sub cannot deliver a message again (it is dropped)."""

    def close(self) -> None:
        try:
            self._pubsub.close()
        finally:
            self._client.close()
