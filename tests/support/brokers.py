"""The message brokers the broker tests talk to: this machine's servers (RabbitMQ, Mosquitto, NATS), each test
module skipping with the reason when its server is not reachable. Redis is the session's ``redis_server`` fixture.

The addresses can be moved with LANNER_TEST_RABBITMQ_URL, LANNER_TEST_MQTT_URL, LANNER_TEST_NATS_URL and
LANNER_TEST_KAFKA_SERVERS (no Kafka server runs here: its tests that need one skip)."""

from __future__ import annotations

import os
import socket
import urllib.parse

import pytest

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
