"""redis.* broker tasks against a real Redis (the session's ``redis_server``, embedded unless one is given): list
push and pop, stream add and read with a consumer group, pub/sub publish; bounds, a stored file, messages
acknowledged only once kept; the Subscriptions' redelivery after close and after their process dies; a server
that is down failing within seconds; and a flow that pushes then pops through a real engine."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from pydantic import ValidationError

from engine.core.states import State
from engine.messaging import redis_streams
from engine.messaging.base import BrokerUnavailable
from engine.tasks import registry
from engine.tasks.context import TaskTimedOut
from tests.support import ROOT
from tests.support.ids import unique
from tests.support.ports import free_port
from tests.support.sql_families import stored

BINARY = b"\xde\xad\xbe\xef\x00"


@pytest.fixture
def redis_url(redis_server: str) -> str:
    return redis_server


@pytest.fixture
def client(redis_url: str):
    made = redis_streams.RedisServer(url=redis_url).client()
    yield made
    made.close()


def test_list_round_trip_in_order_of_json_text_and_binary_bodies(run_task, redis_url, client):
    key = unique("lanner:test:")
    pushed = run_task("redis.list.push", url=redis_url, key=key, body={"order": 7, "items": ["a", "é"]})
    run_task("redis.list.push", url=redis_url, key=key, bodies=["plain words", {"n": 2}])
    run_task("redis.list.push", url=redis_url, key=key, bodyBase64=base64.b64encode(BINARY).decode())
    run_task("redis.list.push", url=redis_url, key=key, body="urgent", head=True)
    assert pushed == {"count": 1, "length": 1}

    taken = run_task("redis.list.pop", url=redis_url, key=key, maxRecords=10, maxDuration="1s")
    assert taken["count"] == 5
    urgent, first, text, number, binary = taken["messages"]
    assert urgent["body"] == "urgent" and first["json"] == {"order": 7, "items": ["a", "é"]}
    assert text["body"] == "plain words" and text["json"] is None and number["json"] == {"n": 2}
    assert binary["body"] is None and base64.b64decode(binary["bodyBase64"]) == BINARY
    assert first["topic"] == key and first["deliveryCount"] == 1 and first["messageId"] is None
    assert client.keys(f"{key}*") == []  # acknowledged: nothing left, not even the consumer's own keys


def test_list_bounds_max_records_leaves_the_rest_and_max_duration_ends_with_what_came(run_task, redis_url, client):
    key = unique("lanner:test:")
    run_task("redis.list.push", url=redis_url, key=key, bodies=[{"n": n} for n in range(5)])
    taken = run_task("redis.list.pop", url=redis_url, key=key, maxRecords=2)
    assert [m["json"]["n"] for m in taken["messages"]] == [0, 1]
    assert client.llen(key) == 3
    started = time.monotonic()
    rest = run_task("redis.list.pop", url=redis_url, key=key, maxRecords=10, maxDuration="1500ms")
    assert 1.4 < time.monotonic() - started < 5
    assert [m["json"]["n"] for m in rest["messages"]] == [2, 3, 4]


def test_a_timed_out_pop_puts_its_messages_back_in_order(run_task, redis_url, client, context):
    key = unique("lanner:test:")
    run_task("redis.list.push", url=redis_url, key=key, bodies=["a", "b", "c"])
    context.deadline = time.monotonic() + 1.5  # the task's timeout: it waits for 5 messages that never come
    with pytest.raises(TaskTimedOut):
        run_task("redis.list.pop", url=redis_url, key=key, maxRecords=5)
    assert client.lrange(key, 0, -1) == [b"a", b"b", b"c"]


def test_stream_round_trip_with_fields_as_headers_and_entry_ids(run_task, redis_url):
    key = unique("lanner:test:")
    read = {"url": redis_url, "key": key, "consumerGroup": "readers", "start": "all"}
    added = run_task("redis.stream.add", url=redis_url, key=key, body={"order": 7}, fields={"source": "lanner"})
    run_task("redis.stream.add", url=redis_url, key=key, body="plain words")
    run_task("redis.stream.add", url=redis_url, key=key, bodyBase64=base64.b64encode(BINARY).decode())
    taken = run_task("redis.stream.read", **read, maxRecords=10, maxDuration="1s")
    assert taken["count"] == 3
    first, text, binary = taken["messages"]
    assert first["messageId"] == added["id"] and first["json"] == {"order": 7}
    assert first["headers"] == {"source": "lanner"} and first["deliveryCount"] == 1 and first["topic"] == key
    assert first["timestamp"].startswith(time.strftime("%Y-", time.gmtime()))
    assert text["body"] == "plain words" and base64.b64decode(binary["bodyBase64"]) == BINARY
    # Acknowledged: the group goes on after them; another group reads the stream on its own.
    assert run_task("redis.stream.read", **read, maxDuration="300ms")["count"] == 0
    assert run_task("redis.stream.read", **{**read, "consumerGroup": "audit"}, maxRecords=3)["count"] == 3
    # A group created with start: new sees only what comes next.
    late = {**read, "consumerGroup": "late", "start": "new"}
    assert run_task("redis.stream.read", **late, maxDuration="300ms")["count"] == 0


def test_stream_max_len_trims_and_a_timed_out_read_gets_its_entries_again(run_task, redis_url, client, context):
    key = unique("lanner:test:")
    for number in range(300):
        run_task("redis.stream.add", url=redis_url, key=key, body={"n": number}, maxLen=10)
    assert client.xlen(key) < 300  # approximately trimmed (whole nodes of ~100 entries at a time)
    client.delete(key)
    read = {"url": redis_url, "key": key, "consumerGroup": "readers", "start": "all"}
    for number in range(3):
        run_task("redis.stream.add", url=redis_url, key=key, body={"n": number})
    context.deadline = time.monotonic() + 1.5
    with pytest.raises(TaskTimedOut):
        run_task("redis.stream.read", **read, maxRecords=5)
    context.deadline = None
    again = run_task("redis.stream.read", **read, maxRecords=5, maxDuration="1s")
    assert [m["json"]["n"] for m in again["messages"]] == [0, 1, 2]
    assert [m["deliveryCount"] for m in again["messages"]] == [2, 2, 2]


def test_output_file_stores_every_message_as_a_json_line(run_task, redis_url, context, tmp_path, client):
    key = unique("lanner:test:")
    run_task("redis.list.push", url=redis_url, key=key, bodies=[{"n": n} for n in range(30)])
    taken = run_task("redis.list.pop", url=redis_url, key=key, maxDuration="1s", output="file", fileName="q.jsonl")
    assert taken["count"] == 30 and taken["uri"].endswith("/task/1/q.jsonl") and "messages" not in taken
    lines = stored(context, taken["uri"], tmp_path).read_text().splitlines()
    assert [json.loads(line)["json"] for line in lines] == [{"n": n} for n in range(30)]
    assert client.llen(key) == 0


def test_publish_reaches_the_subscribers_listening_now(run_task, redis_url):
    channel = unique("lanner:test:")
    server = redis_streams.RedisServer(url=redis_url)
    assert run_task("redis.publish", url=redis_url, channel=channel, body="nobody hears this") == {"receivers": 0}
    subscription = redis_streams.ChannelSubscription(server, [channel])
    try:
        assert run_task("redis.publish", url=redis_url, channel=channel, body={"n": 1}) == {"receivers": 1}
        message = subscription.receive(2)
        assert json.loads(message.body) == {"n": 1} and message.topic == channel
        subscription.ack(message)  # nothing to do, and nothing comes again
        assert subscription.receive(0.2) is None
    finally:
        subscription.close()


def test_a_list_subscription_gives_back_what_it_did_not_acknowledge(redis_url, client):
    key = unique("lanner:test:")
    server = redis_streams.RedisServer(url=redis_url)
    redis_streams.list_push(server, key, [b"one", b"two", b"three"])
    first = redis_streams.ListSubscription(server, key)
    acked, held = first.receive(1), first.receive(1)
    first.ack(acked)
    nacked = first.receive(1)
    first.nack(nacked)  # back at the head at once
    assert first.receive(1).body == b"three"
    first.close()  # "two" and "three" held, never acknowledged
    assert client.lrange(key, 0, -1) == [b"two", b"three"] and held.body == b"two"


def test_a_list_subscription_hands_out_what_a_lost_answer_left_in_its_hands(redis_url, client):
    """A BLMOVE done by the server whose answer the connection lost (redis-py then sent it again): the message
    sits in the subscription's processing list without ever having been handed out."""
    key = unique("lanner:test:")
    server = redis_streams.RedisServer(url=redis_url)
    redis_streams.list_push(server, key, [b"lost answer"])
    subscription = redis_streams.ListSubscription(server, key)
    try:
        client.lmove(key, f"{key}:lanner:processing:{subscription.consumer}", "LEFT", "LEFT")
        message = subscription.receive(1)
        assert message is not None and message.body == b"lost answer"
        subscription.ack(message)
        assert subscription.receive(0.2) is None and client.llen(key) == 0
    finally:
        subscription.close()


def test_a_stream_subscription_gives_back_what_it_did_not_acknowledge(redis_url):
    key = unique("lanner:test:")
    server = redis_streams.RedisServer(url=redis_url)
    for number in range(2):
        redis_streams.stream_add(server, key, json.dumps({"n": number}).encode())
    first = redis_streams.StreamSubscription(server, key, "listeners", start="0", batch=1)
    acked, held = first.receive(1), first.receive(1)
    first.ack(acked)
    first.close()
    second = redis_streams.StreamSubscription(server, key, "listeners", batch=1)
    try:
        again = second.receive(1)
        assert again.message_id == held.message_id and again.delivery_count == 2
        second.ack(again)
        assert second.receive(0.3) is None
    finally:
        second.close()


HOLDER = """
import sys
from engine.messaging import redis_streams
server = redis_streams.RedisServer(url=sys.argv[1])
if sys.argv[2] == "list":
    subscription = redis_streams.ListSubscription(server, sys.argv[3], lease=1)
else:
    subscription = redis_streams.StreamSubscription(server, sys.argv[3], "shared", start="0", claim_idle=1)
print(subscription.receive(10).body.decode(), flush=True)
import time; time.sleep(60)
"""


@pytest.mark.parametrize("kind", ["list", "stream"])
def test_what_a_dead_consumer_held_comes_again_and_not_while_it_lives(redis_url, kind):
    key = unique("lanner:test:")
    server = redis_streams.RedisServer(url=redis_url)
    if kind == "list":
        redis_streams.list_push(server, key, [b"only one"])
    else:
        redis_streams.stream_add(server, key, b"only one")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, redis_url, kind, key],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert holder.stdout.readline().strip() == "only one"
        if kind == "list":
            other = redis_streams.ListSubscription(server, key, lease=1)
        else:
            other = redis_streams.StreamSubscription(server, key, "shared", claim_idle=1)
        assert other.receive(3) is None  # the live holder keeps it (lease, claims) past 1 s
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        again = other.receive(5)
        assert again is not None and again.body == b"only one"
        assert again.delivery_count == (2 if kind == "stream" else 1)  # a list keeps no count
        other.ack(again)
        assert other.receive(1.5) is None
        other.close()
    finally:
        holder.kill()
        holder.wait(10)


def test_an_unreachable_server_fails_within_seconds_without_the_password(run_task):
    url = f"redis://reader:s3cret-word@127.0.0.1:{free_port()}/0"
    for type_name, properties in [
        ("redis.list.push", {"key": "a", "body": "x"}),
        ("redis.stream.read", {"key": "a", "consumerGroup": "g", "maxRecords": 1}),
    ]:
        started = time.monotonic()
        with pytest.raises(BrokerUnavailable) as failed:
            run_task(type_name, url=url, **properties)
        assert time.monotonic() - started < 5
        assert "Redis at redis://reader@127.0.0.1:" in str(failed.value) and "unreachable" in str(failed.value)
        assert "s3cret-word" not in str(failed.value)


def test_invalid_properties_are_refused_with_what_to_change(redis_url):
    def validate(type_name: str, **properties) -> None:
        registry.get(type_name).model_validate({"id": "t", "type": type_name, "url": redis_url, **properties})

    with pytest.raises(ValidationError, match="give maxRecords, maxDuration or both"):
        validate("redis.list.pop", key="a")
    with pytest.raises(ValidationError, match="give body, bodyBase64 or bodies"):
        validate("redis.list.push", key="a", body="x", bodies=["y"])
    with pytest.raises(ValidationError, match="fields cannot hold 'body'"):
        validate("redis.stream.add", key="a", body="x", fields={"body": "y"})


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the broker is under test, not the store
def test_a_flow_pushes_then_pops_through_the_engine(cluster, redis_url):
    key = unique("lanner:test:")
    flow = (
        f"id: {unique('redis_flow_')}\nnamespace: test\ntasks:\n"
        f"  - {{id: send, type: redis.stream.add, url: '{redis_url}', key: '{key}', body: {{order: 7}}}}\n"
        f"  - {{id: take, type: redis.stream.read, url: '{redis_url}', key: '{key}', consumerGroup: flow,"
        " start: all, maxRecords: 1, maxDuration: 10s}\n"
    )
    execution_id = cluster.run(flow)
    assert cluster.wait(execution_id).state == State.SUCCESS
    runs = cluster.runs(execution_id)
    assert runs["take"].outputs["count"] == 1 and runs["take"].outputs["messages"][0]["json"] == {"order": 7}
    assert runs["take"].outputs["messages"][0]["messageId"] == runs["send"].outputs["id"]
