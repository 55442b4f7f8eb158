"""mqtt.publish and mqtt.subscribe against the machine's Mosquitto (skipped when it is not reachable): round trips
with user properties, JSON, text and binary bodies at each QoS; retained messages; topic filters; bounds and a
stored file; a persistent session that keeps what was published while no task ran and gives back what was not
acknowledged; MQTT 3.1.1; a broker that is down failing within seconds; a flow through a real engine."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator

import pytest

from engine.core.states import State
from engine.messaging import mqtt
from engine.messaging.base import BrokerUnavailable
from engine.messaging.mqtt import MqttBroker, MqttVersion
from engine.tasks.context import ConfigurationError, TaskFailed, TaskTimedOut
from tests.support.brokers import MQTT_URL, needs_mqtt
from tests.support.ids import unique
from tests.support.ports import free_port
from tests.support.sql_families import stored

pytestmark = needs_mqtt
BROKER = MqttBroker.of(MQTT_URL, None)


class Session:
    """A test's own topic prefix and persistent session (its client id), subscribed before anything is published
    (MQTT keeps messages only for sessions that exist) and removed afterwards."""

    def __init__(self) -> None:
        self.topic = unique("lanner-test/")
        self.client_id = unique("lanner-test-")

    def subscribe(self, **options) -> mqtt.MqttSubscription:
        return mqtt.subscribe(BROKER, [f"{self.topic}/#"], client_id=self.client_id, **options)


def forget_session(client_id: str) -> None:
    """A clean start with no expiry makes the broker forget the session and what it still held."""
    client = BROKER.connect(client_id)
    client.disconnect()
    client.loop_stop()


@pytest.fixture
def session() -> Iterator[Session]:
    made = Session()
    made.subscribe().close()
    yield made
    forget_session(made.client_id)


def publish(run_task, topic: str, **properties) -> dict:
    return run_task("mqtt.publish", url=MQTT_URL, topic=topic, **properties)


def subscribe(run_task, session: Session, **properties) -> dict:
    return run_task(
        "mqtt.subscribe", url=MQTT_URL, topic=f"{session.topic}/#", clientId=session.client_id, **properties
    )


def test_round_trip_of_json_text_and_binary_bodies_at_each_qos(run_task, session):
    sent = publish(run_task, f"{session.topic}/a", body={"celsius": 21.5}, headers={"line": "3"})
    publish(run_task, f"{session.topic}/b", body="plain words", qos=1, contentType="text/x-words")
    publish(run_task, f"{session.topic}/c", bodyBase64=base64.b64encode(b"\x00\xff").decode(), qos=2)
    publish(run_task, f"{session.topic}/d", body="at most once", qos=0)  # no session online: MQTT drops it
    assert sent == {"topic": f"{session.topic}/a", "qos": 1, "retain": False, "size": 16}

    taken = subscribe(run_task, session, maxRecords=4, maxDuration="2s", qos=2)
    assert taken["count"] == 3
    by_topic = {message["topic"].rsplit("/", 1)[-1]: message for message in taken["messages"]}
    assert by_topic["a"]["json"] == {"celsius": 21.5} and by_topic["a"]["headers"] == {"line": "3"}
    assert by_topic["a"]["properties"]["contentType"] == "application/json" and by_topic["a"]["deliveryCount"] == 1
    assert by_topic["b"]["body"] == "plain words" and by_topic["b"]["properties"]["contentType"] == "text/x-words"
    assert by_topic["b"]["properties"]["qos"] == 1
    assert base64.b64decode(by_topic["c"]["bodyBase64"]) == b"\x00\xff"
    assert by_topic["c"]["properties"]["qos"] == 1  # queued under the session's QoS 1 subscription: the lower wins
    assert subscribe(run_task, session, maxDuration="500ms")["count"] == 0  # acknowledged: not sent again

    subscription = session.subscribe(qos=2)  # QoS 0 reaches a session that is online; QoS 2 end to end
    try:
        publish(run_task, f"{session.topic}/d", body="at most once", qos=0)
        publish(run_task, f"{session.topic}/e", body="exactly once", qos=2)
        for text, qos in (("at most once", 0), ("exactly once", 2)):
            message = subscription.receive(5)
            assert message.text() == text and message.properties["qos"] == qos
            subscription.ack(message)  # QoS 0: nothing to acknowledge, accepted all the same
    finally:
        subscription.close()
    assert subscribe(run_task, session, maxDuration="500ms")["count"] == 0


def test_messages_published_while_no_task_runs_wait_in_the_session_and_bounds_apply(run_task, session):
    for number in range(5):
        publish(run_task, f"{session.topic}/n", body={"n": number})
    first = subscribe(run_task, session, maxRecords=2)
    assert [m["json"]["n"] for m in first["messages"]] == [0, 1]
    started = time.monotonic()
    rest = subscribe(run_task, session, maxRecords=10, maxDuration="1500ms")
    assert 1.4 < time.monotonic() - started < 5
    # The broker had sent 2 to 4 already when the first run ended: unacknowledged, they come again (dup).
    assert sorted(m["json"]["n"] for m in rest["messages"]) == [2, 3, 4]


def test_topic_filters_and_output_file(run_task, session, context, tmp_path):
    for line in range(1, 4):
        publish(run_task, f"{session.topic}/plant/line-{line}/temperature", body={"line": line})
    publish(run_task, f"{session.topic}/plant/line-1/pressure", body={"line": 1})
    newcomer = unique("lanner-test-")
    try:
        taken = run_task(
            "mqtt.subscribe",
            url=MQTT_URL,
            topic=[f"{session.topic}/plant/+/temperature"],
            clientId=newcomer,
            maxDuration="1s",
            output="file",
        )
    finally:
        forget_session(newcomer)
    assert taken["count"] == 0  # a new session: what was published before it existed is not kept for it
    taken = subscribe(run_task, session, maxDuration="1s", output="file", fileName="readings.jsonl")
    lines = [json.loads(line) for line in stored(context, taken["uri"], tmp_path).read_text().splitlines()]
    assert taken["count"] == 4 and len(lines) == 4
    assert {line["topic"].removeprefix(session.topic) for line in lines} == {
        "/plant/line-1/temperature", "/plant/line-2/temperature", "/plant/line-3/temperature",
        "/plant/line-1/pressure",
    }  # fmt: skip


def test_a_retained_message_reaches_a_new_subscription_once(run_task):
    topic = f"{unique('lanner-test/')}/setpoint"
    client_id = unique("lanner-test-")
    publish(run_task, topic, body={"celsius": 19}, retain=True)
    try:
        first = run_task("mqtt.subscribe", url=MQTT_URL, topic=topic, clientId=client_id, maxRecords=1)
        assert first["messages"][0]["json"] == {"celsius": 19} and first["messages"][0]["properties"]["retain"]
        again = run_task("mqtt.subscribe", url=MQTT_URL, topic=topic, clientId=client_id, maxDuration="500ms")
        assert again["count"] == 0  # the session resumed: its subscription exists, the retained value is not resent
    finally:
        publish(run_task, topic, body="", retain=True)  # an empty retained message clears it
        forget_session(client_id)


def test_subscription_redelivers_what_was_received_but_not_acknowledged(run_task, session):
    for number in range(2):
        publish(run_task, f"{session.topic}/n", body=str(number))
    subscription = session.subscribe()
    acked, unacked = subscription.receive(5), subscription.receive(5)
    assert (acked.text(), unacked.text()) == ("0", "1") and acked.delivery_count == 1
    subscription.ack(acked)
    subscription.close()

    subscription = session.subscribe()
    again = subscription.receive(5)
    assert again.text() == "1" and again.delivery_count == 2 and again.properties["dup"]
    subscription.ack(again)
    assert subscription.receive(0.5) is None  # "0" was acknowledged: never again
    subscription.close()


def test_messages_stay_in_the_session_when_the_consume_stops_before_keeping_them(run_task, session, context):
    for number in range(3):
        publish(run_task, f"{session.topic}/n", body={"n": number})
    context.deadline = time.monotonic() + 1.5
    with pytest.raises(TaskTimedOut):
        subscribe(run_task, session, maxRecords=5)
    context.deadline = None
    again = subscribe(run_task, session, maxRecords=3, maxDuration="5s")
    assert sorted(m["json"]["n"] for m in again["messages"]) == [0, 1, 2]
    assert all(m["deliveryCount"] == 2 for m in again["messages"])


def test_a_subscription_that_loses_its_connection_says_so(session):
    subscription = session.subscribe()
    intruder = BROKER.connect(session.client_id, session_expiry=60)  # the same client id pushes it off the broker
    try:
        with pytest.raises(BrokerUnavailable, match="connection lost"):
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                subscription.receive(0.2)
    finally:
        subscription.close()
        intruder.disconnect()
        intruder.loop_stop()


def test_mqtt_3_1_1_round_trip_and_what_it_cannot_carry(run_task, session):
    publish(run_task, f"{session.topic}/old", body="from 3.1.1", version="3.1.1")
    taken = subscribe(run_task, session, maxRecords=1, maxDuration="5s", version="3.1.1")
    assert taken["messages"][0]["body"] == "from 3.1.1"
    with pytest.raises(ConfigurationError, match="headers and messageExpiry need MQTT 5"):
        publish(run_task, f"{session.topic}/old", body="x", headers={"a": "b"}, version="3.1.1")


def test_refusals_are_task_failures(run_task):
    with pytest.raises(TaskFailed, match="cannot publish to 'a/#'"):
        publish(run_task, "a/#", body="x")
    with pytest.raises(ValueError, match="give maxRecords, maxDuration or both"):
        run_task("mqtt.subscribe", url=MQTT_URL, topic="a")


def test_a_broker_that_is_down_fails_within_seconds_without_the_password(run_task):
    url = f"mqtt://lanner:s3cret-pw@127.0.0.1:{free_port()}"
    for type_name, extra in (("mqtt.publish", {"body": "x"}), ("mqtt.subscribe", {"maxRecords": 1})):
        started = time.monotonic()
        with pytest.raises(BrokerUnavailable) as failed:
            run_task(type_name, url=url, topic="t", **extra)
        assert time.monotonic() - started < 5
        assert "cannot be reached" in str(failed.value) and "mqtt://lanner@127.0.0.1:" in str(failed.value)
        assert "s3cret-pw" not in str(failed.value)


def test_version_accepts_how_yaml_writes_it():
    assert MqttVersion(5) is MqttVersion.V5 and MqttVersion("5.0") is MqttVersion.V5
    assert MqttVersion("3.1.1") is MqttVersion.V311 and MqttVersion("311") is MqttVersion.V311


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the broker's part, not the database's
def test_a_flow_publishes_while_another_task_subscribes(cluster_factory, session):
    cluster = cluster_factory()
    cluster.env["LANNER_SECRET_MQTT_URL"] = MQTT_URL
    cluster.start_executor()
    cluster.start_workers(2)
    url = "\"{{ secret('MQTT_URL') }}\""
    execution_id = cluster.run(
        f"id: {unique('mqtt')}\nnamespace: test\n"
        "tasks:\n"
        f"  - {{id: listen, type: mqtt.subscribe, url: {url}, topic: '{session.topic}/#',"
        f" clientId: {session.client_id}, maxRecords: 2, maxDuration: 20s}}\n"
        f"  - {{id: send, type: mqtt.publish, dependsOn: [], url: {url}, topic: '{session.topic}/flow',"
        " body: {flow: '{{ flow.id }}'}, qos: 1}\n"
        f"  - {{id: again, type: mqtt.publish, dependsOn: [send], url: {url}, topic: '{session.topic}/flow',"
        " body: second, qos: 2}\n",
    )
    assert cluster.wait(execution_id).state == State.SUCCESS.value
    messages = cluster.runs(execution_id)["listen"].outputs["messages"]
    assert [m["json"] or m["body"] for m in messages] == [{"flow": messages[0]["json"]["flow"]}, "second"]


def test_receive_gives_messages_to_one_consumer_thread_while_another_publishes(session):
    subscription = session.subscribe()
    sender = threading.Thread(
        target=lambda: [mqtt.publish(BROKER, f"{session.topic}/t", str(n).encode()) for n in range(20)]
    )
    sender.start()
    got = []
    deadline = time.monotonic() + 10
    while len(got) < 20 and time.monotonic() < deadline:
        message = subscription.receive(0.5)
        if message is not None:
            got.append(int(message.text()))
            subscription.ack(message)
    sender.join()
    subscription.close()
    assert got == list(range(20))
