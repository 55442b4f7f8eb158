"""rabbitmq.publish and rabbitmq.consume against the machine's RabbitMQ (skipped when it is not reachable): round
trips with headers, JSON, text and binary bodies; bounds; a stored file; messages acknowledged only once kept (a
consume that stops before keeping them leaves them on the queue); the Subscription's redelivery; a broker that is
down failing within seconds; and a flow that publishes then consumes through a real engine."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator

import pika
import pytest
from pydantic import ValidationError

from engine.core.states import State
from engine.messaging import rabbitmq
from engine.messaging.base import BrokerUnavailable
from engine.tasks.context import TaskFailed, TaskTimedOut
from tests.support.brokers import RABBITMQ_URL, needs_rabbitmq
from tests.support.ids import unique
from tests.support.ports import free_port
from tests.support.sql_families import stored

pytestmark = needs_rabbitmq
BROKER = rabbitmq.RabbitMqBroker.of(RABBITMQ_URL, None)


def waiting(queue: str) -> int:
    """How many messages ``queue`` holds that no consumer has taken (ready, not unacknowledged)."""
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    try:
        return connection.channel().queue_declare(queue, passive=True).method.message_count
    finally:
        connection.close()


@pytest.fixture
def queue() -> Iterator[str]:
    """A new queue of this test's own, deleted afterwards."""
    name = unique("lanner-test-")
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    connection.channel().queue_declare(name, durable=False)
    yield name
    connection.channel().queue_delete(name)
    connection.close()


def publish(run_task, queue: str, **properties) -> dict:
    return run_task("rabbitmq.publish", url=RABBITMQ_URL, routingKey=queue, **properties)


def test_round_trip_of_json_text_and_binary_bodies_with_headers_and_properties(run_task, queue):
    sent = publish(run_task, queue, body={"order": 7, "items": ["a", "é"]}, headers={"source": "lanner", "try": 2})
    publish(run_task, queue, body="plain words", messageId="m-2", correlationId="c-1", contentType="text/x-words")
    publish(run_task, queue, bodyBase64=base64.b64encode(b"\xde\xad\xbe\xef").decode(), persistent=False)
    assert sent["routingKey"] == queue and sent["exchange"] == "" and len(sent["messageId"]) == 32
    assert sent["size"] == len(
        json.dumps({"order": 7, "items": ["a", "é"]}, separators=(",", ":"), ensure_ascii=False).encode()
    )

    taken = run_task("rabbitmq.consume", url=RABBITMQ_URL, queue=queue, maxRecords=3, maxDuration="10s")
    assert taken["count"] == 3
    first, second, third = taken["messages"]
    assert first["json"] == {"order": 7, "items": ["a", "é"]} and first["headers"] == {"source": "lanner", "try": "2"}
    assert first["messageId"] == sent["messageId"] and first["deliveryCount"] == 1 and first["topic"] == queue
    assert first["properties"]["contentType"] == "application/json" and first["properties"]["deliveryMode"] == 2
    assert second["body"] == "plain words" and second["json"] is None and second["messageId"] == "m-2"
    assert second["properties"]["correlationId"] == "c-1" and second["properties"]["contentType"] == "text/x-words"
    assert third["body"] is None and base64.b64decode(third["bodyBase64"]) == b"\xde\xad\xbe\xef"
    assert third["properties"]["deliveryMode"] == 1 and "contentType" not in third["properties"]
    assert waiting(queue) == 0  # acknowledged: gone from the queue


def test_max_records_leaves_the_rest_and_max_duration_ends_with_what_came(run_task, queue):
    for number in range(5):
        publish(run_task, queue, body={"n": number})
    taken = run_task("rabbitmq.consume", url=RABBITMQ_URL, queue=queue, maxRecords=2)
    assert [m["json"]["n"] for m in taken["messages"]] == [0, 1]
    assert waiting(queue) == 3

    started = time.monotonic()
    rest = run_task("rabbitmq.consume", url=RABBITMQ_URL, queue=queue, maxRecords=10, maxDuration="1500ms")
    assert 1.4 < time.monotonic() - started < 5
    assert [m["json"]["n"] for m in rest["messages"]] == [2, 3, 4] and rest["count"] == 3
    assert waiting(queue) == 0


def test_a_consume_must_be_bounded():
    from engine.tasks import registry

    with pytest.raises(ValidationError, match="give maxRecords, maxDuration or both"):
        registry.get("rabbitmq.consume").model_validate(
            {"id": "c", "type": "rabbitmq.consume", "url": RABBITMQ_URL, "queue": "q"}
        )
    with pytest.raises(ValidationError, match="give body or bodyBase64, not both"):
        registry.get("rabbitmq.publish").model_validate(
            {"id": "p", "type": "rabbitmq.publish", "url": RABBITMQ_URL, "body": "a", "bodyBase64": "YQ=="}
        )


def test_output_file_stores_every_message_as_a_json_line(run_task, queue, context, tmp_path):
    for number in range(30):
        publish(run_task, queue, body={"n": number}, headers={"i": number})
    taken = run_task(
        "rabbitmq.consume", url=RABBITMQ_URL, queue=queue, maxDuration="2s", output="FILE", fileName="batch.jsonl"
    )
    assert taken["count"] == 30 and taken["uri"].endswith("/task/1/batch.jsonl") and "messages" not in taken
    lines = stored(context, taken["uri"], tmp_path).read_text().splitlines()
    assert [json.loads(line)["json"] for line in lines] == [{"n": n} for n in range(30)]
    assert json.loads(lines[4])["headers"] == {"i": "4"}
    assert waiting(queue) == 0


def test_messages_stay_on_the_queue_when_the_consume_stops_before_keeping_them(run_task, queue, context):
    for number in range(3):
        publish(run_task, queue, body={"n": number})
    context.deadline = time.monotonic() + 1.5  # the task's timeout: it waits for 5 messages that never come
    with pytest.raises(TaskTimedOut):
        run_task("rabbitmq.consume", url=RABBITMQ_URL, queue=queue, maxRecords=5, output="file")
    context.deadline = None
    again = run_task("rabbitmq.consume", url=RABBITMQ_URL, queue=queue, maxRecords=3)
    assert [m["json"]["n"] for m in again["messages"]] == [0, 1, 2]
    assert all(m["deliveryCount"] == 2 and m["properties"]["redelivered"] for m in again["messages"])


def test_inline_outputs_stop_at_the_output_limit_and_leave_the_rest(run_task, queue, context, monkeypatch):
    monkeypatch.setenv("LANNER_MAX_OUTPUT_BYTES", "3000")
    for number in range(20):
        publish(run_task, queue, body={"n": number, "padding": "x" * 200})
    taken = run_task("rabbitmq.consume", url=RABBITMQ_URL, queue=queue, maxRecords=20)
    assert 0 < taken["count"] < 20 and context.warned
    assert [m["json"]["n"] for m in taken["messages"]] == list(range(taken["count"]))
    assert waiting(queue) == 20 - taken["count"]  # the one that did not fit went back, unacknowledged


def test_subscription_redelivers_what_was_received_but_not_acknowledged(run_task, queue):
    for number in range(2):
        publish(run_task, queue, body=str(number))
    subscription = rabbitmq.subscribe(BROKER, queue)
    acked, unacked = subscription.receive(5), subscription.receive(5)
    assert (acked.text(), unacked.text()) == ("0", "1") and acked.delivery_count == 1
    subscription.ack(acked)
    subscription.close()

    subscription = rabbitmq.subscribe(BROKER, queue)
    again = subscription.receive(5)
    assert again.text() == "1" and again.delivery_count == 2 and again.message_id == unacked.message_id
    subscription.nack(again)  # handed back: delivered again at once, on the same subscription
    assert subscription.receive(5).text() == "1"
    assert subscription.receive(0.3) is None  # "0" was acknowledged: never again
    subscription.close()


def test_declare_queue_creates_a_durable_queue_for_publish_and_consume(run_task):
    name = unique("lanner-test-declared-")
    try:
        publish(run_task, name, body="kept", declareQueue=True)
        taken = run_task("rabbitmq.consume", url=RABBITMQ_URL, queue=name, declareQueue=True, maxRecords=1)
        assert taken["messages"][0]["body"] == "kept"
    finally:
        connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
        connection.channel().queue_delete(name)
        connection.close()


def test_refusals_name_the_broker_and_what_it_said(run_task):
    missing = unique("lanner-test-missing-")
    with pytest.raises(TaskFailed, match=rf"refused to consume queue '{missing}': NOT_FOUND"):
        run_task("rabbitmq.consume", url=RABBITMQ_URL, queue=missing, maxRecords=1)
    with pytest.raises(TaskFailed, match="no queue is bound to exchange '' with routing key"):
        run_task("rabbitmq.publish", url=RABBITMQ_URL, routingKey=missing, body="x", mandatory=True)
    wrong = RABBITMQ_URL.replace("guest:guest@", "guest:not-the-password@")
    with pytest.raises(BrokerUnavailable, match="refused the sign-in") as refused:
        run_task("rabbitmq.publish", url=wrong, routingKey=missing, body="x")
    assert "not-the-password" not in str(refused.value)


def test_a_broker_that_is_down_fails_within_seconds_without_the_password(run_task):
    url = f"amqp://lanner:s3cret-pw@127.0.0.1:{free_port()}/"
    for task in (
        {"type_name": "rabbitmq.publish", "routingKey": "q", "body": "x"},
        {"type_name": "rabbitmq.consume", "queue": "q", "maxRecords": 1},
    ):
        started = time.monotonic()
        with pytest.raises(BrokerUnavailable) as failed:
            run_task(task.pop("type_name"), url=url, **task)
        assert time.monotonic() - started < 5
        assert "cannot be reached" in str(failed.value) and "amqp://lanner@127.0.0.1:" in str(failed.value)
        assert "s3cret-pw" not in str(failed.value)


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the broker's part, not the database's
def test_a_flow_publishes_then_consumes_through_the_engine(cluster_factory, queue):
    cluster = cluster_factory()
    cluster.env["LANNER_SECRET_RABBITMQ_URL"] = RABBITMQ_URL
    cluster.start_executor()
    cluster.start_workers(1)
    execution_id = cluster.run(
        f"id: {unique('rabbit')}\nnamespace: test\n"
        "inputs:\n  - {id: order, type: INT}\n"
        "tasks:\n"
        f"  - {{id: send, type: rabbitmq.publish, url: \"{{{{ secret('RABBITMQ_URL') }}}}\", routingKey: {queue},"
        " body: {order: '{{ inputs.order }}'}, headers: {flow: '{{ flow.id }}'}}\n"
        f"  - {{id: take, type: rabbitmq.consume, url: \"{{{{ secret('RABBITMQ_URL') }}}}\", queue: {queue},"
        " maxRecords: 1, maxDuration: 20s}\n"
        "  - {id: seen, type: return, value: '{{ outputs.take.messages[0].json.order }}'}\n",
        {"order": 42},
    )
    assert cluster.wait(execution_id).state == State.SUCCESS.value
    runs = cluster.runs(execution_id)
    assert runs["take"].outputs["count"] == 1 and runs["seen"].outputs["value"] in (42, "42")
    assert runs["take"].outputs["messages"][0]["messageId"] == runs["send"].outputs["messageId"]
    assert waiting(queue) == 0
