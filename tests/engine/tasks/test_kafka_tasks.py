"""kafka.produce and kafka.consume. No Kafka server runs on this machine: the round trips skip (needs_kafka says
why); what needs none runs always: validation, the offsets a consumer group may commit, and a cluster that cannot
be reached failing within seconds without the password. The consume loop, its bounds, its output and its
acknowledgements are the shared ones (engine/tasks/messaging/common.py), tested through RabbitMQ and MQTT."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from engine.messaging import kafka
from engine.messaging.base import BrokerUnavailable
from engine.messaging.kafka import KafkaBroker, KafkaConnection, PendingOffsets
from engine.tasks import registry
from engine.tasks.context import ConfigurationError
from tests.support.brokers import KAFKA_SERVERS, needs_kafka
from tests.support.ids import unique
from tests.support.ports import free_port
from tests.support.sql_families import stored


def test_offsets_are_committed_only_past_a_run_of_acknowledged_records():
    pending, orders = PendingOffsets(), ("orders", 0)
    for offset in (10, 11, 12, 13):
        pending.received(orders, offset)
    pending.received(("orders", 1), 5)
    assert pending.acknowledge(orders, 11) is None  # 10 is still out: committing 12 would skip it
    assert pending.acknowledge(orders, 10) == 12  # 10 and 11 done: the group reads on from 12
    assert pending.acknowledge(("orders", 1), 5) == 6  # partitions are independent
    pending.rewind(orders, 12)  # nack of 12: it and 13 are read again
    assert pending.acknowledge(orders, 13) is None
    pending.received(orders, 12)
    assert pending.acknowledge(orders, 12) == 13
    pending.forget(orders)  # the partition went to another consumer
    assert pending.acknowledge(orders, 13) is None


def test_the_tasks_validate_their_properties():
    consume, produce = registry.get("kafka.consume"), registry.get("kafka.produce")
    connection = {"bootstrapServers": "k:9092"}
    with pytest.raises(ValidationError, match="give maxRecords, maxDuration or both"):
        consume.model_validate({"id": "c", "type": "kafka.consume", "connection": connection, "topic": "t"})
    with pytest.raises(ValidationError, match="give body or bodyBase64, not both"):
        produce.model_validate(
            {
                "id": "p",
                "type": "kafka.produce",
                "connection": connection,
                "topic": "t",
                "body": 1,
                "bodyBase64": "AA==",
            }
        )
    task = consume.model_validate(
        {"id": "c", "type": "kafka.consume", "topic": ["a", "b"], "maxRecords": 3, "startFrom": "LATEST"}
    )
    assert task.start_from.value == "latest" and task.topic == ["a", "b"]
    with pytest.raises(ConfigurationError, match="give connection with bootstrapServers"):
        task.broker()


def test_the_address_in_messages_never_holds_the_password():
    broker = KafkaBroker.of(
        KafkaConnection(
            bootstrap_servers=["k1:9092", "k2:9092"], security_protocol="SASL_SSL", username="ana", password="pw-123"
        )
    )
    assert broker.where == "kafka://ana@k1:9092,k2:9092"
    assert broker.config["sasl.password"] == "pw-123" and broker.config["sasl.mechanism"] == "PLAIN"


def test_a_cluster_that_cannot_be_reached_fails_within_seconds(run_task):
    connection = {
        "bootstrapServers": f"127.0.0.1:{free_port()}",
        "securityProtocol": "SASL_PLAINTEXT",
        "username": "lanner",
        "password": "s3cret-pw",
    }
    for type_name, extra in (("kafka.produce", {"body": {"a": 1}}), ("kafka.consume", {"maxRecords": 1})):
        started = time.monotonic()
        with pytest.raises(BrokerUnavailable) as failed:
            run_task(type_name, connection=connection, topic="t", **extra)
        assert time.monotonic() - started < 6
        assert "cannot be reached" in str(failed.value) and "kafka://lanner@127.0.0.1:" in str(failed.value)
        assert "Connection refused" in str(failed.value) and "s3cret-pw" not in str(failed.value)


# --- against a real cluster (LANNER_TEST_KAFKA_SERVERS), skipped here -------------------------------------------


@pytest.fixture
def topic() -> Iterator[str]:
    yield unique("lanner-test-")


def cluster() -> dict:
    return {"bootstrapServers": KAFKA_SERVERS}


@needs_kafka
def test_round_trip_with_key_headers_and_a_stored_file(run_task, topic, context, tmp_path):
    sent = run_task(
        "kafka.produce", connection=cluster(), topic=topic, key="order-7", body={"n": 7}, headers={"source": "t"}
    )
    run_task("kafka.produce", connection=cluster(), topic=topic, key="order-7", bodyBase64="3q2+7w==")
    assert sent["messageId"] == f"{topic}/{sent['partition']}/{sent['offset']}"
    group = unique("lanner-test-group-")
    taken = run_task("kafka.consume", connection=cluster(), topic=topic, groupId=group, maxRecords=2, maxDuration="30s")
    first, second = taken["messages"]
    assert first["json"] == {"n": 7} and first["headers"] == {"source": "t"} and first["messageId"] == sent["messageId"]
    assert first["properties"]["key"] == "order-7" and second["bodyBase64"] == "3q2+7w=="
    run_task("kafka.produce", connection=cluster(), topic=topic, body="third")
    rest = run_task(
        "kafka.consume", connection=cluster(), topic=topic, groupId=group, maxDuration="10s", output="file"
    )  # the group committed past the first two: only the third comes
    lines = stored(context, rest["uri"], tmp_path).read_text().splitlines()
    assert rest["count"] == 1 and json.loads(lines[0])["body"] == "third"


@needs_kafka
def test_subscription_reads_again_what_was_not_acknowledged(run_task, topic):
    broker = KafkaBroker.of(KafkaConnection(bootstrap_servers=KAFKA_SERVERS))
    for number in range(3):
        run_task("kafka.produce", connection=cluster(), topic=topic, body=str(number), partition=0)
    group = unique("lanner-test-group-")
    subscription = kafka.subscribe(broker, [topic], group_id=group)
    received = []
    deadline = time.monotonic() + 30
    while len(received) < 3 and time.monotonic() < deadline:
        if (message := subscription.receive(1)) is not None:
            received.append(message)
    subscription.ack(received[0])
    subscription.ack(received[2])  # 1 is not acknowledged: the commit stops before it
    subscription.close()
    subscription = kafka.subscribe(broker, [topic], group_id=group)
    again = None
    while again is None and time.monotonic() < deadline:
        again = subscription.receive(1)
    assert again is not None and again.text() == "1"
    subscription.close()
