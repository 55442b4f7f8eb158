"""Kafka through confluent-kafka (librdkafka): produce one record (idempotent, acks=all, waiting for the broker's
confirmation) and a ``Subscription`` of a consumer group that commits offsets only for acknowledged records.

Guarantees: Kafka keeps records whether or not they are read; what a consumer group has "acknowledged" is the offset
it committed per partition, and a committed offset covers every record before it. So a record's offset is
committed only once it and every record before it in its partition were acknowledged (``PendingOffsets``): one
received and not acknowledged is read again by the group after ``close``, a crash or a rebalance, together with the
records after it (at least once). ``nack`` rewinds its partition to it. Acknowledgements are committed in the
background as they come and for certain (synchronously) at ``close`` and when partitions move to another consumer:
a crash between the two may deliver the last ones again. A record's id is topic/partition/offset.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import datetime as dt
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field

from engine.flows.spec import Computed, Spec
from engine.messaging.base import BrokerUnavailable, Message
from engine.tasks.context import ConfigurationError, TaskFailed

#: Seconds to wait for a broker of the cluster to answer before a task (or a listener's attempt) gives up.
CONNECT_TIMEOUT = 5.0
PRODUCE_TIMEOUT = 30.0

Partition = tuple[str, int]


class KafkaSecurity(StrEnum):
    PLAINTEXT = "PLAINTEXT"
    SSL = "SSL"
    SASL_PLAINTEXT = "SASL_PLAINTEXT"
    SASL_SSL = "SASL_SSL"


class KafkaSasl(StrEnum):
    PLAIN = "PLAIN"
    SCRAM_SHA_256 = "SCRAM-SHA-256"
    SCRAM_SHA_512 = "SCRAM-SHA-512"


class KafkaConnection(Spec):
    """Where the Kafka cluster is and how to sign in."""

    bootstrap_servers: Annotated[str, Field(min_length=1)] | list[Annotated[str, Field(min_length=1)]]
    """One or more of the cluster's brokers as host:port, e.g. kafka-1.acme.internal:9092 (the client finds the
    others from them)."""
    security_protocol: Computed[KafkaSecurity] = KafkaSecurity.PLAINTEXT
    """PLAINTEXT, SSL (TLS), SASL_PLAINTEXT or SASL_SSL (a username and password over TLS: most hosted Kafka)."""
    sasl_mechanism: Computed[KafkaSasl] = KafkaSasl.PLAIN
    """With SASL: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512."""
    username: str | None = None
    """With SASL: the account (an API key on hosted Kafka)."""
    password: str | None = None
    """With SASL: its password (an API secret); keep it in a secret: {{ secret('KAFKA_PASSWORD') }}."""
    options: dict[str, str | int | float | bool] = Field(default_factory=dict)
    """Other librdkafka settings, e.g. ssl.ca.location: /etc/ssl/certs/acme.pem or client.id: lanner."""


class KafkaServer(Spec):
    """Where a task or trigger finds its Kafka cluster."""

    connection: KafkaConnection | None = None
    """The cluster's brokers (bootstrapServers) and how to sign in (securityProtocol, saslMechanism, username,
    password); set it once for every kafka.* task with taskDefaults."""

    def broker(self) -> KafkaBroker:
        return KafkaBroker.of(self.connection)


@dataclass(frozen=True)
class KafkaBroker:
    """librdkafka's settings for a cluster, and its address as messages name it (without the password)."""

    config: dict[str, Any]
    where: str

    @classmethod
    def of(cls, connection: KafkaConnection | None) -> KafkaBroker:
        if connection is None:
            raise ConfigurationError("give connection with bootstrapServers (the Kafka cluster's brokers)")
        servers = connection.bootstrap_servers
        servers = ",".join(servers) if isinstance(servers, list) else servers
        config: dict[str, Any] = {
            **connection.options,
            "bootstrap.servers": servers,
            "security.protocol": connection.security_protocol.value,
            "socket.connection.setup.timeout.ms": int(CONNECT_TIMEOUT * 1000),
            "log_level": 0,  # librdkafka's own lines would go to stderr: its errors reach error_cb instead
        }
        if connection.security_protocol in (KafkaSecurity.SASL_PLAINTEXT, KafkaSecurity.SASL_SSL):
            config["sasl.mechanism"] = connection.sasl_mechanism.value
            config["sasl.username"] = connection.username or ""
            config["sasl.password"] = connection.password or ""
        user = f"{connection.username}@" if connection.username else ""
        return cls(config, f"kafka://{user}{servers}")

    def reach(self, client: Any, errors: list[Any]) -> None:
        """Return once a broker of the cluster answers ``client`` (a metadata request); ``BrokerUnavailable``
        within ``CONNECT_TIMEOUT`` otherwise, at once when librdkafka says every broker is down."""
        from confluent_kafka import KafkaError, KafkaException

        deadline = time.monotonic() + CONNECT_TIMEOUT
        while True:
            try:
                client.list_topics(timeout=0.5)
                return
            except KafkaException:
                client.poll(0)  # serves error_cb: why it failed
            down = any(error.code() == KafkaError._ALL_BROKERS_DOWN for error in errors)
            if down or time.monotonic() > deadline:
                raise BrokerUnavailable(f"Kafka at {self.where} cannot be reached: {self.reason(errors)}")

    def reason(self, errors: list[Any]) -> str:
        """The most telling of librdkafka's errors: the first about a connection, else the last."""
        from confluent_kafka import KafkaError

        if not errors:
            return "no answer"
        transport = [e for e in errors if e.code() in (KafkaError._TRANSPORT, KafkaError._AUTHENTICATION)]
        return transport[0].str() if transport else errors[-1].str()


def produce(
    broker: KafkaBroker,
    topic: str,
    body: bytes,
    *,
    key: bytes | None = None,
    headers: dict[str, str] | None = None,
    partition: int | None = None,
) -> tuple[int, int]:
    """Send one record and wait until the cluster has it (every in-sync replica: acks=all); its partition and
    offset. The producer is idempotent: its own retries never write the record twice."""
    from confluent_kafka import KafkaException, Producer

    errors: list[Any] = []
    producer = Producer(
        {
            **broker.config,
            "acks": "all",
            "enable.idempotence": True,
            "message.timeout.ms": int(PRODUCE_TIMEOUT * 1000),
            "error_cb": errors.append,
        }
    )
    broker.reach(producer, errors)
    delivered: dict[str, Any] = {}
    options = {"partition": partition} if partition is not None else {}
    try:
        producer.produce(
            topic,
            value=body,
            key=key,
            headers=list((headers or {}).items()),
            on_delivery=lambda error, record: delivered.update(error=error, record=record),
            **options,
        )
    except (KafkaException, BufferError, ValueError, TypeError) as exc:
        raise TaskFailed(f"Kafka at {broker.where}: cannot produce to '{topic}': {exc}") from None
    if producer.flush(PRODUCE_TIMEOUT + 5) > 0 or "record" not in delivered:
        raise BrokerUnavailable(
            f"Kafka at {broker.where} did not confirm the record to '{topic}' within {PRODUCE_TIMEOUT:.0f}s: "
            f"{broker.reason(errors)}"
        )
    if delivered["error"] is not None:
        raise TaskFailed(f"Kafka at {broker.where} refused the record to '{topic}': {delivered['error'].str()}")
    record = delivered["record"]
    return record.partition(), record.offset()


class PendingOffsets:
    """Per partition, the offsets handed out and not yet committable, in order: an offset may be committed (as
    offset + 1, the next to read) only once it and every one before it were acknowledged."""

    def __init__(self) -> None:
        self._partitions: dict[Partition, collections.OrderedDict[int, bool]] = {}

    def received(self, partition: Partition, offset: int) -> None:
        self._partitions.setdefault(partition, collections.OrderedDict())[offset] = False

    def acknowledge(self, partition: Partition, offset: int) -> int | None:
        """Mark ``offset`` handled; the offset to commit for its partition when that moved forward, else None."""
        pending = self._partitions.get(partition)
        if pending is None or offset not in pending:
            return None  # rewound, or its partition went to another consumer: whoever reads it next handles it
        pending[offset] = True
        committable = None
        while pending and next(iter(pending.values())):
            committable = pending.popitem(last=False)[0] + 1
        return committable

    def rewind(self, partition: Partition, offset: int) -> None:
        """The partition is read again from ``offset``: it and the offsets after it are no longer pending."""
        pending = self._partitions.get(partition, collections.OrderedDict())
        for later in [o for o in pending if o >= offset]:
            del pending[later]

    def forget(self, partition: Partition) -> None:
        self._partitions.pop(partition, None)


def subscribe(broker: KafkaBroker, topics: list[str], *, group_id: str, start: str = "earliest") -> KafkaSubscription:
    """Consume ``topics`` as a member of consumer group ``group_id``; a group with no committed offset yet starts
    at the ``earliest`` record or only takes those that arrive from now on (``latest``)."""
    from confluent_kafka import Consumer, KafkaException

    subscription = KafkaSubscription(broker, topics)
    consumer = Consumer(
        {
            **broker.config,
            "group.id": group_id,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": start,
            "error_cb": subscription._errors.append,
        }
    )
    subscription._consumer = consumer
    try:
        broker.reach(consumer, subscription._errors)
        consumer.subscribe(topics, on_revoke=subscription._revoked, on_lost=subscription._revoked)
    except KafkaException as exc:
        consumer.close()
        raise TaskFailed(f"Kafka at {broker.where}: cannot subscribe to {', '.join(topics)}: {exc}") from None
    except BaseException:
        consumer.close()
        raise
    return subscription


class KafkaSubscription:
    """A member of a consumer group. librdkafka fetches in its own threads; ``receive`` takes the next record
    (and serves rebalances, which happen inside it). One consumer thread at a time."""

    def __init__(self, broker: KafkaBroker, topics: list[str]) -> None:
        self.broker = broker
        self.topics = topics
        self._consumer: Any = None
        self._errors: list[Any] = []
        self._pending = PendingOffsets()
        self._committable: dict[Partition, int] = {}  # acknowledged, not yet committed for certain

    def receive(self, timeout: float) -> Message | None:
        from confluent_kafka import KafkaError

        self._check_brokers()
        record = self._consumer.poll(max(timeout, 0.0))
        if record is None:
            return None
        error = record.error()
        if error is not None:
            if error.code() == KafkaError._PARTITION_EOF:
                return None
            if error.fatal() or error.code() == KafkaError._ALL_BROKERS_DOWN:
                raise BrokerUnavailable(f"Kafka at {self.broker.where}: {error.str()}")
            raise TaskFailed(f"Kafka at {self.broker.where}: cannot read {', '.join(self.topics)}: {error.str()}")
        message = _message(record)
        self._pending.received((record.topic(), record.partition()), record.offset())
        return message

    def _check_brokers(self) -> None:
        from confluent_kafka import KafkaError

        down = [e for e in self._errors if e.fatal() or e.code() == KafkaError._ALL_BROKERS_DOWN]
        self._errors.clear()
        if down:
            raise BrokerUnavailable(f"Kafka at {self.broker.where}: {down[0].str()}")

    def ack(self, message: Message) -> None:
        from confluent_kafka import KafkaException, TopicPartition

        topic, partition, offset = message.receipt
        committable = self._pending.acknowledge((topic, partition), offset)
        if committable is None:
            return
        self._committable[(topic, partition)] = committable
        try:  # in the background: ``close`` (or a rebalance) makes it certain
            self._consumer.commit(offsets=[TopicPartition(topic, partition, committable)], asynchronous=True)
        except KafkaException as exc:
            raise BrokerUnavailable(f"Kafka at {self.broker.where}: could not commit: {exc}") from None

    def nack(self, message: Message) -> None:
        """Read its partition again from it: the records after it come again too."""
        from confluent_kafka import KafkaException, TopicPartition

        topic, partition, offset = message.receipt
        self._pending.rewind((topic, partition), offset)
        try:
            self._consumer.seek(TopicPartition(topic, partition, offset))
        except KafkaException as exc:
            raise BrokerUnavailable(f"Kafka at {self.broker.where}: could not rewind: {exc}") from None

    def _commit_for_certain(self, partitions: list[Partition]) -> None:
        from confluent_kafka import KafkaException, TopicPartition

        ready = [part for part in partitions if part in self._committable]
        offsets = [TopicPartition(*part, self._committable.pop(part)) for part in ready]
        if not offsets:
            return
        try:
            committed = self._consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            raise BrokerUnavailable(f"Kafka at {self.broker.where}: could not commit: {exc}") from None
        failed = [f"{o.topic}[{o.partition}]: {o.error.str()}" for o in committed or [] if o.error is not None]
        if failed:
            raise BrokerUnavailable(f"Kafka at {self.broker.where}: could not commit {'; '.join(failed)}")

    def _revoked(self, _consumer: Any, partitions: list[Any]) -> None:
        """Partitions leave this consumer: commit what was acknowledged there, forget what was not (the next
        owner reads it again)."""
        moving = [(p.topic, p.partition) for p in partitions]
        # Lost partitions may belong to another member already: a failed commit there means it reads them again.
        with contextlib.suppress(BrokerUnavailable):
            self._commit_for_certain(moving)
        for partition in moving:
            self._pending.forget(partition)

    def close(self) -> None:
        if self._consumer is None:
            return
        try:
            self._commit_for_certain(list(self._committable))
        finally:
            self._consumer.close()  # leaves the group: its partitions go to the other members
            self._consumer = None


def _text(value: bytes | None) -> str:
    return "" if value is None else value.decode("utf-8", errors="replace")


def _message(record: Any) -> Message:
    from confluent_kafka import TIMESTAMP_NOT_AVAILABLE

    kind, millis = record.timestamp()
    timestamp = None if kind == TIMESTAMP_NOT_AVAILABLE else dt.datetime.fromtimestamp(millis / 1000, dt.UTC)
    key = record.key()
    properties: dict[str, Any] = {"partition": record.partition(), "offset": record.offset(), "key": None}
    if key is not None:
        try:
            properties["key"] = key.decode("utf-8")
        except UnicodeDecodeError:
            properties["keyBase64"] = base64.b64encode(key).decode("ascii")
    return Message(
        body=record.value() or b"",
        topic=record.topic(),
        headers={name: _text(value) for name, value in (record.headers() or [])},
        message_id=f"{record.topic()}/{record.partition()}/{record.offset()}",
        timestamp=timestamp,
        properties=properties,
        receipt=(record.topic(), record.partition(), record.offset()),
    )
