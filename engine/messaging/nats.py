"""NATS: core publish, request and subscribe, and JetStream publish and durable pull consumers (nats-py).

nats-py is asyncio only: each ``NatsConnection`` runs its client on an ``EventLoopThread`` and the functions here
are synchronous. A connection never reconnects by itself: when it drops, a subscription raises
``BrokerUnavailable`` and its owner (a task, the trigger listener) decides whether to open a new one.

Guarantees:
- core NATS keeps nothing: a subscriber gets the messages published while it is subscribed, at most once, and
  there is nothing to acknowledge (``ack`` and ``nack`` do nothing; a message received and not handled is lost);
- JetStream stores messages in a stream; a durable pull consumer hands each one out until it is acknowledged
  (explicit ack). A message received and not acknowledged is delivered again after ``ack_wait`` when its consumer
  died, at once when it is nacked or its subscription closed (``close`` gives back what it holds; see
  ``PULL_REQUEST_SLACK`` for the one case where "at once" waits a moment); while a live
  subscription holds it, "in progress" signals keep the server from handing it to another consumer. Its id is
  the stream sequence, its delivery count the server's. Publishing waits for the server's acknowledgement, and a
  ``Nats-Msg-Id`` header makes the server drop a copy published again within the stream's duplicate window.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections import deque
from typing import Annotated, Any

from pydantic import Field

from engine.core.durations import Duration
from engine.flows.spec import Computed, Spec
from engine.messaging.base import BrokerUnavailable, Message, without_password
from engine.messaging.event_loop import EventLoopThread
from engine.tasks.context import TaskFailed

#: Added to a call's own timeout before the caller stops waiting for the event loop (the call times out first).
MARGIN_SECONDS = 5.0
#: The header JetStream reads to drop duplicates (within the stream's duplicate window).
MSG_ID_HEADER = "Nats-Msg-Id"
DEFAULT_URL = "nats://localhost:4222"
#: The shortest wait nats-py accepts for a message (it refuses 0).
SHORTEST_WAIT = 0.01
#: How long past its client-side wait a pull request may stay open at the server, which counts its expiry from
#: when the request arrives. A message given back while a request of ours is open there is delivered to that
#: request at once, and so to nobody once we close: it would only come again after ``ack_wait``. What we give back
#: is therefore redelivered after the last request we made has surely expired.
PULL_REQUEST_SLACK = 0.5


class NatsServer(Spec):
    """Where and how to connect to a NATS server (or cluster)."""

    url: Annotated[str, Field(min_length=1)] = DEFAULT_URL
    """The server's address, e.g. nats://nats.acme.internal:4222 (tls://... for TLS with the system's certificate
    authorities); several servers of one cluster separated by commas."""
    username: str | None = None
    """The account to sign in with, when the server asks for a user and password."""
    password: str | None = None
    """That account's password; keep it in a secret: {{ secret('NATS_PASSWORD') }}."""
    token: str | None = None
    """An authentication token, when the server asks for one; keep it in a secret: {{ secret('NATS_TOKEN') }}."""
    connect_timeout: Computed[Duration] = Field(default=dt.timedelta(seconds=5))
    """How long to wait for the server when connecting, e.g. 5s."""

    def servers(self) -> list[str]:
        return [part.strip() if "://" in part else f"nats://{part.strip()}" for part in self.url.split(",")]

    def where(self) -> str:
        """The servers' addresses without any password in them: what messages and logs name."""
        return ", ".join(without_password(server) for server in self.servers())


class NatsConnection:
    """An open connection to NATS, its client running on a thread of its own; close it when done."""

    def __init__(self, server: NatsServer) -> None:
        self.server = server
        self.where = server.where()
        self.client: Any = None
        self._errors: list[BaseException] = []
        self._loop = EventLoopThread(f"nats {self.where}")
        wait = self.connect_seconds() * 2 + 1  # two tries per server, half a second apart
        try:
            self.client = self._loop.run(self._connect(), wait * len(server.servers()) + MARGIN_SECONDS)
        except BaseException as exc:
            self._loop.close()
            if not isinstance(exc, Exception):  # an interrupt stays one
                raise
            raise self.failure(exc, "connecting") from None

    def connect_seconds(self) -> float:
        return max(self.server.connect_timeout.total_seconds(), 0.1)

    async def _connect(self) -> Any:
        import nats

        async def remember(error: Exception) -> None:  # instead of nats-py's default: a traceback on stderr
            self._errors.append(error)

        return await nats.connect(
            self.server.servers(),
            user=self.server.username,
            password=self.server.password,
            token=self.server.token,
            connect_timeout=self.connect_seconds(),
            # Two tries per server (nats-py's default is 60, two minutes on a closed port), and no reconnection
            # later: the owner of the connection decides what to do when it drops.
            max_reconnect_attempts=1,
            reconnect_time_wait=0.5,
            allow_reconnect=False,
            error_cb=remember,
            name="lanner",
        )

    def run(self, coroutine: Any, timeout: float, what: str) -> Any:
        """Run a coroutine of the client; its errors as ``TaskFailed`` (``BrokerUnavailable`` when the connection
        is gone) saying ``what`` failed."""
        if self.closed:
            coroutine.close()
            raise BrokerUnavailable(f"{what}: the connection to NATS at {self.where} is closed")
        try:
            return self._loop.run(coroutine, timeout + MARGIN_SECONDS)
        except Exception as exc:
            raise self.failure(exc, what, timeout) from None

    def spawn(self, coroutine: Any) -> None:
        """Run a coroutine in the background, for as long as the connection is open."""
        self._loop.spawn(coroutine)

    @property
    def closed(self) -> bool:
        return self.client is None or self.client.is_closed

    def failure(self, error: BaseException, what: str, timeout: float | None = None) -> TaskFailed:
        """A task error saying what failed, naming the servers (never a password), and the broker's reason."""
        import nats.errors
        import nats.js.errors

        if isinstance(error, nats.errors.NoServersError) and self._errors:
            error = self._errors[-1]  # nats-py says "no servers available": the last try's error says why
        detail = str(error) or type(error).__name__
        for secret in (self.server.password, self.server.token):
            if secret:
                detail = detail.replace(secret, "***")
        if isinstance(error, nats.errors.AuthorizationError):
            return BrokerUnavailable(f"{what}: NATS at {self.where} refused the credentials ({detail})")
        if isinstance(error, nats.errors.NoRespondersError):
            return TaskFailed(f"{what}: no subscriber listens on that subject at NATS {self.where}")
        if isinstance(error, nats.js.errors.NoStreamResponseError):
            return TaskFailed(f"{what}: no JetStream stream takes that subject at NATS {self.where}")
        if isinstance(error, nats.js.errors.NotFoundError):  # no description: looking a stream up by subject
            found = error.description or "no stream takes that subject"
            return TaskFailed(f"{what}: NATS at {self.where} found nothing: {found}")
        if isinstance(error, nats.js.errors.APIError):
            return TaskFailed(f"{what}: NATS at {self.where} answered: {error.description or detail}")
        if self.client is None:
            return BrokerUnavailable(f"could not connect to NATS at {self.where}: {detail}")
        if isinstance(error, asyncio.TimeoutError | TimeoutError) and not self.closed:  # TimeoutError is an OSError
            return TaskFailed(f"{what}: no answer from NATS at {self.where} within {timeout or 0:g}s")
        gone = (nats.errors.ConnectionClosedError, nats.errors.StaleConnectionError, nats.errors.NoServersError)
        if isinstance(error, (*gone, OSError)) or self.closed:
            return BrokerUnavailable(f"{what}: lost the connection to NATS at {self.where} ({detail})")
        return TaskFailed(f"{what}: NATS at {self.where}: {detail}")

    def close(self) -> None:
        """Flush what was published and close; calling it again does nothing."""
        client, self.client = self.client, None
        try:
            if client is not None and not client.is_closed:
                self._loop.run(client.close(), MARGIN_SECONDS)
        except Exception:  # noqa: S110 - closing a connection that already failed: nothing left to say
            pass
        finally:
            self._loop.close()

    def __enter__(self) -> NatsConnection:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def message_of(msg: Any) -> Message:
    """A nats-py message as a ``Message``; a JetStream one with its stream sequence as id and its delivery count,
    a core one with its ``Nats-Msg-Id`` header (when the publisher set one) as id."""
    headers = dict(msg.headers or {})
    if not msg.reply.startswith("$JS.ACK."):
        return Message(
            body=msg.data,
            topic=msg.subject,
            headers=headers,
            message_id=headers.get(MSG_ID_HEADER),
            properties={"reply": msg.reply} if msg.reply else {},
            receipt=msg,
        )
    meta = msg.metadata
    return Message(
        body=msg.data,
        topic=msg.subject,
        headers=headers,
        message_id=str(meta.sequence.stream),
        delivery_count=meta.num_delivered,
        timestamp=meta.timestamp,
        properties={
            "stream": meta.stream,
            "consumer": meta.consumer,
            "streamSequence": meta.sequence.stream,
            "consumerSequence": meta.sequence.consumer,
            "pending": meta.num_pending,
        },
        receipt=msg,
    )


def publish(
    server: NatsServer,
    subject: str,
    body: bytes,
    headers: dict[str, str] | None = None,
    reply_to: str | None = None,
    timeout: float = 10.0,
) -> None:
    """Publish on core NATS and return once the server has it (a flush); whether anyone listened is not known."""
    with NatsConnection(server) as connection:

        async def send() -> None:
            await connection.client.publish(subject, body, reply=reply_to or "", headers=headers or None)
            await connection.client.flush(timeout)

        connection.run(send(), timeout, f"publishing on {subject}")


def request(
    server: NatsServer, subject: str, body: bytes, headers: dict[str, str] | None = None, timeout: float = 5.0
) -> Message:
    """Publish a request and return the first reply (``TaskFailed`` when nobody listens or none answers in time)."""
    with NatsConnection(server) as connection:
        reply = connection.run(
            connection.client.request(subject, body, timeout=timeout, headers=headers or None),
            timeout,
            f"request on {subject}",
        )
    return message_of(reply)


def jetstream_publish(
    server: NatsServer,
    subject: str,
    body: bytes,
    headers: dict[str, str] | None = None,
    msg_id: str | None = None,
    stream: str | None = None,
    timeout: float = 10.0,
) -> dict[str, Any]:
    """Publish into the stream that takes ``subject`` and wait for its acknowledgement: the stream, the message's
    sequence in it, and whether the server dropped it as a duplicate of an earlier ``msg_id``."""
    sent = dict(headers or {})
    if msg_id:
        sent[MSG_ID_HEADER] = msg_id
    with NatsConnection(server) as connection:
        ack = connection.run(
            connection.client.jetstream().publish(subject, body, timeout=timeout, stream=stream, headers=sent or None),
            timeout,
            f"publishing on {subject} to JetStream",
        )
    return {"stream": ack.stream, "sequence": ack.seq, "duplicate": bool(ack.duplicate)}


class CoreSubscription:
    """A core NATS subscription (optionally in a queue group): messages published while it is open, at most once;
    ``ack`` and ``nack`` do nothing (core NATS keeps no message to give back)."""

    def __init__(self, server: NatsServer, subject: str, queue: str | None = None) -> None:
        self.subject = subject
        self._connection = NatsConnection(server)
        try:
            self._sub = self._connection.run(
                self._subscribe(queue or ""), self._connection.connect_seconds(), f"subscribing to {subject}"
            )
        except BaseException:
            self._connection.close()
            raise

    async def _subscribe(self, queue: str) -> Any:
        sub = await self._connection.client.subscribe(self.subject, queue=queue)
        await self._connection.client.flush()  # the server has the subscription: what is published next reaches it
        return sub

    def receive(self, timeout: float) -> Message | None:
        wait = max(timeout, SHORTEST_WAIT)
        msg = self._connection.run(self._next(wait), wait, f"receiving from {self.subject}")
        return None if msg is None else message_of(msg)

    async def _next(self, wait: float) -> Any:

        try:
            return await self._sub.next_msg(timeout=wait)
        except TimeoutError:  # nats-py's own is one
            return None

    def ack(self, message: Message) -> None:
        """Nothing to do: core NATS does not redeliver."""

    def nack(self, message: Message) -> None:
        """Nothing to do: core NATS cannot redeliver (the message is dropped)."""

    def close(self) -> None:
        self._connection.close()


class JetStreamSubscription:
    """A durable JetStream pull consumer (created when missing) with explicit acknowledgement.

    Messages are fetched ``batch`` at a time; every message fetched and not yet acknowledged is "held": a
    background task tells the server it is in progress every third of ``ack_wait`` so that no other consumer gets
    it while this subscription lives, and ``close`` nacks them all so that they are delivered again at once
    (within ``PULL_REQUEST_SLACK`` of the last fetch that waited its whole time)."""

    def __init__(
        self,
        server: NatsServer,
        subject: str,
        durable: str,
        stream: str | None = None,
        ack_wait: float = 30.0,
        deliver_policy: str = "all",
        batch: int = 10,
    ) -> None:
        self.subject, self.durable, self.batch, self.ack_wait = subject, durable, max(batch, 1), ack_wait
        self._buffer: deque[Any] = deque()
        self._held: dict[int, Any] = {}  # stream sequence -> message; touched only on the loop's thread
        self._requests_open_until = 0.0  # monotonic: when the last pull request we made has surely expired
        self._connection = NatsConnection(server)
        try:
            self._sub = self._connection.run(
                self._subscribe(stream, deliver_policy),
                self._connection.connect_seconds() * 2,
                f"subscribing to {subject} with the durable consumer {durable}",
            )
        except BaseException:
            self._connection.close()
            raise
        self._connection.spawn(self._keep_held())

    async def _subscribe(self, stream: str | None, deliver_policy: str) -> Any:
        from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

        config = ConsumerConfig(
            ack_policy=AckPolicy.EXPLICIT, ack_wait=self.ack_wait, deliver_policy=DeliverPolicy(deliver_policy)
        )
        return await self._connection.client.jetstream().pull_subscribe(
            self.subject, durable=self.durable, stream=stream, config=config
        )

    async def _keep_held(self) -> None:
        interval = max(self.ack_wait / 3, 0.5)
        while True:
            await asyncio.sleep(interval)
            for msg in list(self._held.values()):
                try:
                    await msg.in_progress()
                except Exception:  # noqa: S112 - a lost connection is reported by the next receive
                    continue

    def receive(self, timeout: float) -> Message | None:
        if not self._buffer:
            wait = max(timeout, SHORTEST_WAIT * 10)  # a shorter fetch gives the server no time to answer
            asked = time.monotonic()
            try:
                self._buffer.extend(self._connection.run(self._fetch(wait), wait, f"receiving from {self.subject}"))
            finally:
                # A fetch that ended early was answered in full (a batch, or "no messages"). One that waited its
                # whole time leaves its pull request open at the server a little longer.
                if time.monotonic() - asked >= wait - SHORTEST_WAIT:
                    self.asked_until(asked + wait)
        return message_of(self._buffer.popleft()) if self._buffer else None

    def asked_until(self, expires: float) -> None:
        """Note a pull request made for this subscription that the server keeps open until ``expires``
        (monotonic), as far as the client can tell."""
        self._requests_open_until = max(self._requests_open_until, expires + PULL_REQUEST_SLACK)

    def _redelivery_delay(self) -> float | None:
        """How long the server should wait before it delivers again what we give back: until no pull request of
        ours can still be open there (None: at once)."""
        left = self._requests_open_until - time.monotonic()
        return left if left > 0 else None

    async def _fetch(self, wait: float) -> list[Any]:

        try:
            fetched = await self._sub.fetch(self.batch, timeout=wait)
        except TimeoutError:  # nats-py raises its own (a subclass) or, from some paths, asyncio's
            return []
        for msg in fetched:
            self._held[msg.metadata.sequence.stream] = msg
        return fetched

    def ack(self, message: Message) -> None:
        """Acknowledged, and the server confirmed it: it will not be delivered again."""
        self._connection.run(self._settle(message, ack=True), self._connection.connect_seconds(), "acknowledging")

    def nack(self, message: Message) -> None:
        """Given back: the server delivers it again at once (to this or another consumer)."""
        self._connection.run(self._settle(message, ack=False), self._connection.connect_seconds(), "nacking")

    async def _settle(self, message: Message, ack: bool) -> None:
        msg = message.receipt
        self._held.pop(msg.metadata.sequence.stream, None)
        if ack:
            await msg.ack_sync(timeout=self._connection.connect_seconds())
        else:
            await msg.nak(delay=self._redelivery_delay())

    def close(self) -> None:
        """Give back what was fetched and not acknowledged, then close; the durable consumer stays on the server."""
        if not self._connection.closed:
            with contextlib.suppress(TaskFailed):  # the connection is gone: the server redelivers after ack_wait
                self._connection.run(self._give_back(), self._connection.connect_seconds(), "closing")
        self._buffer.clear()
        self._connection.close()

    async def _give_back(self) -> None:
        held, self._held = list(self._held.values()), {}
        delay = self._redelivery_delay()
        for msg in held:
            await msg.nak(delay=delay)
        await self._connection.client.flush()


def subscribe(server: NatsServer, subject: str, queue: str | None = None) -> CoreSubscription:
    """A core NATS subscription to ``subject`` (wildcards allowed); with ``queue``, each message goes to one
    member of the queue group only."""
    return CoreSubscription(server, subject, queue)


def subscribe_jetstream(
    server: NatsServer,
    subject: str,
    durable: str,
    stream: str | None = None,
    ack_wait: float = 30.0,
    deliver_policy: str = "all",
    batch: int = 10,
) -> JetStreamSubscription:
    """A durable pull consumer ``durable`` of the stream taking ``subject`` (found by the subject unless
    ``stream`` is given). ``ack_wait`` and ``deliver_policy`` (all, new, last) apply when it is created; several
    subscriptions to one durable share its messages (each goes to one of them)."""
    return JetStreamSubscription(server, subject, durable, stream, ack_wait, deliver_policy, batch)
