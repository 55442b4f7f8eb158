"""The message brokers the broker tests (and bench/triggers.py) talk to: this machine's servers (RabbitMQ, Mosquitto, NATS), each test
module skipping with the reason when its server is not reachable. Redis is the session's ``redis_server`` fixture.

The addresses can be moved with LANNER_TEST_RABBITMQ_URL, LANNER_TEST_MQTT_URL, LANNER_TEST_NATS_URL and
LANNER_TEST_KAFKA_SERVERS (no Kafka server runs here: its tests that need one skip)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from engine.runtime.connection import connect
from engine.runtime.trigger_listener import subscription_name
from tests.support.cluster import Cluster
from tests.support.ids import unique
from tests.support.tcp_proxy import TcpProxy

RABBITMQ_URL = os.environ.get("LANNER_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
MQTT_URL = os.environ.get("LANNER_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")
NATS_URL = os.environ.get("LANNER_TEST_NATS_URL", "nats://127.0.0.1:4222")
KAFKA_SERVERS = os.environ.get("LANNER_TEST_KAFKA_SERVERS", "127.0.0.1:9092")


def reachable(host: str, port: int, timeout: float = 1.0) -> bool:
    """Whether something accepts TCP connections at ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _needs(name: str, url: str, default_port: int, variable: str) -> pytest.MarkDecorator:
    """Skip unless the broker at ``url`` accepts connections (checked once, when the test modules load)."""
    parts = urllib.parse.urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or default_port
    return pytest.mark.skipif(
        not reachable(host, port), reason=f"{name} not reachable at {host}:{port} (set {variable})"
    )


needs_rabbitmq = _needs("RabbitMQ", RABBITMQ_URL, 5672, "LANNER_TEST_RABBITMQ_URL")
needs_mqtt = _needs("an MQTT broker", MQTT_URL, 1883, "LANNER_TEST_MQTT_URL")
needs_nats = _needs("NATS", NATS_URL, 4222, "LANNER_TEST_NATS_URL")
# No Kafka server runs on this project's machines: these tests run where LANNER_TEST_KAFKA_SERVERS names one.
needs_kafka = _needs(
    "no Kafka server here: Kafka", f"kafka://{KAFKA_SERVERS.split(',')[0]}", 9092, "LANNER_TEST_KAFKA_SERVERS"
)


@dataclass
class Broker:
    """One broker as the tests drive it: the trigger's YAML, publishing numbered bodies, cutting the connection."""

    trigger: Callable[[str], str]  # the trigger's YAML (its id: listen) for a channel name
    publish: Callable[[str, list[bytes]], None]
    cut: Callable[[str, str], int] | None  # (trigger key, channel): closes the listener's connection; how many
    prepare: Callable[[str], None] = lambda channel: None  # what a user makes first (a JetStream stream)
    exact: bool = True  # the broker gives message ids: a redelivery is recognised (else it may start again)
    cleanup: Callable[[str, str], None] = lambda key, channel: None  # removes what the test left on the broker


def redis_broker(cluster: Cluster) -> Broker:
    r = connect(cluster.redis_url)

    def publish(key: str, bodies: list[bytes]) -> None:
        with r.pipeline(transaction=False) as pipe:
            for body in bodies:
                pipe.xadd(key, {"body": body})
            pipe.execute()

    def cut(key: str, channel: str) -> int:  # the listeners' broker connections are named "lanner"
        clients = [c for c in r.client_list() if c.get("name") == "lanner"]
        for client in clients:
            r.client_kill_filter(_id=client["id"])
        return len(clients)

    return Broker(
        trigger=lambda key: (
            f"{{id: listen, type: redis.realtime, url: '{cluster.redis_url}', key: {key}, "
            "claimIdle: 1s, maxQueued: 100000}"
        ),
        publish=publish,
        cut=cut,
    )


def nats_broker(cluster: Cluster, *, cuttable: bool = True) -> Broker:
    """NATS JetStream; with ``cuttable`` the listeners reach it through a proxy that can cut their connections (the
    server has no way to drop one client), which a benchmark leaves out."""
    import nats as nats_client

    stream = unique("S").replace("-", "_")

    async def _publish(subject: str, bodies: list[bytes]) -> None:
        client = await nats_client.connect(NATS_URL)
        for body in bodies:
            await client.jetstream().publish(subject, body)
        await client.close()

    async def _delete() -> None:
        client = await nats_client.connect(NATS_URL)
        with contextlib.suppress(Exception):  # never made: the test failed before
            await client.jetstream().delete_stream(stream)
        await client.close()

    async def _prepare(subject: str) -> None:
        client = await nats_client.connect(NATS_URL)
        await client.jetstream().add_stream(name=stream, subjects=[subject])
        await client.close()

    parts = urllib.parse.urlsplit(NATS_URL)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 4222) if cuttable else None
    listened = f"nats://127.0.0.1:{proxy.port}" if proxy else NATS_URL

    def cleanup(key: str, subject: str) -> None:
        if proxy:
            proxy.close()
        asyncio.run(_delete())

    return Broker(
        trigger=lambda subject: (
            f"{{id: listen, type: nats.realtime, url: '{listened}', subject: {subject}, "
            "ackWait: 2s, maxQueued: 100000}"
        ),
        publish=lambda subject, bodies: asyncio.run(_publish(subject, bodies)),
        cut=(lambda key, subject: proxy.cut()) if proxy else None,
        prepare=lambda subject: asyncio.run(_prepare(subject)),
        cleanup=cleanup,
    )


def _delete_queue(queue: str) -> None:
    import pika

    with pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL)) as connection:
        connection.channel().queue_delete(queue)


def rabbitmq_broker(cluster: Cluster) -> Broker:
    import pika

    def publish(queue: str, bodies: list[bytes]) -> None:
        with pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL)) as connection:
            channel = connection.channel()
            channel.confirm_delivery()
            for body in bodies:
                properties = pika.BasicProperties(message_id=body.decode(), delivery_mode=2)
                channel.basic_publish("", queue, body, properties)

    def prepare(queue: str) -> None:
        with pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL)) as connection:
            connection.channel().queue_declare(queue, durable=True)

    def cut(key: str, queue: str) -> int:  # the listener's connection is named after its queue
        command = ["rabbitmqctl", "-q", "list_connections", "pid", "client_properties"]
        listed = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True).stdout
        named = f'{{"connection_name","lanner consumer of {queue}"}}'
        mine = [line.split("\t")[0] for line in listed.splitlines() if named in line]
        for pid in mine:
            subprocess.run(["rabbitmqctl", "-q", "close_connection", pid, "cut by a test"], timeout=60, check=True)
        return len(mine)

    return Broker(
        trigger=lambda queue: (
            f"{{id: listen, type: rabbitmq.realtime, url: '{RABBITMQ_URL}', queue: {queue}, maxQueued: 100000}}"
        ),
        publish=publish,
        cut=cut if shutil.which("rabbitmqctl") else None,
        prepare=prepare,
        cleanup=lambda key, queue: _delete_queue(queue),
    )


def mqtt_broker(cluster: Cluster) -> Broker:
    from engine.messaging.mqtt import MqttBroker

    broker = MqttBroker.of(MQTT_URL, None)

    def publish(topic: str, bodies: list[bytes]) -> None:
        client = broker.connect(unique("publisher"))
        for body in bodies:
            client.publish(topic, body, qos=1).wait_for_publish(10)
        client.disconnect()
        client.loop_stop()

    def forget(client_id: str) -> None:  # a clean start with no expiry: the broker forgets the session
        client = broker.connect(client_id)
        client.disconnect()
        client.loop_stop()

    def cut(key: str, topic: str) -> int:  # a client taking over the trigger's session throws the listener off
        client = broker.connect(subscription_name(key), session_expiry=7 * 86_400)  # the session is kept
        client.disconnect()
        client.loop_stop()
        return 1

    return Broker(
        trigger=lambda topic: (
            f"{{id: listen, type: mqtt.realtime, url: '{MQTT_URL}', topics: ['{topic}'], maxQueued: 100000}}"
        ),
        publish=publish,
        cut=cut,
        exact=False,
        cleanup=lambda key, topic: forget(subscription_name(key)),
    )
