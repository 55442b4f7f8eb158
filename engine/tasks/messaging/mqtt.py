"""``mqtt.publish`` and ``mqtt.subscribe``: MQTT 5 or 3.1.1 through engine/messaging/mqtt.py."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from engine.core.durations import Duration
from engine.flows.spec import Computed
from engine.messaging import mqtt
from engine.messaging.mqtt import MqttServer, MqttVersion
from engine.tasks.base import Task, registry
from engine.tasks.context import RunContext
from engine.tasks.messaging.common import ConsumeTask, PublishTask, consumer_name

URL_EXAMPLE = "{{ secret('MQTT_URL') }}"
Qos = Annotated[int, Field(ge=0, le=2)]


class MqttTask(MqttServer, Task):
    """A task that talks to an MQTT broker, named by ``url`` or by a ``connection`` block."""


@registry.register
class MqttPublish(PublishTask, MqttTask):
    type: Literal["mqtt.publish"]
    topic: Annotated[str, Field(min_length=1)]
    """The topic to publish to, e.g. plant/line-3/temperature (no + or # wildcards)."""
    qos: Computed[Qos] = 1
    """Quality of service: 0 at most once (no confirmation), 1 at least once (the broker confirms), 2 exactly
    once between this task and the broker."""
    retain: Computed[bool] = False
    """Keep it as the topic's last known value: a client subscribing later receives it at once."""
    headers: dict[str, str] = Field(default_factory=dict)
    """MQTT 5 user properties sent with the message, e.g. {source: lanner}."""
    content_type: str | None = None
    """The MQTT 5 content type; by default application/json for a structured body, text/plain for text."""
    message_expiry: Computed[Duration] | None = None
    """MQTT 5: drop the message if it is not delivered within this long (e.g. 1h)."""

    title: ClassVar[str] = "MQTT publish"
    summary: ClassVar[str] = "Send a message to an MQTT topic with QoS 0, 1 or 2, retained or not."
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {"url": URL_EXAMPLE, "topic": "plant/line-3/setpoint", "body": {"celsius": 21.5}, "qos": 1, "retain": True},
        {
            "connection": {
                "host": "mqtt.acme.internal",
                "username": "lanner",
                "password": "{{ secret('MQTT_PASSWORD') }}",
                "tls": True,
            },
            "topic": "reports/daily",
            "body": "Report {{ trigger.date }} is ready",
            "headers": {"flow": "{{ flow.id }}"},
            "messageExpiry": "1d",
        },
    )
    output_fields: ClassVar[dict[str, str]] = {
        "topic": "The topic the message was published to.",
        "qos": "Its quality of service.",
        "retain": "Whether the broker keeps it as the topic's last value.",
        "size": "The body's size in bytes.",
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        body, broker = self.payload(), self.broker()
        ctx.check()
        expiry = int(self.message_expiry.total_seconds()) if self.message_expiry is not None else None
        content_type = self.content_type or self.default_content_type()
        mqtt.publish(
            broker,
            self.topic,
            body,
            qos=self.qos,
            retain=self.retain,
            headers=self.headers,
            content_type=content_type if self.version == MqttVersion.V5 else None,
            message_expiry=expiry,
        )
        ctx.log("INFO", f"{len(body):,} bytes to {broker.where} topic '{self.topic}' (QoS {self.qos})")
        return {"topic": self.topic, "qos": self.qos, "retain": self.retain, "size": len(body)}


class MqttTopics(MqttTask):
    """What a subscription listens to (a class of its own so the form shows it before the bounds)."""

    topic: Annotated[str, Field(min_length=1)] | list[Annotated[str, Field(min_length=1)]]
    """The topic filter, or several: + matches one level, # all the levels below (e.g. plant/+/temperature,
    alerts/#)."""
    qos: Computed[Qos] = 1
    """The most quality of service to receive with: 1 (the default) is at least once, acknowledged only once the
    messages are kept; 2 is acknowledged to the broker on receipt (a crash before they are kept loses them); 0
    has no acknowledgement (and no redelivery)."""
    client_id: str | None = None
    """The session's client id: messages published while no task runs wait in this session, and those not
    acknowledged come again; by default lanner-<namespace>-<flow>-<task>. Two clients with one id push each other
    off the broker: give each concurrent consumer its own."""
    session_expiry: Computed[Duration] = dt.timedelta(days=7)
    """MQTT 5: how long the broker keeps the session (its subscription and queued messages) between two runs."""


@registry.register
class MqttSubscribe(ConsumeTask, MqttTopics):
    type: Literal["mqtt.subscribe"]

    title: ClassVar[str] = "MQTT subscribe"
    summary: ClassVar[str] = "Take messages from MQTT topics (a number, or for a while) into outputs or a file."
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {"url": URL_EXAMPLE, "topic": "plant/+/temperature", "maxRecords": 100, "maxDuration": "1m"},
        {
            "url": URL_EXAMPLE,
            "topic": ["alerts/#", "plant/line-3/status"],
            "clientId": "lanner-plant-archive",
            "maxDuration": "10m",
            "output": "file",
        },
    )

    def run(self, ctx: RunContext) -> dict[str, Any]:
        broker = self.broker()
        topics = [self.topic] if isinstance(self.topic, str) else list(self.topic)
        client_id = self.client_id or consumer_name(ctx)
        ctx.check()
        subscription = mqtt.subscribe(
            broker,
            topics,
            client_id=client_id,
            qos=self.qos,
            session_expiry=int(self.session_expiry.total_seconds()),
            receive_maximum=self.unacked_limit(),
        )
        ctx.log("INFO", f"subscribed to {', '.join(topics)} on {broker.where} as {client_id}")
        return self.consume_from(subscription, ctx)
