"""RabbitMQ (AMQP 0-9-1) through pika's blocking connection: publish one message (with publisher confirms, so a
publish that returns was taken by the broker), and a ``Subscription`` on a queue with manual acknowledgements.

Guarantees: a message is removed from its queue only by ``ack``; one received and not acknowledged goes back to
the queue when the channel closes (``close``, a lost connection, a killed process) and is delivered again with
``redelivered`` set (quorum queues also count deliveries: ``x-delivery-count``). A publish with ``persistent``
survives a broker restart only in a durable queue.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import ssl
import time
import urllib.parse
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field, model_validator

from engine.flows.spec import Computed, Spec
from engine.messaging.base import BrokerUnavailable, Message, without_password
from engine.tasks.context import ConfigurationError, TaskFailed

DEFAULT_PORT = 5672
DEFAULT_TLS_PORT = 5671
#: Seconds to wait for the broker to answer while connecting (a closed port fails at once, a silent host here).
CONNECT_TIMEOUT = 5.0


class RabbitMqConnection(Spec):
    """The parts of a RabbitMQ address, for a form; url on the task is the same in one line."""

    host: str = "localhost"
    """The broker's name or IP address, e.g. rabbitmq.acme.internal."""
    port: Computed[Annotated[int, Field(ge=1, le=65535)]] | None = None
    """The broker's port; by default 5672 (5671 with tls)."""
    virtual_host: str = "/"
    """The virtual host to work in; / is RabbitMQ's default one."""
    username: str | None = None
    """The account to sign in with (RabbitMQ's default: guest, which may sign in from the broker's machine only)."""
    password: str | None = None
    """The account's password; keep it in a secret: {{ secret('RABBITMQ_PASSWORD') }}."""
    tls: Computed[bool] = False
    """Connect over TLS (amqps), checking the broker's certificate against the system's authorities."""


class RabbitMqServer(Spec):
    """Where a task or trigger finds its RabbitMQ broker: ``url`` or a ``connection`` block."""

    url: str | None = None
    """The broker's address in one line, amqp://user:password@host:5672/vhost (amqps:// for TLS); keep it in a
    secret: {{ secret('RABBITMQ_URL') }}. Give either url or connection."""
    connection: RabbitMqConnection | None = None
    """The broker's address in parts (host, port, virtualHost, username, password, tls); give either url or
    connection."""

    @model_validator(mode="after")
    def _one_address(self) -> RabbitMqServer:
        if self.url is not None and self.connection is not None:
            raise ValueError("give url or connection, not both")
        return self

    def broker(self) -> RabbitMqBroker:
        return RabbitMqBroker.of(self.url, self.connection)


@dataclass(frozen=True)
class RabbitMqBroker:
    """Where to connect: pika's parameters, and the address as messages name it (without the password)."""

    parameters: Any
    where: str

    @classmethod
    def of(cls, url: str | None, connection: RabbitMqConnection | None) -> RabbitMqBroker:
        """The broker a task or trigger names by ``url`` (amqp://user:password@host:5672/vhost, amqps://...) or
        by a ``connection`` block; ``ConfigurationError`` when neither or a wrong URL is given."""
        import pika

        if url is not None:
            if urllib.parse.urlsplit(url).scheme not in ("amqp", "amqps"):
                raise ConfigurationError("url must be an amqp:// or amqps:// address (e.g. amqp://user@host:5672/)")
            where = without_password(url)
            try:
                parameters = pika.URLParameters(url)
            except (ValueError, TypeError) as exc:
                raise ConfigurationError(f"url {where} is not a RabbitMQ address: {exc}") from None
        elif connection is not None:
            port = connection.port or (DEFAULT_TLS_PORT if connection.tls else DEFAULT_PORT)
            options: dict[str, Any] = {}
            if connection.username is not None:
                options["credentials"] = pika.PlainCredentials(connection.username, connection.password or "")
            if connection.tls:
                options["ssl_options"] = pika.SSLOptions(ssl.create_default_context(), connection.host)
            parameters = pika.ConnectionParameters(
                host=connection.host, port=port, virtual_host=connection.virtual_host, **options
            )
            user = f"{connection.username}@" if connection.username else ""
            vhost = urllib.parse.quote(connection.virtual_host, safe="")
            where = f"amqp{'s' if connection.tls else ''}://{user}{connection.host}:{port}/{vhost}"
        else:
            raise ConfigurationError("give url or connection (the RabbitMQ broker's address)")
        # One try, bounded: a broker that is down must fail the task (or back a listener off) within seconds.
        parameters.connection_attempts = 1
        parameters.socket_timeout = CONNECT_TIMEOUT
        parameters.stack_timeout = CONNECT_TIMEOUT * 2
        parameters.blocked_connection_timeout = 60
        return cls(parameters, where)

    def connect(self, name: str = "lanner") -> Any:
        """An open ``pika.BlockingConnection`` named ``name`` in the broker's connection list (what an operator
        sees in the management UI); ``BrokerUnavailable`` saying why not."""
        import copy

        import pika
        from pika import exceptions

        parameters = copy.copy(self.parameters)
        parameters.client_properties = {"connection_name": name}
        try:
            return pika.BlockingConnection(parameters)
        except exceptions.ProbableAuthenticationError:
            raise BrokerUnavailable(
                f"RabbitMQ at {self.where} refused the sign-in: check username and password"
            ) from None
        except exceptions.ProbableAccessDeniedError:
            raise BrokerUnavailable(f"RabbitMQ at {self.where}: the account may not use this virtual host") from None
        except exceptions.AMQPError as exc:
            raise BrokerUnavailable(f"RabbitMQ at {self.where} cannot be reached: {_reason(exc)}") from None
        except OSError as exc:  # a name that does not resolve, TLS refused
            raise BrokerUnavailable(f"RabbitMQ at {self.where} cannot be reached: {exc}") from None


def _reason(error: BaseException) -> str:
    """pika's words for a failure: the broker's reply text when it closed something, else the cause's."""
    from pika import exceptions

    if isinstance(error, exceptions.ChannelClosed | exceptions.ConnectionClosed):
        return f"{error.reply_text} ({error.reply_code})"
    if isinstance(error, exceptions.AMQPConnectionError) and error.args:
        inner = error.args[0]
        return _reason(inner) if isinstance(inner, BaseException) else str(inner)
    inner = getattr(error, "exception", None) or next(iter(getattr(error, "exceptions", ())), None)
    if isinstance(inner, BaseException):  # pika's connector wraps the socket's error (refused, no such host)
        return _reason(inner)
    return str(error) or type(error).__name__


def _failure(broker: RabbitMqBroker, what: str, error: BaseException) -> TaskFailed:
    """The task error for ``error`` met while doing ``what``: a lost connection is ``BrokerUnavailable``, a
    refusal (a missing exchange, a queue declared otherwise) a plain ``TaskFailed`` naming the broker's words."""
    from pika import exceptions

    if isinstance(error, exceptions.ChannelClosedByBroker):
        return TaskFailed(f"RabbitMQ at {broker.where} refused to {what}: {_reason(error)}")
    return BrokerUnavailable(f"RabbitMQ at {broker.where}: connection lost while trying to {what}: {_reason(error)}")


def declare_queue(channel: Any, queue: str, durable: bool) -> None:
    """Make sure ``queue`` exists (created when missing; one that exists with other settings is a refusal)."""
    channel.queue_declare(queue=queue, durable=durable)


def publish(
    broker: RabbitMqBroker,
    body: bytes,
    *,
    exchange: str = "",
    routing_key: str = "",
    headers: dict[str, Any] | None = None,
    persistent: bool = True,
    properties: dict[str, Any] | None = None,
    mandatory: bool = False,
    declare: tuple[str, bool] | None = None,
) -> None:
    """Send one message and wait for the broker's confirm. ``properties`` are AMQP basic properties by pika's
    names (content_type, message_id, correlation_id, reply_to, expiration, priority, type, app_id);
    ``mandatory`` fails when no queue takes the message; ``declare`` is a (queue, durable) to declare first."""
    import pika
    from pika import exceptions

    basic = pika.BasicProperties(headers=headers or None, delivery_mode=2 if persistent else 1, **(properties or {}))
    connection = broker.connect()
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        if declare is not None:
            declare_queue(channel, *declare)
        channel.basic_publish(exchange, routing_key, body, basic, mandatory=mandatory)
    except exceptions.UnroutableError:
        raise TaskFailed(
            f"RabbitMQ at {broker.where}: no queue is bound to exchange '{exchange}' with routing key "
            f"'{routing_key}' (mandatory): the message was not kept"
        ) from None
    except exceptions.NackError:
        raise TaskFailed(f"RabbitMQ at {broker.where} did not take the message (nack): try again") from None
    except exceptions.AMQPError as exc:
        raise _failure(broker, f"publish to exchange '{exchange}'", exc) from None
    finally:
        _close(connection)


def _close(connection: Any) -> None:
    from pika import exceptions

    try:
        if connection.is_open:
            connection.close()
    except (exceptions.AMQPError, OSError):  # already gone: the broker requeues what it had handed out
        pass


def subscribe(
    broker: RabbitMqBroker, queue: str, *, prefetch: int = 100, declare: bool = False, durable: bool = True
) -> RabbitMqSubscription:
    """Consume ``queue`` with manual acknowledgements, at most ``prefetch`` messages unacknowledged at once
    (0: no limit); ``declare`` creates the queue first when it does not exist."""
    from pika import exceptions

    connection = broker.connect(f"lanner consumer of {queue}")
    try:
        channel = connection.channel()
        if declare:
            declare_queue(channel, queue, durable)
        channel.basic_qos(prefetch_count=prefetch if prefetch <= 65535 else 0)  # AMQP's largest; past it, no limit
        subscription = RabbitMqSubscription(broker, connection, channel, queue)
        channel.basic_consume(queue, subscription._deliver, auto_ack=False)
    except exceptions.AMQPError as exc:
        _close(connection)
        raise _failure(broker, f"consume queue '{queue}'", exc) from None
    return subscription


class RabbitMqSubscription:
    """A consumer of one queue on its own connection. Messages arrive only while ``receive`` runs (pika's
    blocking connection does its I/O, heartbeats included, inside calls): call it at least every minute or so,
    or the broker drops the connection as dead after two missed heartbeats (60 s each by default)."""

    def __init__(self, broker: RabbitMqBroker, connection: Any, channel: Any, queue: str) -> None:
        self.broker = broker
        self.queue = queue
        self._connection = connection
        self._channel = channel
        self._ready: collections.deque[Message] = collections.deque()

    def _deliver(self, _channel: Any, method: Any, properties: Any, body: bytes) -> None:
        self._ready.append(_message(self.queue, method, properties, body))

    def receive(self, timeout: float) -> Message | None:
        from pika import exceptions

        deadline = time.monotonic() + max(timeout, 0.0)
        try:
            while not self._ready:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._connection.process_data_events(time_limit=left)
        except exceptions.AMQPError as exc:
            raise _failure(self.broker, f"consume queue '{self.queue}'", exc) from None
        return self._ready.popleft()

    def ack(self, message: Message) -> None:
        self._settle(message, "acknowledge", lambda tag: self._channel.basic_ack(tag))

    def nack(self, message: Message) -> None:
        self._settle(message, "hand back", lambda tag: self._channel.basic_nack(tag, requeue=True))

    def _settle(self, message: Message, what: str, send: Any) -> None:
        from pika import exceptions

        try:
            send(message.receipt)
        except exceptions.AMQPError as exc:
            raise BrokerUnavailable(
                f"RabbitMQ at {self.broker.where}: could not {what} a message of queue '{self.queue}' "
                f"({_reason(exc)}); the broker delivers it again"
            ) from None

    def close(self) -> None:
        self._ready.clear()
        _close(self._connection)


def _text(value: Any) -> str:
    """An AMQP header value (text, a number, a table, bytes) as a header's text."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str, separators=(",", ":"))


#: AMQP basic properties kept in ``Message.properties`` (pika's attribute -> the name shown).
_PROPERTIES = {
    "content_type": "contentType",
    "content_encoding": "contentEncoding",
    "delivery_mode": "deliveryMode",
    "priority": "priority",
    "correlation_id": "correlationId",
    "reply_to": "replyTo",
    "expiration": "expiration",
    "type": "type",
    "user_id": "userId",
    "app_id": "appId",
}


def _message(queue: str, method: Any, properties: Any, body: bytes) -> Message:
    headers = {str(k): _text(v) for k, v in (properties.headers or {}).items()}
    counted = headers.get("x-delivery-count")  # quorum queues: how many times it was delivered before
    delivery_count = 2 if method.redelivered else 1
    if counted is not None and counted.isdigit():
        delivery_count = int(counted) + 1
    shown = {name: getattr(properties, attribute) for attribute, name in _PROPERTIES.items()}
    shown = {name: value for name, value in shown.items() if value is not None}
    shown.update(queue=queue, exchange=method.exchange, routingKey=method.routing_key, redelivered=method.redelivered)
    timestamp = dt.datetime.fromtimestamp(properties.timestamp, dt.UTC) if properties.timestamp else None
    return Message(
        body=body,
        topic=method.routing_key,
        headers=headers,
        message_id=properties.message_id,
        delivery_count=delivery_count,
        timestamp=timestamp,
        properties=shown,
        receipt=method.delivery_tag,
    )
