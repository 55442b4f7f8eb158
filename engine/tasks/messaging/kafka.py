"""``kafka.produce`` and ``kafka.consume``: Kafka through engine/messaging/kafka.py (confluent-kafka)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from engine.flows.spec import Computed
from engine.messaging import kafka
from engine.messaging.kafka import KafkaServer
from engine.tasks.base import Task, registry
from engine.tasks.context import RunContext
from engine.tasks.messaging.common import ConsumeTask, PublishTask, consumer_name

CONNECTION_EXAMPLE = {
    "bootstrapServers": "kafka-1.acme.internal:9092",
    "securityProtocol": "SASL_SSL",
    "saslMechanism": "SCRAM-SHA-512",
    "username": "lanner",
    "password": "{{ secret('KAFKA_PASSWORD') }}",
}
Topic = Annotated[str, Field(min_length=1)]


class KafkaTask(KafkaServer, Task):
    """A task that talks to a Kafka cluster."""


@registry.register
class KafkaProduce(PublishTask, KafkaTask):
    type: Literal["kafka.produce"]
    topic: Topic
    """The topic to write to, e.g. orders."""
    key: str | None = None
    """The record's key: records with one key go to one partition, so they are read in the order written."""
    headers: dict[str, str] = Field(default_factory=dict)
    """Record headers, e.g. {source: lanner}."""
    partition: Computed[Annotated[int, Field(ge=0)]] | None = None
    """Write to this partition; by default the key's (or any, without a key)."""

    title: ClassVar[str] = "Kafka produce"
    summary: ClassVar[str] = "Write a record to a Kafka topic, with a key and headers, once the cluster confirms it."
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {
            "connection": CONNECTION_EXAMPLE,
            "topic": "orders",
            "key": "{{ inputs.order_id }}",
            "body": {"order": "{{ inputs.order_id }}", "status": "paid"},
            "headers": {"source": "lanner"},
        },
    )
    output_fields: ClassVar[dict[str, str]] = {
        "topic": "The topic written to.",
        "partition": "The partition the record went to.",
        "offset": "Its offset in that partition.",
        "messageId": "topic/partition/offset: the record's id, as consumers see it.",
        "size": "The body's size in bytes.",
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        body, broker = self.payload(), self.broker()
        ctx.check()
        partition, offset = kafka.produce(
            broker,
            self.topic,
            body,
            key=self.key.encode("utf-8") if self.key is not None else None,
            headers=self.headers,
            partition=self.partition,
        )
        ctx.log("INFO", f"{len(body):,} bytes to {broker.where} topic '{self.topic}' [{partition}] @ {offset}")
        return {
            "topic": self.topic,
            "partition": partition,
            "offset": offset,
            "messageId": f"{self.topic}/{partition}/{offset}",
            "size": len(body),
        }


class StartFrom(StrEnum):
    EARLIEST = "earliest"
    LATEST = "latest"

    @classmethod
    def _missing_(cls, value: object) -> StartFrom | None:
        return cls._value2member_map_.get(value.strip().lower()) if isinstance(value, str) else None  # type: ignore[return-value]


class KafkaTopics(KafkaTask):
    """What a consume reads (a class of its own so the form shows it before the bounds)."""

    topic: Topic | list[Topic]
    """The topic, or several (a name starting with ^ is a regular expression over topic names)."""
    group_id: str | None = None
    """The consumer group: it remembers (commits) how far it has read, so each run takes up where the last one
    stopped; by default lanner-<namespace>-<flow>-<task>. Consumers of one group share the partitions."""
    start_from: Computed[StartFrom] = StartFrom.EARLIEST
    """Where a group that never committed starts: earliest (everything the topic still holds) or latest (only
    records written from now on)."""


@registry.register
class KafkaConsume(ConsumeTask, KafkaTopics):
    type: Literal["kafka.consume"]

    title: ClassVar[str] = "Kafka consume"
    summary: ClassVar[str] = "Read records of Kafka topics as a consumer group (a number, or for a while)."
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {"connection": CONNECTION_EXAMPLE, "topic": "orders", "maxRecords": 500, "maxDuration": "1m"},
        {
            "connection": {"bootstrapServers": ["kafka-1:9092", "kafka-2:9092"]},
            "topic": ["clicks", "views"],
            "groupId": "lanner-clickstream",
            "maxDuration": "10m",
            "output": "file",
        },
    )

    def run(self, ctx: RunContext) -> dict[str, Any]:
        broker = self.broker()
        topics = [self.topic] if isinstance(self.topic, str) else list(self.topic)
        group = self.group_id or consumer_name(ctx)
        ctx.check()
        subscription = kafka.subscribe(broker, topics, group_id=group, start=self.start_from.value)
        ctx.log("INFO", f"reading {', '.join(topics)} on {broker.where} as group {group}")
        return self.consume_from(subscription, ctx)
