"""Realtime triggers, one per broker (``<broker>.realtime``): the broker's connection settings (shared with its
tasks) and what to listen to; ``lanner trigger-listener`` runs them (engine/runtime/realtime.py).

What "once" means for each (the README's table): a message is acknowledged only once its execution is committed,
so nothing is lost; a message delivered again is recognised by the broker's id where it gives one (a Redis stream
entry id, a JetStream sequence, an AMQP message-id, a Kafka offset) and starts nothing new; where it gives none
(a Redis list or channel, core NATS, MQTT) a redelivery starts a second execution.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field

from engine.core.durations import Duration
from engine.flows.triggers import RealtimeTrigger, trigger_types
from engine.messaging import kafka, mqtt, nats, rabbitmq, redis_streams
from engine.messaging.kafka import KafkaServer
from engine.messaging.mqtt import MqttServer
from engine.messaging.nats import NatsServer
from engine.messaging.rabbitmq import RabbitMqServer
from engine.messaging.redis_streams import RedisServer

Name = Annotated[str, Field(min_length=1)]
#: Messages a broker may hand a listener ahead of their acknowledgement (given back if the listener dies).
PREFETCH = 50


class RedisSource(StrEnum):
    STREAM = "stream"
    LIST = "list"
    CHANNEL = "channel"


@trigger_types.register
class RedisRealtime(RedisServer, RealtimeTrigger):
    """Start the flow for each entry of a Redis stream (or item of a list, or message on a pub/sub channel)."""

    type: Literal["redis.realtime"]
    key: Name
    """The stream, list or channel to listen to."""
    source: RedisSource = RedisSource.STREAM
    """stream (a consumer group: acknowledged, redelivered, duplicates recognised by entry id), list (taken from
    its head, put back if the listener dies) or channel (pub/sub: only while connected, nothing redelivered)."""
    consumer_group: str | None = None
    """The stream's consumer group; by default one of the trigger's own, created at the stream's end."""
    claim_idle: Duration = dt.timedelta(seconds=30)
    """A stream entry received by a listener that died is taken over after this long."""

    def server(self) -> RedisServer:
        return RedisServer.model_validate({name: getattr(self, name) for name in RedisServer.model_fields})

    def subscribe(self, name: str, consumer: str, namespace: str) -> Any:
        if self.source == RedisSource.LIST:
            return redis_streams.ListSubscription(self.server(), self.key)
        if self.source == RedisSource.CHANNEL:
            return redis_streams.ChannelSubscription(self.server(), [self.key])
        return redis_streams.StreamSubscription(
            self.server(), self.key, self.consumer_group or name, consumer=consumer.replace(":", "-"),
            claim_idle=self.claim_idle.total_seconds(), batch=1,
        )  # fmt: skip

    def where(self) -> str:
        return f"Redis {self.source.value} {self.key} at {self.server().where()}"


@trigger_types.register
class NatsRealtime(NatsServer, RealtimeTrigger):
    """Start the flow for each message on a NATS subject (JetStream: durable and acknowledged; core: only while
    connected)."""

    type: Literal["nats.realtime"]
    subject: Name
    """The subject to listen to, e.g. orders.created (wildcards allowed: orders.*)."""
    jetstream: bool = True
    """Read through JetStream (a stream must take the subject): acknowledged, redelivered, duplicates recognised by
    sequence. False: core NATS, messages published while the listener is connected, at most once."""
    durable: Annotated[str, Field(pattern=r"^[^.*>\s]+$")] | None = None
    """JetStream's durable consumer; by default one of the trigger's own."""
    ack_wait: Duration = dt.timedelta(seconds=30)
    """JetStream: a message not acknowledged within this long after a listener died is delivered again."""

    def server(self) -> NatsServer:
        return NatsServer.model_validate({name: getattr(self, name) for name in NatsServer.model_fields})

    def subscribe(self, name: str, consumer: str, namespace: str) -> Any:
        if not self.jetstream:
            return nats.subscribe(self.server(), self.subject, queue=name)
        return nats.subscribe_jetstream(
            self.server(), self.subject, self.durable or name, ack_wait=self.ack_wait.total_seconds(), batch=1
        )

    def where(self) -> str:
        return f"NATS {'JetStream' if self.jetstream else 'core'} {self.subject} at {self.server().where()}"


@trigger_types.register
class RabbitMqRealtime(RabbitMqServer, RealtimeTrigger):
    """Start the flow for each message of a RabbitMQ queue."""

    type: Literal["rabbitmq.realtime"]
    queue: Name
    """The queue to consume, e.g. orders (bind it to an exchange in RabbitMQ, or let declareQueue create it)."""
    declare_queue: bool = False
    """Create the queue (durable) when it does not exist."""

    def subscribe(self, name: str, consumer: str, namespace: str) -> Any:
        return rabbitmq.subscribe(self.broker(), self.queue, prefetch=PREFETCH, declare=self.declare_queue)

    def where(self) -> str:
        return f"RabbitMQ queue {self.queue} at {self.broker().where}"


@trigger_types.register
class MqttRealtime(MqttServer, RealtimeTrigger):
    """Start the flow for each message on MQTT topics (QoS 1 on a persistent session: what arrives while the
    listener is away waits for it)."""

    type: Literal["mqtt.realtime"]
    topics: Annotated[list[Name], Field(min_length=1)]
    """Topic filters to subscribe to, e.g. [plant/+/temperature, alarms/#]."""

    def subscribe(self, name: str, consumer: str, namespace: str) -> Any:
        return mqtt.subscribe(self.broker(), self.topics, client_id=name, qos=1, receive_maximum=PREFETCH)

    def where(self) -> str:
        return f"MQTT {', '.join(self.topics)} at {self.broker().where}"


class KafkaStart(StrEnum):
    EARLIEST = "earliest"
    LATEST = "latest"


@trigger_types.register
class KafkaRealtime(KafkaServer, RealtimeTrigger):
    """Start the flow for each record of Kafka topics (a consumer group: offsets committed once started)."""

    type: Literal["kafka.realtime"]
    topics: Annotated[list[Name], Field(min_length=1)]
    """The topics to consume."""
    consumer_group: str | None = None
    """The consumer group; by default one of the trigger's own."""
    start_from: KafkaStart = KafkaStart.LATEST
    """Where a new consumer group starts: latest (records from now on) or earliest (the whole topic)."""

    def subscribe(self, name: str, consumer: str, namespace: str) -> Any:
        group = self.consumer_group or name
        return kafka.subscribe(self.broker(), self.topics, group_id=group, start=self.start_from.value)

    def where(self) -> str:
        return f"Kafka {', '.join(self.topics)} at {self.broker().where}"
