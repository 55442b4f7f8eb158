"""One realtime trigger's consumer: take a message (or a batch), start its execution, and only once that is
committed acknowledge it to the broker.

At least once, with duplicates recognised: the execution and a ``trigger_fire`` row keyed by the broker's message
id commit together, so a message delivered again (the listener died between the commit and the acknowledgement,
or the broker lost the acknowledgement) fails that insert and starts nothing; it is acknowledged and counted as a
duplicate. Where the broker gives no id (core NATS, MQTT, Redis pub/sub), a redelivery starts a second execution.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import redis
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from engine.core.expressions import ExpressionError, render
from engine.flows.inputs import InputsInvalid
from engine.flows.triggers import ListenedTrigger
from engine.messaging.base import BrokerUnavailable, Message, Subscription
from engine.metrics import record
from engine.runtime import events
from engine.runtime.trigger_health import Health
from engine.services.execution_start import create_execution
from engine.storage import open_storage
from engine.storage.address import Address
from engine.store import executions as store
from engine.store import triggers as trigger_store
from engine.store.database import session_scope
from engine.tasks.context import mask_text
from engine.workspace.secrets import secret_resolver

log = logging.getLogger("lanner.triggers")
RECEIVE_SECONDS = 0.5  # how long one receive waits: also how soon a stop is seen
BACKLOG_CHECK_SECONDS = 0.5
BATCH_FILE = "messages.ndjson"


@dataclass(frozen=True)
class Listening:
    """A realtime trigger of one revision of a flow, as the listener runs it."""

    namespace: str
    flow_id: str
    revision: int = field(compare=False)  # another change of the flow keeps the trigger's connection
    trigger: ListenedTrigger

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.flow_id}/{self.trigger.id}"


class Backoff:
    """Waits before reconnecting to a broker that is down: 1, 2, 4... up to ``ceiling`` seconds."""

    def __init__(self, first: float = 1.0, ceiling: float = 30.0) -> None:
        self.first, self.ceiling, self.next = first, ceiling, first

    def wait(self, stop: threading.Event) -> None:
        stop.wait(self.next)
        self.next = min(self.next * 2, self.ceiling)

    def reset(self) -> None:
        self.next = self.first


def fire_key(messages: list[Message]) -> str:
    """What makes a start unique: the broker's id of the message (of every message, for a batch); a random key
    where the broker gives none, so nothing can recognise its redelivery."""
    ids = [m.message_id for m in messages]
    if not all(ids):
        return f"random:{uuid.uuid4().hex}"
    if len(ids) == 1:
        return f"message:{ids[0]}"
    return "batch:" + hashlib.sha256("\n".join(ids).encode()).hexdigest()  # type: ignore[arg-type]


class Consumer(threading.Thread):
    """Runs one trigger until ``stop`` is set: subscribes, reconnects with backoff when the broker is down, and
    starts an execution per message or per batch."""

    def __init__(self, db: Engine, r: redis.Redis, listening: Listening, consumer: str, subscription: str) -> None:
        super().__init__(name=f"trigger {listening.key}", daemon=True)
        self.db, self.r, self.listening = db, r, listening
        self.consumer, self.subscription = consumer, subscription
        self.stop = threading.Event()
        self.health = Health(r, listening.key)
        self._backlog_checked, self._waiting = 0.0, 0
        self._secrets: set[str] = set()

    def run(self) -> None:
        backoff = Backoff()
        while not self.stop.is_set():
            subscription: Subscription | None = None
            try:
                trigger = self._with_secrets()
                subscription = trigger.subscribe(self.subscription, self.consumer, self.listening.namespace)
                self.health.connected(trigger.where(), self.consumer)
                backoff.reset()
                self._consume(subscription)
            except BrokerUnavailable as exc:
                self._failed(str(exc))
                backoff.wait(self.stop)
            except Exception as exc:  # a bug or a broker's surprise must not end the listener: say it, retry
                log.exception("realtime trigger %s", self.listening.key)
                self._failed(f"{type(exc).__name__}: {exc}")
                backoff.wait(self.stop)
            finally:
                if subscription is not None:
                    _close_quietly(subscription)
        self.health.disconnected()

    def _with_secrets(self) -> ListenedTrigger:
        """The trigger with its settings' expressions rendered, e.g. a password from {{ secret('MQ_PASSWORD') }}
        (read again at each connection, so a changed secret is used at the next one); ``rendered_later`` ones
        (``inputs``...) are rendered for each message instead. Values read are masked in what the health shows."""
        trigger = self.listening.trigger
        with session_scope(self.db) as session:
            secret = secret_resolver(session, self.listening.namespace)
            later = {name: getattr(trigger, name) for name in trigger.rendered_later}
            settings = render(trigger.model_dump(exclude=set(later)), {"secret": secret})
            self._secrets |= secret.values_read
        return type(trigger).model_validate({**settings, **later})

    def _failed(self, error: str) -> None:
        error = mask_text(error, self._secrets)
        self.health.failed(error)
        record.trigger_failed(self.listening.namespace, self.listening.flow_id, self.listening.trigger.type)

    def _consume(self, subscription: Subscription) -> None:
        while not self.stop.is_set():
            if self._is_backlogged():
                self.stop.wait(BACKLOG_CHECK_SECONDS)
                continue
            batch = self._receive(subscription)
            if not batch:
                continue
            self.health.received(len(batch))
            outcome = self._start(batch)
            for message in batch:  # only now: the execution (or the proof it exists) is committed
                subscription.ack(message)
            record.trigger_messages(self.listening.namespace, self.listening.flow_id, self.listening.trigger.type,
                                    outcome, len(batch))  # fmt: skip

    def _receive(self, subscription: Subscription) -> list[Message]:
        trigger = self.listening.trigger
        if not trigger.batched:
            message = subscription.receive(RECEIVE_SECONDS)
            return [message] if message is not None else []
        limit = trigger.max_records or 100_000
        window = trigger.max_duration.total_seconds() if trigger.max_duration else None
        batch: list[Message] = []
        started = time.monotonic()
        while len(batch) < limit and not self.stop.is_set():
            left = None if window is None else window - (time.monotonic() - started)
            if left is not None and left <= 0:
                break
            message = subscription.receive(min(RECEIVE_SECONDS, left) if left is not None else RECEIVE_SECONDS)
            if message is not None:
                batch.append(message)
            elif window is None and batch:
                break  # maxRecords alone: a quiet broker hands over what came rather than waiting forever
        if self.stop.is_set() and batch:
            return []  # stopping: unacknowledged, the broker gives them to the next listener
        return batch

    def _is_backlogged(self) -> bool:
        """Whether ``max_queued`` executions of the flow wait to run. Counted in the database every
        BACKLOG_CHECK_SECONDS, and between two counts each start adds one: never more than the bound wait."""
        now = time.monotonic()
        if now - self._backlog_checked >= BACKLOG_CHECK_SECONDS or self._waiting >= self.listening.trigger.max_queued:
            self._backlog_checked = now
            with session_scope(self.db) as session:
                self._waiting = store.count_waiting(session, self.listening.namespace, self.listening.flow_id)
        return self._waiting >= self.listening.trigger.max_queued

    def _start(self, batch: list[Message]) -> str:
        """'started', 'duplicate' or 'refused' (the trigger's inputs did not render or were refused)."""
        listening, trigger = self.listening, self.listening.trigger
        key = fire_key(batch)
        execution_id = str(uuid.uuid4())
        details = {"type": trigger.type, "id": trigger.id}
        details |= trigger.details(batch, lambda records: self._keep(execution_id, records))
        try:
            with session_scope(self.db) as session:
                secret = secret_resolver(session, listening.namespace)
                inputs = render(trigger.inputs, {"trigger": details, "secret": secret})
                create_execution(
                    session, listening.namespace, listening.flow_id, inputs=inputs, trigger=details,
                    execution_id=execution_id, mask=secret.values_read,
                )  # fmt: skip
                trigger_store.add_trigger_fire(session, listening.namespace, listening.flow_id, trigger.id, key,
                                               execution_id)  # fmt: skip
        except IntegrityError:
            self._forget_kept(execution_id, details)
            self.health.duplicate(len(batch))
            return "duplicate"
        except (ExpressionError, InputsInvalid, store.ExecutionConflict) as exc:
            # Acknowledged all the same: the same message would be refused again, forever.
            self._forget_kept(execution_id, details)
            self._failed(f"a message did not start the flow: {exc}")
            return "refused"
        events.publish_event(self.r, execution_id)
        self._waiting += 1
        self.health.started(execution_id)
        return "started"

    def _forget_kept(self, execution_id: str, details: dict) -> None:
        """Delete what ``_keep`` stored for an execution that was not created (a duplicate, a refusal)."""
        if "uri" in details:
            open_storage().delete_execution(self.listening.namespace, self.listening.flow_id, execution_id)

    def _keep(self, execution_id: str, content: list[dict] | Path) -> str:
        """``content`` kept for the execution (its lanner:// address): records as a file of JSON lines, or a file
        as it is (a file trigger's arrival)."""
        listening = self.listening
        if isinstance(content, Path):
            address = Address(listening.namespace, listening.flow_id, execution_id, "trigger", 1, content.name)
            open_storage().put(address, content)
            return str(address)
        address = Address(listening.namespace, listening.flow_id, execution_id, "trigger", 1, BATCH_FILE)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / BATCH_FILE
            with path.open("w", encoding="utf-8") as out:
                for record_ in content:
                    out.write(json.dumps(record_, ensure_ascii=False, default=str) + "\n")
            open_storage().put(address, path)
        return str(address)


def _close_quietly(subscription: Subscription) -> None:
    try:
        subscription.close()
    except Exception:
        log.debug("closing a subscription failed", exc_info=True)
