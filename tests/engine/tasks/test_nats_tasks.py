"""nats.* tasks against the machine's NATS server with JetStream (skipped when it is not reachable): core publish
and consume round trips with headers, JSON, text and binary bodies; request-reply; JetStream publish with
duplicate detection and consume through a durable consumer (bounds, a stored file, acknowledged only once kept);
the Subscription's redelivery after close and after its process dies; a server that is down failing within
seconds; and a flow that publishes then consumes through a real engine."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from engine.core.states import State
from engine.messaging import nats
from engine.messaging.base import BrokerUnavailable
from engine.tasks import registry
from engine.tasks.context import TaskFailed, TaskTimedOut
from tests.support import ROOT
from tests.support.brokers import NATS_URL, needs_nats
from tests.support.ids import unique
from tests.support.ports import free_port
from tests.support.sql_families import stored

pytestmark = needs_nats
SERVER = nats.NatsServer(url=NATS_URL)
BINARY = b"\xde\xad\xbe\xef\x00"


@pytest.fixture
def stream() -> Iterator[str]:
    """A JetStream stream of this test's own taking the subjects ``<name>.>``, deleted afterwards: its name."""
    name = unique("LANNER_TEST_")
    with nats.NatsConnection(SERVER) as connection:
        manager = connection.client.jetstream()
        connection.run(manager.add_stream(name=name, subjects=[f"{name}.>"]), 5, "creating the test stream")
        yield name
        connection.run(manager.delete_stream(name), 5, "deleting the test stream")


def in_background(work, *args, **properties) -> tuple[threading.Thread, dict[str, Any]]:
    """Run ``work`` on a thread; its result (or error) lands in the returned dict once the thread ends."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = work(*args, **properties)
        except Exception as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def wait_for_subscriber(subject: str, seconds: float = 10.0) -> None:
    """Return once a subscriber listens on ``subject``: core NATS keeps nothing for a subscriber that comes later.
    A request nobody listens to is refused at once; the first one not refused (one probe message) reached it."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            nats.request(SERVER, subject, b"probe", timeout=0.2)
        except TaskFailed as failed:
            if "no subscriber listens" in str(failed):
                time.sleep(0.05)
                continue
        return
    raise AssertionError(f"nobody subscribed to {subject} in {seconds:.0f}s")


def test_core_round_trip_of_json_text_and_binary_bodies_with_headers(run_task):
    subject = unique("lanner.test.")
    thread, outcome = in_background(
        run_task, "nats.consume", url=NATS_URL, subject=f"{subject}.>", maxRecords=4, maxDuration="20s"
    )
    wait_for_subscriber(f"{subject}.probe")
    sent = run_task("nats.publish", url=NATS_URL, subject=f"{subject}.json", body={"order": 7, "items": ["a", "é"]})
    run_task("nats.publish", url=NATS_URL, subject=f"{subject}.text", body="plain words", headers={"source": "lanner"})
    run_task("nats.publish", url=NATS_URL, subject=f"{subject}.bin", bodyBase64=base64.b64encode(BINARY).decode())
    thread.join(20)
    assert "error" not in outcome, outcome
    taken = outcome["result"]
    assert taken["count"] == 4 and taken["messages"][0]["body"] == "probe"
    first, second, third = taken["messages"][1:]
    expected = json.dumps({"order": 7, "items": ["a", "é"]}, separators=(",", ":"), ensure_ascii=False).encode()
    assert sent == {"subject": f"{subject}.json", "size": len(expected), "reply": None}
    assert first["json"] == {"order": 7, "items": ["a", "é"]} and first["topic"] == f"{subject}.json"
    assert second["body"] == "plain words" and second["json"] is None and second["headers"] == {"source": "lanner"}
    assert third["body"] is None and base64.b64decode(third["bodyBase64"]) == BINARY
    assert all(m["deliveryCount"] == 1 and m["messageId"] is None for m in (first, second, third))


def test_a_request_waits_for_the_reply_and_fails_when_nobody_listens(run_task):
    subject = unique("lanner.test.")
    responder = nats.subscribe(SERVER, subject)  # subscribed once it returns: no probe needed

    def answer() -> None:
        question = responder.receive(10)
        assert question is not None
        reply = {"price": 12.5, "sku": json.loads(question.body)["sku"]}
        nats.publish(SERVER, question.properties["reply"], json.dumps(reply).encode(), {"served-by": "test"})

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        outputs = run_task(
            "nats.publish", url=NATS_URL, subject=subject, body={"sku": "A-100"}, request=True, requestTimeout="5s"
        )
    finally:
        thread.join(10)
        responder.close()
    assert outputs["reply"]["json"] == {"price": 12.5, "sku": "A-100"}
    assert outputs["reply"]["headers"] == {"served-by": "test"}

    started = time.monotonic()
    with pytest.raises(TaskFailed, match=f"request on {subject}: no subscriber listens on that subject"):
        run_task("nats.publish", url=NATS_URL, subject=subject, body="anyone?", request=True)
    assert time.monotonic() - started < 3


def jetstream_publish(run_task, stream_name: str, suffix: str = "orders", **properties) -> dict:
    return run_task("nats.jetstream.publish", url=NATS_URL, subject=f"{stream_name}.{suffix}", **properties)


def jetstream_consume(run_task, stream_name: str, durable: str = "reader", **properties) -> dict:
    return run_task("nats.jetstream.consume", url=NATS_URL, subject=f"{stream_name}.>", durable=durable, **properties)


def test_jetstream_round_trip_with_headers_duplicates_dropped_and_sequences_as_ids(run_task, stream):
    first = jetstream_publish(run_task, stream, body={"order": 7}, headers={"source": "lanner"}, msgId="order-7")
    again = jetstream_publish(run_task, stream, body={"order": 7}, msgId="order-7")  # a retried task
    jetstream_publish(run_task, stream, "text", body="plain words", stream=stream)
    jetstream_publish(run_task, stream, "bin", bodyBase64=base64.b64encode(BINARY).decode())
    assert first == {"stream": stream, "sequence": 1, "duplicate": False}
    assert again == {"stream": stream, "sequence": 1, "duplicate": True}
    with pytest.raises(TaskFailed, match="expected stream does not match"):
        jetstream_publish(run_task, stream, body="elsewhere?", stream="SOME_OTHER_STREAM")
    with pytest.raises(TaskFailed, match="no JetStream stream takes that subject"):
        run_task("nats.jetstream.publish", url=NATS_URL, subject=unique("lanner.nostream."), body="x")

    taken = jetstream_consume(run_task, stream, maxRecords=10, maxDuration="2s")
    assert taken["count"] == 3
    one, two, three = taken["messages"]
    assert one["json"] == {"order": 7} and one["headers"] == {"source": "lanner", "Nats-Msg-Id": "order-7"}
    assert [m["messageId"] for m in taken["messages"]] == ["1", "2", "3"]
    assert [m["deliveryCount"] for m in taken["messages"]] == [1, 1, 1]
    assert one["topic"] == f"{stream}.orders" and one["properties"]["stream"] == stream and one["timestamp"]
    assert two["body"] == "plain words" and base64.b64decode(three["bodyBase64"]) == BINARY
    # Acknowledged: the durable consumer goes on after them.
    assert jetstream_consume(run_task, stream, maxDuration="500ms") == {"messages": [], "count": 0}


def test_jetstream_bounds_max_records_leaves_the_rest_and_max_duration_ends_with_what_came(run_task, stream):
    for number in range(5):
        jetstream_publish(run_task, stream, body={"n": number})
    taken = jetstream_consume(run_task, stream, maxRecords=2)
    assert [m["json"]["n"] for m in taken["messages"]] == [0, 1]
    started = time.monotonic()
    rest = jetstream_consume(run_task, stream, maxRecords=10, maxDuration="1500ms")
    assert 1.4 < time.monotonic() - started < 5
    assert [m["json"]["n"] for m in rest["messages"]] == [2, 3, 4]
    assert [m["deliveryCount"] for m in rest["messages"]] == [1, 1, 1]  # none fetched twice by the first consume
    # Another durable starts from the stream's first message (deliverPolicy all); "new" would see none of them.
    assert jetstream_consume(run_task, stream, durable="audit", maxDuration="1s")["count"] == 5
    assert jetstream_consume(run_task, stream, durable="late", deliverPolicy="new", maxDuration="1s")["count"] == 0


def test_consumes_must_be_bounded_and_durable_names_valid():
    with pytest.raises(ValidationError, match="give maxRecords, maxDuration or both"):
        registry.get("nats.consume").model_validate({"id": "c", "type": "nats.consume", "subject": "a"})
    with pytest.raises(ValidationError, match="durable"):
        registry.get("nats.jetstream.consume").model_validate(
            {"id": "c", "type": "nats.jetstream.consume", "subject": "a", "durable": "a.b", "maxRecords": 1}
        )


def test_output_file_stores_every_message_as_a_json_line(run_task, stream, context, tmp_path):
    for number in range(30):
        jetstream_publish(run_task, stream, body={"n": number}, headers={"i": str(number)})
    taken = jetstream_consume(run_task, stream, maxDuration="2s", output="file", fileName="batch.jsonl")
    assert taken["count"] == 30 and taken["uri"].endswith("/task/1/batch.jsonl") and "messages" not in taken
    lines = stored(context, taken["uri"], tmp_path).read_text().splitlines()
    assert [json.loads(line)["json"] for line in lines] == [{"n": n} for n in range(30)]
    assert json.loads(lines[4])["headers"] == {"i": "4"} and json.loads(lines[4])["messageId"] == "5"
    assert jetstream_consume(run_task, stream, maxDuration="500ms")["count"] == 0


def test_messages_come_again_when_the_consume_stops_before_keeping_them(run_task, stream, context):
    for number in range(3):
        jetstream_publish(run_task, stream, body={"n": number})
    context.deadline = time.monotonic() + 3  # the task's timeout: it waits for 5 messages that never come
    with pytest.raises(TaskTimedOut):
        jetstream_consume(run_task, stream, maxRecords=5)
    context.deadline = None
    # Well within ackWait (30 s): what was given back comes at once, even on a loaded machine.
    again = jetstream_consume(run_task, stream, maxRecords=5, maxDuration="4s")
    assert [m["json"]["n"] for m in again["messages"]] == [0, 1, 2]
    assert [m["deliveryCount"] for m in again["messages"]] == [2, 2, 2]  # given back at once, not after ackWait


def test_a_subscription_redelivers_what_it_received_and_did_not_acknowledge(stream):
    for number in range(2):
        nats.jetstream_publish(SERVER, f"{stream}.orders", json.dumps({"n": number}).encode())
    first = nats.subscribe_jetstream(SERVER, f"{stream}.>", "listener", ack_wait=30)
    acked, held = first.receive(5), first.receive(5)
    assert (acked.message_id, held.message_id) == ("1", "2")
    first.ack(acked)
    first.close()  # the listener stops before it committed what ``held`` started

    second = nats.subscribe_jetstream(SERVER, f"{stream}.>", "listener", ack_wait=30)
    try:
        again = second.receive(5)
        assert again.message_id == "2" and again.delivery_count == 2 and json.loads(again.body) == {"n": 1}
        second.ack(again)
        assert second.receive(0.5) is None  # the acknowledged one never comes back
    finally:
        second.close()


def leave_a_pull_request_open(subscription: nats.JetStreamSubscription, seconds: float) -> None:
    """What a fetch that timed out on a loaded machine leaves: the server counts a pull request's expiry from
    when it arrives, so it can outlive the client's wait. Made here on purpose, on the subscription's own inbox,
    and noted as ``receive`` notes its own."""
    pull = subscription._sub  # nats-py's PullSubscription: its request subject and its inbox
    request = json.dumps({"batch": 5, "expires": int(seconds * 1e9)}).encode()
    client = subscription._connection.client
    subscription._connection.run(client.publish(pull._nms, request, pull._deliver), 5, "asking")
    subscription._connection.run(client.flush(), 5, "flushing")
    subscription.asked_until(time.monotonic() + seconds)


def test_what_a_closing_subscription_gives_back_does_not_go_to_its_own_pull_request_still_open(stream):
    for number in range(3):
        nats.jetstream_publish(SERVER, f"{stream}.orders", json.dumps({"n": number}).encode())
    first = nats.subscribe_jetstream(SERVER, f"{stream}.>", "listener", ack_wait=30)
    assert [first.receive(5).message_id for _ in range(3)] == ["1", "2", "3"]
    leave_a_pull_request_open(first, 1.5)
    first.close()  # gives the three back: delivered to that open request, they would reach nobody for 30 s

    second = nats.subscribe_jetstream(SERVER, f"{stream}.>", "listener", ack_wait=30)
    try:
        started = time.monotonic()
        again = [second.receive(5) for _ in range(3)]
        assert [m and (m.message_id, m.delivery_count) for m in again] == [("1", 2), ("2", 2), ("3", 2)]
        assert time.monotonic() - started < 5  # once that request expired, not after ack_wait
    finally:
        second.close()


HOLDER = """
import sys, time
from engine.messaging import nats
subscription = nats.subscribe_jetstream(nats.NatsServer(url=sys.argv[1]), sys.argv[2], "shared", ack_wait=1)
message = subscription.receive(10)
print(message.message_id, flush=True)
time.sleep(60)
"""


def test_a_held_message_stays_with_its_live_holder_and_comes_again_when_the_holder_dies(stream):
    nats.jetstream_publish(SERVER, f"{stream}.orders", b"only one")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, NATS_URL, f"{stream}.>"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    other = nats.subscribe_jetstream(SERVER, f"{stream}.>", "shared", ack_wait=1)
    try:
        assert holder.stdout.readline().strip() == "1"
        # ackWait is 1 s: the holder's "in progress" signals keep the message from everyone else meanwhile.
        assert other.receive(3) is None
        holder.send_signal(signal.SIGKILL)  # it dies holding the message, without giving it back
        holder.wait(10)
        started = time.monotonic()
        again = other.receive(5)
        assert again is not None and again.body == b"only one" and again.delivery_count == 2
        assert time.monotonic() - started < 3  # redelivered once ackWait ran out
        other.ack(again)
    finally:
        holder.kill()
        holder.wait(10)
        other.close()


def test_an_unreachable_server_fails_within_seconds_naming_it_without_the_password(run_task):
    url = f"nats://reader:s3cret-word@127.0.0.1:{free_port()}"
    for type_name, properties in [
        ("nats.publish", {"subject": "a", "body": "x"}),
        ("nats.jetstream.consume", {"subject": "a", "durable": "d", "maxRecords": 1}),
    ]:
        started = time.monotonic()
        with pytest.raises(BrokerUnavailable) as failed:
            run_task(type_name, url=url, **properties)
        assert time.monotonic() - started < 5
        assert "could not connect to NATS at nats://reader@127.0.0.1:" in str(failed.value)
        assert "s3cret-word" not in str(failed.value)


def test_a_lost_connection_is_reported_by_receive(stream):
    subscription = nats.subscribe_jetstream(SERVER, f"{stream}.>", "lost", ack_wait=30)
    try:
        subscription._connection.client._transport.close()  # the socket drops under it, as a network cut would
        with pytest.raises(BrokerUnavailable, match="lost the connection to NATS"):
            for _ in range(20):
                subscription.receive(0.5)
    finally:
        subscription.close()


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the broker is under test, not the store
def test_a_flow_publishes_then_consumes_through_the_engine(cluster, stream):
    flow = (
        f"id: {unique('nats_flow_')}\nnamespace: test\ntasks:\n"
        f"  - {{id: send, type: nats.jetstream.publish, url: '{NATS_URL}', subject: {stream}.orders,"
        " body: {order: 7}, msgId: order-7}\n"
        f"  - {{id: take, type: nats.jetstream.consume, url: '{NATS_URL}', subject: '{stream}.>', durable: flow,"
        " maxRecords: 1, maxDuration: 10s}\n"
    )
    execution_id = cluster.run(flow)
    assert cluster.wait(execution_id).state == State.SUCCESS
    runs = cluster.runs(execution_id)
    assert runs["send"].outputs == {"stream": stream, "sequence": 1, "duplicate": False}
    assert runs["take"].outputs["count"] == 1 and runs["take"].outputs["messages"][0]["json"] == {"order": 7}
