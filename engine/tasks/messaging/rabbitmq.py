"""``rabbitmq.publish`` and ``rabbitmq.consume``: AMQP 0-9-1 through engine/messaging/rabbitmq.py."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, model_validator

from engine.core.durations import Duration
from engine.flows.spec import Computed
from engine.messaging import rabbitmq
from engine.messaging.rabbitmq import RabbitMqServer
from engine.tasks.base import Task, registry
from engine.tasks.context import RunContext
from engine.tasks.messaging.common import ConsumeTask, PublishTask

URL_EXAMPLE = "{{ secret('RABBITMQ_URL') }}"


class RabbitMqTask(RabbitMqServer, Task):
    """A task that talks to a RabbitMQ broker, named by ``url`` or by a ``connection`` block."""


@registry.register
class RabbitMqPublish(PublishTask, RabbitMqTask):
    type: Literal["rabbitmq.publish"]
    exchange: str = ""
    """The exchange to publish to; empty: the default exchange, which routes to the queue named by routingKey."""
    routing_key: str = ""
    """The routing key: the queue's name on the default exchange, a pattern's words on a topic exchange (e.g.
    orders.eu.created); fanout exchanges ignore it."""
    headers: dict[str, Any] = Field(default_factory=dict)
    """AMQP headers sent with the message (text, numbers, booleans), e.g. {source: lanner, attempt: 1}."""
    persistent: Computed[bool] = True
    """Written to disk by the broker (delivery mode 2), so it survives a broker restart in a durable queue; false:
    delivery mode 1, kept in memory only."""
    content_type: str | None = None
    """The content type property; by default application/json for a structured body, text/plain for text, none
    for bodyBase64."""
    message_id: str | None = None
    """The message-id property, which consumers use to notice a message delivered twice; by default a new UUID
    (given back in outputs)."""
    correlation_id: str | None = None
    """The correlation-id property, e.g. the id of the request this message answers."""
    reply_to: str | None = None
    """The reply-to property: the queue where an answer is expected."""
    expiration: Computed[Duration] | None = None
    """Drop the message if it is not consumed within this long (e.g. 10m)."""
    priority: Computed[Annotated[int, Field(ge=0, le=255)]] | None = None
    """The message's priority, for queues declared with x-max-priority."""
    mandatory: Computed[bool] = False
    """Fail when no queue takes the message (no binding matches the routing key), instead of the broker dropping
    it silently."""
    declare_queue: Computed[bool] = False
    """Declare the queue named by routingKey first (created when missing), so messages sent before any consumer
    started are kept; with the default exchange only."""
    durable: Computed[bool] = True
    """With declareQueue: the queue outlives a broker restart."""

    title: ClassVar[str] = "RabbitMQ publish"
    summary: ClassVar[str] = "Send a message to a RabbitMQ exchange with a routing key, headers and properties."
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {
            "url": URL_EXAMPLE,
            "routingKey": "orders",
            "declareQueue": True,
            "body": {"order": "{{ inputs.order_id }}", "status": "paid"},
        },
        {
            "connection": {
                "host": "rabbitmq.acme.internal",
                "virtualHost": "shop",
                "username": "lanner",
                "password": "{{ secret('RABBITMQ_PASSWORD') }}",
                "tls": True,
            },
            "exchange": "events",
            "routingKey": "orders.eu.created",
            "headers": {"source": "lanner"},
            "messageId": "{{ execution.id }}",
            "body": "{{ outputs.extract.row | tojson }}",
            "contentType": "application/json",
            "mandatory": True,
        },
    )
    output_fields: ClassVar[dict[str, str]] = {
        "messageId": "The message-id the message was sent with.",
        "exchange": "The exchange it was published to ('' for the default one).",
        "routingKey": "Its routing key.",
        "size": "The body's size in bytes.",
    }

    @model_validator(mode="after")
    def _declare_on_default_exchange(self) -> RabbitMqPublish:
        if self.declare_queue is True and self.exchange:
            raise ValueError(
                "declareQueue declares the queue named by routingKey on the default exchange: leave "
                "exchange empty, or bind the queue to the exchange in RabbitMQ"
            )
        if self.declare_queue is True and not self.routing_key:
            raise ValueError("declareQueue needs routingKey, the queue's name")
        return self

    def run(self, ctx: RunContext) -> dict[str, Any]:
        body = self.payload()
        message_id = self.message_id or uuid.uuid4().hex
        properties: dict[str, Any] = {
            "content_type": self.content_type or self.default_content_type(),
            "message_id": message_id,
            "correlation_id": self.correlation_id,
            "reply_to": self.reply_to,
            "priority": self.priority,
            # AMQP wants the expiration as text, in milliseconds.
            "expiration": str(int(self.expiration.total_seconds() * 1000)) if self.expiration is not None else None,
        }
        broker = self.broker()
        ctx.check()
        rabbitmq.publish(
            broker,
            body,
            exchange=self.exchange,
            routing_key=self.routing_key,
            headers=self.headers,
            persistent=self.persistent,
            properties={k: v for k, v in properties.items() if v is not None},
            mandatory=self.mandatory,
            declare=(self.routing_key, self.durable) if self.declare_queue else None,
        )
        ctx.log("INFO", f"{len(body):,} bytes to {broker.where} exchange '{self.exchange}' key '{self.routing_key}'")
        return {"messageId": message_id, "exchange": self.exchange, "routingKey": self.routing_key, "size": len(body)}


class RabbitMqQueue(RabbitMqTask):
    """Where a consume takes messages from (a class of its own so the form shows it before the bounds)."""

    queue: Annotated[str, Field(min_length=1)]
    """The queue to take messages from."""
    declare_queue: Computed[bool] = False
    """Declare the queue first (created when missing); without it, a queue that does not exist fails the task."""
    durable: Computed[bool] = True
    """With declareQueue: the queue outlives a broker restart."""


@registry.register
class RabbitMqConsume(ConsumeTask, RabbitMqQueue):
    type: Literal["rabbitmq.consume"]

    title: ClassVar[str] = "RabbitMQ consume"
    summary: ClassVar[str] = "Take messages from a RabbitMQ queue (a number, or for a while) into outputs or a file."
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {"url": URL_EXAMPLE, "queue": "orders", "maxRecords": 100, "maxDuration": "30s"},
        {"url": URL_EXAMPLE, "queue": "clicks", "maxDuration": "5m", "output": "file", "fileName": "clicks.jsonl"},
    )

    def run(self, ctx: RunContext) -> dict[str, Any]:
        broker = self.broker()
        ctx.check()
        subscription = rabbitmq.subscribe(
            broker, self.queue, prefetch=self.unacked_limit() or 0, declare=self.declare_queue, durable=self.durable
        )
        ctx.log("INFO", f"consuming queue '{self.queue}' on {broker.where}")
        return self.consume_from(subscription, ctx)
