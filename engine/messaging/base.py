"""What every broker module gives: a ``Message`` as received, and a ``Subscription`` that hands messages out one
at a time and forgets one only when told to (``ack``), so a caller acknowledges after it has committed what the
message started (a realtime trigger: the execution; a consume task: the stored file)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Protocol

from engine.tasks.context import TaskFailed


class BrokerUnavailable(TaskFailed):
    """The broker could not be reached or dropped the connection; the words name the broker's address without
    its password (a listener retries with backoff; a task fails with this message)."""


@dataclass(frozen=True)
class Message:
    """One message as a broker delivered it."""

    body: bytes
    topic: str
    """Where it came from: the queue or routing key, the MQTT topic, the NATS subject, the Redis list or stream."""
    headers: dict[str, str] = field(default_factory=dict)
    message_id: str | None = None
    """The broker's id for it (AMQP message-id, a JetStream sequence, a Redis stream entry id, a Kafka
    topic/partition/offset), used to tell a redelivery from a new message; None where the broker gives none."""
    delivery_count: int = 1
    """How many times it has been delivered, this time included, where the broker tells (else 1, or 2 when it
    only says 'redelivered')."""
    timestamp: dt.datetime | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    """Other broker-specific facts (AMQP properties, MQTT qos/retain, a Kafka partition and offset)."""
    receipt: Any = None
    """What the broker module needs to acknowledge it (a delivery tag, a JetStream message...); not shown."""

    def text(self) -> str | None:
        """The body as UTF-8 text, or None when it is not text."""
        try:
            return self.body.decode("utf-8")
        except UnicodeDecodeError:
            return None

    def as_output(self) -> dict[str, Any]:
        """The message as tasks' outputs and ``trigger.*`` show it: the body as text (parsed JSON under ``json``
        when it is JSON), or base64 under ``bodyBase64`` when it is not text."""
        text = self.text()
        shown: dict[str, Any] = {
            "body": text,
            "topic": self.topic,
            "headers": dict(self.headers),
            "messageId": self.message_id,
            "deliveryCount": self.delivery_count,
            "timestamp": self.timestamp.isoformat() if self.timestamp else None,
            "properties": self.properties,
        }
        if text is None:
            shown["bodyBase64"] = base64.b64encode(self.body).decode("ascii")
        else:
            try:
                shown["json"] = json.loads(text)
            except ValueError:
                shown["json"] = None
        return shown


def body_bytes(body: Any) -> bytes:
    """What a publish task sends: text as UTF-8, anything else (a mapping, a list, a number) as JSON."""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def without_password(url: str) -> str:
    """A broker URL as messages and logs name it: ``amqp://guest@host:5672/vhost``, the password left out (and
    the whole user part when the URL cannot be read, so a malformed one never leaks it)."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return url.rsplit("@", 1)[-1]
    if ":" in host:  # an IPv6 address keeps its brackets
        host = f"[{host}]"
    user = f"{urllib.parse.unquote(parts.username)}@" if parts.username else ""
    return urllib.parse.urlunsplit((parts.scheme, f"{user}{host}{port}", parts.path, "", ""))


def decode_base64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise TaskFailed(f"bodyBase64 is not base64: {exc}") from None


class Subscription(Protocol):
    """A consumer of one subscription; not thread-safe (one per listener or task)."""

    def receive(self, timeout: float) -> Message | None:
        """The next message, or None when none came within ``timeout`` seconds; ``BrokerUnavailable`` when the
        connection is lost (messages received but not acknowledged are then redelivered by the broker)."""
        ...

    def ack(self, message: Message) -> None:
        """The message is handled: the broker will not deliver it again."""
        ...

    def nack(self, message: Message) -> None:
        """The message could not be handled now: the broker delivers it again (to this or another consumer)."""
        ...

    def close(self) -> None: ...


class Poller:
    """A ``Subscription`` whose messages come from looking every ``interval`` seconds (a SQL query, a URL):
    ``poll`` says what it found, or None. Acknowledging does nothing unless a subclass holds something open."""

    def __init__(self, interval: float) -> None:
        self.interval, self.next_poll = interval, time.monotonic()

    def receive(self, timeout: float) -> Message | None:
        wait = self.next_poll - time.monotonic()
        if wait > timeout:
            time.sleep(timeout)
            return None
        if wait > 0:
            time.sleep(wait)
        self.next_poll = time.monotonic() + self.interval
        return self.poll()

    def poll(self) -> Message | None:
        raise NotImplementedError

    def ack(self, message: Message) -> None:
        pass

    def nack(self, message: Message) -> None:
        pass

    def close(self) -> None:
        pass
