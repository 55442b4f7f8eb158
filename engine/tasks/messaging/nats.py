"""NATS tasks through engine/messaging/nats.py: core ``nats.publish`` (or a request waiting for its reply) and
``nats.consume``; JetStream ``nats.jetstream.publish`` and ``nats.jetstream.consume`` (a durable pull consumer)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from engine.core.durations import Duration
from engine.flows.spec import Computed
from engine.messaging import nats
from engine.messaging.nats import NatsServer
from engine.tasks.base import Task, registry
from engine.tasks.context import RunContext
from engine.tasks.messaging.common import ConsumeTask, PublishTask

#: How long a publish waits for the server when the task has no timeout of its own.
PUBLISH_SECONDS = 10.0
#: Most JetStream messages fetched in one request (a consume never holds more than it may take).
FETCH_BATCH = 100

Subject = Annotated[str, Field(min_length=1)]


class NatsTask(NatsServer, Task):
    """A task that connects to NATS: url, and username/password or token when the server asks for them."""

    def server(self) -> NatsServer:
        return NatsServer.model_validate({name: getattr(self, name) for name in NatsServer.model_fields})

    @staticmethod
    def wait(ctx: RunContext) -> float:
        return min(ctx.remaining() or PUBLISH_SECONDS, PUBLISH_SECONDS)


@registry.register
class NatsPublish(PublishTask, NatsTask):
    type: Literal["nats.publish"]
    subject: Subject
    """The subject to publish on, e.g. orders.created (core NATS: only subscribers listening right now get it)."""
    headers: dict[str, str] = Field(default_factory=dict)
    """NATS headers sent with the message, e.g. {source: lanner}."""
    reply_to: str | None = None
    """A subject where subscribers should send an answer (without request: this task does not wait for it)."""
    request: Computed[bool] = False
    """Wait for one answer (request-reply) and give it in output 'reply'; fails when nobody listens on the subject
    or no answer comes within requestTimeout."""
    request_timeout: Computed[Duration] = Field(default=dt.timedelta(seconds=5))
    """With request: how long to wait for the answer, e.g. 5s."""

    title: ClassVar[str] = "NATS publish"
    summary: ClassVar[str] = "Send a message on a NATS subject, or send a request and wait for its reply."
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {
            "url": "nats://nats.acme.internal:4222",
            "subject": "orders.created",
            "body": {"orderId": "{{ inputs.order_id }}", "total": 42.5},
            "headers": {"source": "lanner"},
        },
        {
            "url": "nats://nats.acme.internal:4222",
            "token": "{{ secret('NATS_TOKEN') }}",
            "subject": "prices.quote",
            "body": {"sku": "A-100"},
            "request": True,
            "requestTimeout": "3s",
        },
    )
    output_fields: ClassVar[dict[str, str]] = {
        "subject": "The subject the message was sent on.",
        "size": "The body's size in bytes.",
        "reply": "With request: the answer (body, json, headers, topic), else null.",
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        body = self.payload()
        reply = None
        if self.request:
            timeout = self.request_timeout.total_seconds()
            reply = nats.request(self.server(), self.subject, body, self.headers, timeout).as_output()
            ctx.log("INFO", f"request on {self.subject} ({len(body):,} bytes) answered on {self.server().where()}")
        else:
            nats.publish(self.server(), self.subject, body, self.headers, self.reply_to, self.wait(ctx))
            ctx.log("INFO", f"published {len(body):,} bytes on {self.subject} at {self.server().where()}")
        return {"subject": self.subject, "size": len(body), "reply": reply}


@registry.register
class NatsConsume(ConsumeTask, NatsTask):
    type: Literal["nats.consume"]
    subject: Subject
    """The subject to listen to; * matches one token, > the rest, e.g. orders.>."""
    queue_group: str | None = None
    """A queue group: each message goes to one member of the group only (tasks and services sharing the work)."""

    title: ClassVar[str] = "NATS consume"
    summary: ClassVar[str] = (
        "Listen to a core NATS subject for some messages or some time. Core NATS keeps nothing: only messages "
        "published while the task listens arrive, with no acknowledgement (use JetStream to lose none)."
    )
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {"url": "nats://nats.acme.internal:4222", "subject": "sensors.>", "maxDuration": "30s"},
        {
            "url": "nats://nats.acme.internal:4222",
            "subject": "orders.created",
            "queueGroup": "reporting",
            "maxRecords": 1000,
            "maxDuration": "5m",
            "output": "file",
        },
    )

    def run(self, ctx: RunContext) -> dict[str, Any]:
        return self.consume_from(nats.subscribe(self.server(), self.subject, self.queue_group), ctx)


@registry.register
class NatsJetStreamPublish(PublishTask, NatsTask):
    type: Literal["nats.jetstream.publish"]
    subject: Subject
    """The subject to publish on; the JetStream stream that takes this subject stores the message."""
    headers: dict[str, str] = Field(default_factory=dict)
    """NATS headers sent with the message, e.g. {source: lanner}."""
    msg_id: str | None = None
    """A unique id for the message (the Nats-Msg-Id header): the stream drops a second message with the same id
    within its duplicate window (2 minutes by default), so a retried task does not store it twice."""
    stream: str | None = None
    """Fail unless the stream taking the subject is this one."""

    title: ClassVar[str] = "NATS JetStream publish"
    summary: ClassVar[str] = (
        "Store a message in a JetStream stream and wait for the server's acknowledgement; a msgId drops duplicates."
    )
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {
            "url": "nats://nats.acme.internal:4222",
            "subject": "orders.created",
            "body": {"orderId": "{{ inputs.order_id }}"},
            "msgId": "order-{{ inputs.order_id }}",
        },
    )
    output_fields: ClassVar[dict[str, str]] = {
        "stream": "The stream that stored the message.",
        "sequence": "The message's sequence number in the stream.",
        "duplicate": "True when the stream already had a message with this msgId (this one was not stored again).",
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        body = self.payload()
        stored = nats.jetstream_publish(
            self.server(), self.subject, body, self.headers, self.msg_id, self.stream, self.wait(ctx)
        )
        again = " (a duplicate: not stored again)" if stored["duplicate"] else ""
        ctx.log("INFO", f"stored {len(body):,} bytes in {stored['stream']} as #{stored['sequence']}{again}")
        return stored


class DeliverPolicy(StrEnum):
    ALL = "all"
    NEW = "new"
    LAST = "last"


@registry.register
class NatsJetStreamConsume(ConsumeTask, NatsTask):
    type: Literal["nats.jetstream.consume"]
    subject: Subject
    """The subject to take messages of (wildcards allowed, e.g. orders.>); its stream is found by it."""
    durable: Annotated[str, Field(min_length=1, pattern=r"^[^.*>\s]+$")]
    """The durable consumer's name (created when missing): the server remembers what it acknowledged, so the next
    run goes on where this one stopped, and tasks sharing it share the messages."""
    stream: str | None = None
    """The stream to read; by default the one that takes the subject."""
    ack_wait: Computed[Duration] = Field(default=dt.timedelta(seconds=30))
    """When the consumer is created: how long the server waits for an acknowledgement before it delivers a message
    again, should this task die holding it."""
    deliver_policy: Computed[DeliverPolicy] = DeliverPolicy.ALL
    """When the consumer is created: all (every message in the stream), new (only those stored from now on),
    last (the last one, then new ones)."""

    title: ClassVar[str] = "NATS JetStream consume"
    summary: ClassVar[str] = (
        "Take messages from a JetStream stream through a durable consumer; each is acknowledged only once kept "
        "in the outputs or the stored file, so a crash before that gets them delivered again."
    )
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {
            "url": "nats://nats.acme.internal:4222",
            "subject": "orders.>",
            "durable": "orders_report",
            "maxRecords": 500,
            "maxDuration": "1m",
        },
        {
            "url": "nats://nats.acme.internal:4222",
            "username": "reporting",
            "password": "{{ secret('NATS_PASSWORD') }}",
            "subject": "events.>",
            "durable": "events_archive",
            "maxDuration": "10m",
            "output": "file",
            "fileName": "events.jsonl",
        },
    )

    def run(self, ctx: RunContext) -> dict[str, Any]:
        subscription = nats.subscribe_jetstream(
            self.server(),
            self.subject,
            self.durable,
            stream=self.stream,
            ack_wait=self.ack_wait.total_seconds(),
            deliver_policy=self.deliver_policy.value,
            batch=min(self.max_records or FETCH_BATCH, FETCH_BATCH),
        )
        return self.consume_from(subscription, ctx)
