"""Redis as a broker, through engine/messaging/redis_streams.py: ``redis.list.push`` and ``redis.list.pop`` (a list
as a queue), ``redis.stream.add`` and ``redis.stream.read`` (a stream and its consumer group), ``redis.publish``
(pub/sub)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, model_validator

from engine.core.durations import Duration
from engine.flows.spec import Computed
from engine.messaging import redis_streams
from engine.messaging.base import body_bytes
from engine.messaging.redis_streams import RedisServer
from engine.tasks.base import Task, registry
from engine.tasks.context import RunContext
from engine.tasks.messaging.common import ConsumeTask, PublishTask

#: Most stream entries read in one command (a consume never holds more than it may take).
READ_BATCH = 100
URL = "redis://redis.acme.internal:6379/0"
PASSWORD = "{{ secret('REDIS_PASSWORD') }}"  # noqa: S105 - an expression reading a secret

Key = Annotated[str, Field(min_length=1)]


class RedisTask(RedisServer, Task):
    """A task that connects to a Redis server: url, and username/password when the server asks for them."""

    def server(self) -> RedisServer:
        return RedisServer.model_validate({name: getattr(self, name) for name in RedisServer.model_fields})


@registry.register
class RedisListPush(PublishTask, RedisTask):
    type: Literal["redis.list.push"]
    key: Key
    """The list, e.g. orders:todo (created when missing)."""
    bodies: list[Any] | None = None
    """Several messages at once, pushed in this order, each as body would be (text as is, other values as JSON);
    give body, bodyBase64 or bodies."""
    head: Computed[bool] = False
    """Push at the head of the list (taken first by redis.list.pop) instead of its tail."""

    title: ClassVar[str] = "Redis list push"
    summary: ClassVar[str] = "Append messages to a Redis list used as a queue (taken in order by redis.list.pop)."
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {"url": URL, "password": PASSWORD, "key": "orders:todo", "body": {"orderId": "{{ inputs.order_id }}"}},
        {"url": URL, "key": "emails:outbox", "bodies": ["{{ inputs.first }}", "{{ inputs.second }}"]},
    )
    output_fields: ClassVar[dict[str, str]] = {
        "count": "How many messages were pushed.",
        "length": "The list's length after the push.",
    }

    @model_validator(mode="after")
    def _bodies_alone(self) -> RedisListPush:
        if self.bodies is not None and (self.body is not None or self.body_base64 is not None):
            raise ValueError("give body, bodyBase64 or bodies, only one of them")
        if self.bodies == []:
            raise ValueError("bodies is empty: give at least one message")
        return self

    def run(self, ctx: RunContext) -> dict[str, Any]:
        messages = [body_bytes(body) for body in self.bodies] if self.bodies is not None else [self.payload()]
        length = redis_streams.list_push(self.server(), self.key, messages, head=self.head)
        ctx.log("INFO", f"pushed {len(messages):,} messages to {self.key} ({length:,} in the list now)")
        return {"count": len(messages), "length": length}


@registry.register
class RedisListPop(ConsumeTask, RedisTask):
    type: Literal["redis.list.pop"]
    key: Key
    """The list to take messages from, at its head (oldest first when they are pushed at the tail)."""
    lease: Computed[Duration] = Field(default=dt.timedelta(seconds=30))
    """Messages being taken are kept aside until they are stored; should the task's worker die, another
    consumer of the list puts them back once this long has passed without a sign of life."""

    title: ClassVar[str] = "Redis list pop"
    summary: ClassVar[str] = (
        "Take messages from a Redis list used as a queue; they are removed only once kept in the outputs or the "
        "stored file, and put back when the task fails or dies first."
    )
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {"url": URL, "password": PASSWORD, "key": "orders:todo", "maxRecords": 100, "maxDuration": "10s"},
        {"url": URL, "key": "events", "maxDuration": "1m", "output": "file", "fileName": "events.jsonl"},
    )

    def run(self, ctx: RunContext) -> dict[str, Any]:
        subscription = redis_streams.ListSubscription(self.server(), self.key, self.lease.total_seconds())
        return self.consume_from(subscription, ctx)


@registry.register
class RedisStreamAdd(PublishTask, RedisTask):
    type: Literal["redis.stream.add"]
    key: Key
    """The stream, e.g. orders (created when missing)."""
    fields: dict[str, str] = Field(default_factory=dict)
    """More fields of the entry besides body (read back as the message's headers), e.g. {source: lanner}."""
    max_len: Computed[Annotated[int, Field(ge=1)]] | None = None
    """Keep the stream to about this many entries, the oldest trimmed away (approximately, which is cheap)."""

    title: ClassVar[str] = "Redis stream add"
    summary: ClassVar[str] = "Add an entry to a Redis stream: the body in field 'body', other fields beside it."
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {
            "url": URL,
            "password": PASSWORD,
            "key": "orders",
            "body": {"orderId": "{{ inputs.order_id }}"},
            "fields": {"source": "lanner"},
            "maxLen": 100000,
        },
    )
    output_fields: ClassVar[dict[str, str]] = {"id": "The entry's id in the stream, e.g. 1764504000000-0."}

    @model_validator(mode="after")
    def _body_field_once(self) -> RedisStreamAdd:
        if redis_streams.BODY_FIELD in self.fields:
            raise ValueError(f"fields cannot hold '{redis_streams.BODY_FIELD}': the message's body goes there")
        return self

    def run(self, ctx: RunContext) -> dict[str, Any]:
        entry = redis_streams.stream_add(self.server(), self.key, self.payload(), self.fields, self.max_len)
        ctx.log("INFO", f"added {entry} to {self.key}")
        return {"id": entry}


class StreamStart(StrEnum):
    NEW = "new"
    ALL = "all"


@registry.register
class RedisStreamRead(ConsumeTask, RedisTask):
    type: Literal["redis.stream.read"]
    key: Key
    """The stream to read."""
    consumer_group: Annotated[str, Field(min_length=1)]
    """The consumer group (created when missing): it remembers what was acknowledged, so the next run goes on
    where this one stopped, and tasks reading with one group share the entries."""
    consumer: str | None = None
    """This reader's name in the group; by default a new one each run."""
    start: Computed[StreamStart] = StreamStart.NEW
    """When the group is created: new (entries added from now on) or all (every entry in the stream)."""
    claim_idle: Computed[Duration] = Field(default=dt.timedelta(minutes=1))
    """Also take entries another reader of the group received and has not acknowledged for this long (a reader
    that died): at least once, never lost."""

    title: ClassVar[str] = "Redis stream read"
    summary: ClassVar[str] = (
        "Read a Redis stream with a consumer group; entries are acknowledged only once kept in the outputs or the "
        "stored file, and those a dead reader left are taken over."
    )
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {"url": URL, "password": PASSWORD, "key": "orders", "consumerGroup": "reporting", "maxRecords": 500},
        {
            "url": URL,
            "key": "events",
            "consumerGroup": "archive",
            "start": "all",
            "maxDuration": "5m",
            "output": "file",
            "fileName": "events.jsonl",
        },
    )

    def run(self, ctx: RunContext) -> dict[str, Any]:
        subscription = redis_streams.StreamSubscription(
            self.server(),
            self.key,
            self.consumer_group,
            consumer=self.consumer or None,
            start="$" if self.start == StreamStart.NEW else "0",
            claim_idle=self.claim_idle.total_seconds(),
            batch=min(self.max_records or READ_BATCH, READ_BATCH),
        )
        return self.consume_from(subscription, ctx)


@registry.register
class RedisPublish(PublishTask, RedisTask):
    type: Literal["redis.publish"]
    channel: Annotated[str, Field(min_length=1)]
    """The pub/sub channel, e.g. notifications. Pub/sub keeps nothing: only subscribers listening right now get
    the message (use a list or a stream to keep it)."""

    title: ClassVar[str] = "Redis publish"
    summary: ClassVar[str] = "Publish a message on a Redis pub/sub channel to the subscribers listening now."
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {"url": URL, "password": PASSWORD, "channel": "notifications", "body": {"text": "export done"}},
    )
    output_fields: ClassVar[dict[str, str]] = {"receivers": "How many subscribers received the message."}

    def run(self, ctx: RunContext) -> dict[str, Any]:
        receivers = redis_streams.publish(self.server(), self.channel, self.payload())
        ctx.log("INFO", f"published on {self.channel}: {receivers} subscribers received it")
        return {"receivers": receivers}
