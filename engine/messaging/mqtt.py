"""MQTT (5, or 3.1.1) through paho-mqtt 2: publish one message with QoS 0, 1 or 2 and retain, and a ``Subscription``
on topic filters with manual acknowledgements on a persistent session.

Guarantees: the subscription is a session the broker keeps under a fixed client id (MQTT 5: clean start off and a
session expiry; 3.1.1: clean session off). A QoS 1 message is acknowledged (PUBACK) only by ``ack``; one received
and not acknowledged stays in the session and the broker sends it again when a client with the same id connects
next (``close``, a lost connection or a killed process all lead there), with the dup flag set. Messages published
while no client of the session is connected are queued for it by the broker (QoS 1 and 2), up to the broker's
limits. QoS 0 messages are never redelivered. QoS 2 is at most once towards Lanner: paho answers PUBREC on receipt,
after which the broker will not send the message again (a crash before ``ack`` loses it), so subscribe with QoS 1
for at-least-once.

MQTT has no "hand back": ``nack`` leaves the message unacknowledged, and the broker sends it again only on the
session's next connection. With 3.1.1 the broker sends at most its in-flight limit of unacknowledged messages
(Mosquitto: 20) until some are acknowledged; MQTT 5 asks for ``receive_maximum`` (up to 65,535).
"""

from __future__ import annotations

import datetime as dt
import queue
import ssl
import threading
import urllib.parse
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, model_validator

from engine.flows.spec import Computed, Spec
from engine.messaging.base import BrokerUnavailable, Message, without_password
from engine.tasks.context import ConfigurationError, TaskFailed

DEFAULT_PORT = 1883
DEFAULT_TLS_PORT = 8883
#: Seconds to wait for the broker to accept a connection, a subscription or a QoS 1/2 publish.
CONNECT_TIMEOUT = 5.0
PUBLISH_TIMEOUT = 10.0
KEEPALIVE = 30
#: Most unacknowledged messages an MQTT 5 client may ask to be sent at once (Receive Maximum is two bytes).
MOST_IN_FLIGHT = 65_535


class MqttVersion(StrEnum):
    V5 = "5"
    V311 = "3.1.1"

    @classmethod
    def _missing_(cls, value: object) -> MqttVersion | None:
        text = str(value).strip().removesuffix(".0")  # YAML reads 5 as a number
        return cls._value2member_map_.get({"311": "3.1.1", "5.0": "5"}.get(text, text))  # type: ignore[return-value]


class MqttConnection(Spec):
    """The parts of an MQTT broker's address, for a form; url on the task is the same in one line."""

    host: str = "localhost"
    """The broker's name or IP address, e.g. mqtt.acme.internal."""
    port: Computed[Annotated[int, Field(ge=1, le=65535)]] | None = None
    """The broker's port; by default 1883 (8883 with tls)."""
    username: str | None = None
    """The account to sign in with; none for a broker that allows anonymous clients."""
    password: str | None = None
    """The account's password; keep it in a secret: {{ secret('MQTT_PASSWORD') }}."""
    tls: Computed[bool] = False
    """Connect over TLS (mqtts), checking the broker's certificate against the system's authorities."""


class MqttServer(Spec):
    """Where a task or trigger finds its MQTT broker: ``url`` or a ``connection`` block, and the protocol."""

    url: str | None = None
    """The broker's address in one line, mqtt://user:password@host:1883 (mqtts:// for TLS); keep it in a secret:
    {{ secret('MQTT_URL') }}. Give either url or connection."""
    connection: MqttConnection | None = None
    """The broker's address in parts (host, port, username, password, tls); give either url or connection."""
    version: Computed[MqttVersion] = MqttVersion.V5
    """The protocol version: 5 (headers, expiry, large in-flight windows) or 3.1.1 for brokers without 5."""

    @model_validator(mode="after")
    def _one_address(self) -> MqttServer:
        if self.url is not None and self.connection is not None:
            raise ValueError("give url or connection, not both")
        return self

    def broker(self) -> MqttBroker:
        return MqttBroker.of(self.url, self.connection, self.version)


@dataclass(frozen=True)
class MqttBroker:
    """Where to connect and how, and the address as messages name it (without the password)."""

    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool
    version: MqttVersion
    where: str

    @classmethod
    def of(
        cls, url: str | None, connection: MqttConnection | None, version: MqttVersion = MqttVersion.V5
    ) -> MqttBroker:
        """The broker a task or trigger names by ``url`` (mqtt://user:password@host:1883, mqtts://...) or by a
        ``connection`` block; ``ConfigurationError`` when neither or a wrong URL is given."""
        if url is not None:
            parts = urllib.parse.urlsplit(url)
            if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
                raise ConfigurationError("url must be an mqtt:// or mqtts:// address (e.g. mqtt://user@host:1883)")
            tls = parts.scheme in ("mqtts", "ssl")
            try:
                port = parts.port or (DEFAULT_TLS_PORT if tls else DEFAULT_PORT)
            except ValueError:
                raise ConfigurationError(f"url {without_password(url)} has no valid port") from None
            unquote = urllib.parse.unquote
            username = unquote(parts.username) if parts.username else None
            password = unquote(parts.password) if parts.password else None
            host = parts.hostname or "localhost"
        elif connection is not None:
            tls, host = connection.tls, connection.host
            port = connection.port or (DEFAULT_TLS_PORT if tls else DEFAULT_PORT)
            username, password = connection.username, connection.password
        else:
            raise ConfigurationError("give url or connection (the MQTT broker's address)")
        user = f"{username}@" if username else ""
        where = f"mqtt{'s' if tls else ''}://{user}{host}:{port}"
        return cls(host, port, username, password, tls, version, where)

    def connect(
        self,
        client_id: str,
        *,
        session_expiry: int | None = None,
        receive_maximum: int | None = None,
        on_message: Any = None,
        on_disconnect: Any = None,
    ) -> Any:
        """A connected paho client whose network thread runs (``loop_start``); ``session_expiry`` (seconds) keeps a
        persistent session under ``client_id``, None starts a clean one. ``BrokerUnavailable`` saying why not."""
        import paho.mqtt.client as paho
        from paho.mqtt.enums import CallbackAPIVersion
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        v5 = self.version == MqttVersion.V5
        persistent = session_expiry is not None
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=paho.MQTTv5 if v5 else paho.MQTTv311,
            clean_session=None if v5 else not persistent,
            manual_ack=True,
            reconnect_on_failure=False,  # a new connection is a new Subscription: old receipts never cross over
        )
        client.connect_timeout = CONNECT_TIMEOUT
        if self.username is not None:
            client.username_pw_set(self.username, self.password)
        if self.tls:
            client.tls_set_context(ssl.create_default_context())
        answered, outcome = threading.Event(), {}

        def connected(_client: Any, _userdata: Any, _flags: Any, reason: Any, _properties: Any) -> None:
            outcome["reason"] = reason
            answered.set()

        client.on_connect = connected
        client.on_message = on_message
        client.on_disconnect = on_disconnect
        options: dict[str, Any] = {}
        if v5:
            properties = Properties(PacketTypes.CONNECT)
            if persistent:
                properties.SessionExpiryInterval = session_expiry
            properties.ReceiveMaximum = min(receive_maximum or MOST_IN_FLIGHT, MOST_IN_FLIGHT)
            options = {"clean_start": not persistent, "properties": properties}
        try:
            client.connect(self.host, self.port, keepalive=KEEPALIVE, **options)
        except (OSError, ValueError) as exc:
            raise BrokerUnavailable(f"MQTT broker at {self.where} cannot be reached: {exc}") from None
        client.loop_start()
        if not answered.wait(CONNECT_TIMEOUT):
            _stop(client)
            raise BrokerUnavailable(f"MQTT broker at {self.where} did not answer within {CONNECT_TIMEOUT:.0f}s")
        reason = outcome["reason"]
        if reason.is_failure:
            _stop(client)
            raise BrokerUnavailable(f"MQTT broker at {self.where} refused the connection: {reason}")
        return client


def _stop(client: Any) -> None:
    """Disconnect (what was not acknowledged stays in a persistent session) and end the network thread."""
    try:
        client.disconnect()
    finally:
        client.loop_stop()


def publish(
    broker: MqttBroker,
    topic: str,
    body: bytes,
    *,
    qos: int = 1,
    retain: bool = False,
    headers: dict[str, str] | None = None,
    content_type: str | None = None,
    message_expiry: int | None = None,
) -> None:
    """Send one message and, for QoS 1 and 2, wait until the broker confirms it. ``headers`` are MQTT 5 user
    properties; ``message_expiry`` (seconds, MQTT 5) drops it if not delivered in time."""
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    properties = None
    if broker.version == MqttVersion.V5:
        properties = Properties(PacketTypes.PUBLISH)
        if headers:
            properties.UserProperty = list(headers.items())
        if content_type:
            properties.ContentType = content_type
        if message_expiry is not None:
            properties.MessageExpiryInterval = message_expiry
    elif headers or message_expiry is not None:
        raise ConfigurationError("headers and messageExpiry need MQTT 5 (version: 5)")
    answers: dict[str, Any] = {}
    client = broker.connect(f"lanner-publish-{uuid.uuid4().hex[:12]}")
    client.on_publish = lambda _client, _userdata, _mid, reason, _properties: answers.update(reason=reason)
    try:
        try:
            info = client.publish(topic, body, qos=qos, retain=retain, properties=properties)
            info.wait_for_publish(PUBLISH_TIMEOUT)
        except (ValueError, RuntimeError) as exc:  # a wildcard in the topic, a connection lost
            raise TaskFailed(f"MQTT broker at {broker.where}: cannot publish to '{topic}': {exc}") from None
        if not info.is_published():
            raise BrokerUnavailable(
                f"MQTT broker at {broker.where} did not confirm the message within {PUBLISH_TIMEOUT:.0f}s"
            )
        reason = answers.get("reason")
        if reason is not None and getattr(reason, "is_failure", False):
            raise TaskFailed(f"MQTT broker at {broker.where} refused the message to '{topic}': {reason}")
    finally:
        _stop(client)


def subscribe(
    broker: MqttBroker,
    topics: list[str],
    *,
    client_id: str,
    qos: int = 1,
    session_expiry: int = 7 * 86_400,
    receive_maximum: int | None = None,
) -> MqttSubscription:
    """Subscribe ``topics`` (filters with + and #) on the persistent session ``client_id``: what the session
    holds from before (unacknowledged, or published while it was away) comes first. ``receive_maximum``: most
    unacknowledged messages the broker may send at once (MQTT 5)."""
    subscription = MqttSubscription(broker, topics)
    client = broker.connect(
        client_id,
        session_expiry=session_expiry,
        receive_maximum=receive_maximum,
        on_message=subscription._deliver,
        on_disconnect=subscription._lost,
    )
    subscription._client = client
    try:
        subscription._subscribe(qos)
    except BaseException:
        _stop(client)
        raise
    return subscription


_LOST = object()  # put in the queue by the network thread when the connection ends


class MqttSubscription:
    """A consumer of one persistent session. paho's network thread receives messages (and keeps the connection
    alive) in the background into a queue; ``receive`` takes from it. One consumer thread at a time."""

    def __init__(self, broker: MqttBroker, topics: list[str]) -> None:
        self.broker = broker
        self.topics = topics
        self._client: Any = None
        self._ready: queue.Queue[Any] = queue.Queue()
        self._lost_reason: str | None = None
        self._closing = False

    def _subscribe(self, qos: int) -> None:
        from paho.mqtt.subscribeoptions import SubscribeOptions

        answered, outcome = threading.Event(), {}

        def subscribed(_client: Any, _userdata: Any, _mid: Any, reasons: Any, _properties: Any) -> None:
            outcome["reasons"] = reasons
            answered.set()

        self._client.on_subscribe = subscribed
        if self.broker.version == MqttVersion.V5:
            # Retained messages only on a new subscription: a session that resumes has had them already.
            retained = SubscribeOptions.RETAIN_SEND_IF_NEW_SUB
            wanted = [(topic, SubscribeOptions(qos=qos, retainHandling=retained)) for topic in self.topics]
        else:
            wanted = [(topic, qos) for topic in self.topics]
        try:
            result, _mid = self._client.subscribe(wanted)
        except ValueError as exc:
            raise TaskFailed(f"MQTT broker at {self.broker.where}: {exc}") from None
        if result != 0 or not answered.wait(CONNECT_TIMEOUT):
            raise BrokerUnavailable(f"MQTT broker at {self.broker.where} did not accept the subscription in time")
        refused = [f"{t}: {r}" for t, r in zip(self.topics, outcome["reasons"], strict=False) if r.is_failure]
        if refused:
            raise TaskFailed(f"MQTT broker at {self.broker.where} refused the subscription ({'; '.join(refused)})")

    def _deliver(self, _client: Any, _userdata: Any, message: Any) -> None:
        self._ready.put(_message(message))

    def _lost(self, _client: Any, _userdata: Any, _flags: Any, reason: Any, _properties: Any) -> None:
        if not self._closing:
            self._lost_reason = str(reason)
            self._ready.put(_LOST)

    def _check_connected(self, what: str) -> None:
        if self._lost_reason is not None:
            raise BrokerUnavailable(
                f"MQTT broker at {self.broker.where}: connection lost ({self._lost_reason}) {what}; what was not "
                "acknowledged is sent again when the session reconnects"
            )

    def receive(self, timeout: float) -> Message | None:
        self._check_connected("while receiving")
        try:
            item = self._ready.get(timeout=max(timeout, 0.0))
        except queue.Empty:
            return None
        if item is _LOST:
            self._check_connected("while receiving")
        return item

    def ack(self, message: Message) -> None:
        mid, qos = message.receipt
        if qos == 0:
            return
        self._check_connected("before the acknowledgement")
        if self._client.ack(mid, qos) != 0:
            raise BrokerUnavailable(f"MQTT broker at {self.broker.where}: the acknowledgement could not be sent")

    def nack(self, message: Message) -> None:
        """Leave it unacknowledged: the broker sends it again on the session's next connection (MQTT has no
        way to hand one message back on a live connection)."""

    def close(self) -> None:
        self._closing = True
        if self._client is None:
            return
        try:
            if self._lost_reason is None:
                self._barrier()
        finally:
            _stop(self._client)

    def _barrier(self) -> None:
        """Wait until the broker has handled the acknowledgements sent so far. MQTT confirms none, and closing
        the socket while the broker still sends (it sends more as acknowledgements free its window) resets the
        connection, which may drop the last ones unread: an UNSUBSCRIBE answered means everything before it was
        read. The filter is one nobody subscribes to, so nothing changes."""
        answered = threading.Event()
        self._client.on_unsubscribe = lambda *_arguments: answered.set()
        result, _mid = self._client.unsubscribe(f"lanner/barrier/{uuid.uuid4().hex}")
        if result == 0:
            answered.wait(CONNECT_TIMEOUT)


def _message(message: Any) -> Message:
    properties = getattr(message, "properties", None)
    headers: dict[str, str] = {}
    shown: dict[str, Any] = {"qos": message.qos, "retain": bool(message.retain), "dup": bool(message.dup)}
    if properties is not None:
        headers = {str(k): str(v) for k, v in getattr(properties, "UserProperty", [])}
        for attribute, name in (
            ("ContentType", "contentType"),
            ("ResponseTopic", "responseTopic"),
            ("MessageExpiryInterval", "messageExpiry"),
        ):
            if hasattr(properties, attribute):
                shown[name] = getattr(properties, attribute)
        if hasattr(properties, "CorrelationData"):
            shown["correlationData"] = bytes(properties.CorrelationData).decode("utf-8", errors="replace")
    return Message(
        body=bytes(message.payload),
        topic=message.topic,
        headers=headers,
        message_id=None,  # MQTT gives none: a packet id is reused as soon as it is acknowledged
        delivery_count=2 if message.dup else 1,
        timestamp=dt.datetime.now(dt.UTC),
        properties=shown,
        receipt=(message.mid, message.qos),
    )
