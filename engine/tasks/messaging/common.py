"""What every broker's publish and consume tasks share: the body a publish task sends, a consume task's bounds and
output, and ``consume``, the one loop that takes messages from a ``Subscription`` into outputs or a stored file.

Consuming acknowledges nothing until the messages are kept: inline, when the task hands its outputs back (the
worker saves them next); with ``output: file``, once the file is stored. A task killed, timed out or crashed before
that leaves every message it received unacknowledged, and the broker delivers them again (to the next run, or to
another consumer): at least once, never lost, possibly twice.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import tempfile
import time
from contextlib import suppress
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import Field, model_validator

from engine.config import load_settings
from engine.core.durations import Duration
from engine.flows.spec import Computed
from engine.messaging.base import Message, Subscription, body_bytes, decode_base64
from engine.tasks.base import Group, Task
from engine.tasks.context import RunContext, TaskFailed, output_size
from engine.tasks.files_io import StoredName

#: Longest wait for one message between two checks that the task may go on (kill, timeout).
POLL_SECONDS = 0.5
#: Room left in the ``messages`` output for the rest of the outputs' JSON.
OUTPUT_MARGIN = 1024
#: Most messages an inline consume without maxRecords holds unacknowledged (its outputs hold ~1 MB anyway).
INLINE_UNACKED = 10_000


class ConsumeOutput(StrEnum):
    INLINE = "inline"
    FILE = "file"

    @classmethod
    def _missing_(cls, value: object) -> ConsumeOutput | None:
        return cls._value2member_map_.get(value.strip().lower()) if isinstance(value, str) else None  # type: ignore[return-value]


@dataclass(frozen=True)
class Bounds:
    """When a consume ends: after ``max_records`` messages, after ``max_duration`` seconds, whichever comes first
    (at least one is given)."""

    max_records: int | None = None
    max_duration: float | None = None

    def __post_init__(self) -> None:
        if self.max_records is None and self.max_duration is None:
            raise ValueError("give maxRecords, maxDuration or both: a consume task must end")


def consume(
    subscription: Subscription,
    bounds: Bounds,
    ctx: RunContext,
    *,
    output: ConsumeOutput = ConsumeOutput.INLINE,
    file_name: str = "messages.ndjson",
) -> dict[str, Any]:
    """Take messages from ``subscription`` until ``bounds`` is reached, keep them, then acknowledge them.

    Returns the outputs: ``count`` and ``messages`` (each ``Message.as_output()``) inline, or ``count`` and ``uri``
    (a stored file, one JSON message a line) with ``output=FILE``. Inline outputs hold at most
    LANNER_MAX_OUTPUT_BYTES: the message that would go past it is handed back (``nack``) and the task ends in
    WARNING with what it has. The caller closes the subscription: whatever was received and not acknowledged
    (the task killed or timed out, the file not stored) is delivered again."""
    started = time.monotonic()
    handle, temporary = tempfile.mkstemp(prefix=".lanner-messages-", suffix=".ndjson", dir=ctx.workdir)
    local = Path(temporary)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as lines:
            to_file = lines if output == ConsumeOutput.FILE else None
            received, shown = _receive(subscription, bounds, ctx, started, to_file)
        if output == ConsumeOutput.FILE:
            outputs: dict[str, Any] = {"uri": ctx.store_file(local, file_name), "count": len(received)}
        else:
            outputs = {"messages": shown, "count": len(received)}
    finally:
        local.unlink(missing_ok=True)
    for message in received:  # kept: only now may the broker forget them
        subscription.ack(message)
    where = f" -> {outputs['uri']}" if "uri" in outputs else ""
    ctx.log("INFO", f"{len(received):,} messages in {time.monotonic() - started:.1f}s{where}, acknowledged")
    return outputs


def _receive(
    subscription: Subscription, bounds: Bounds, ctx: RunContext, started: float, lines: Any
) -> tuple[list[Message], list[dict[str, Any]]]:
    """The messages received within ``bounds``, kept without their bodies (acknowledging needs only the receipt),
    and, when there is no file to write them to as they come (``lines``), each one as the inline outputs show it."""
    received: list[Message] = []
    shown: list[dict[str, Any]] = []
    inline_bytes, limit = 0, load_settings().max_output_bytes - OUTPUT_MARGIN
    while bounds.max_records is None or len(received) < bounds.max_records:
        ctx.check()
        wait = POLL_SECONDS
        if bounds.max_duration is not None:
            left = bounds.max_duration - (time.monotonic() - started)
            if left <= 0:
                break
            wait = min(wait, left)
        message = subscription.receive(wait)
        if message is None:
            continue
        as_output = message.as_output()
        if lines is not None:
            lines.write(json.dumps(as_output, ensure_ascii=False, separators=(",", ":")) + "\n")
            received.append(dataclasses.replace(message, body=b""))
            continue
        size = output_size(as_output) + 1
        if inline_bytes + size > limit:
            subscription.nack(message)
            if not received:
                raise TaskFailed(
                    f"a message from {message.topic} is {size:,} bytes, more than the outputs hold "
                    f"(LANNER_MAX_OUTPUT_BYTES): use output: file"
                )
            ctx.warn(
                f"stopped after {len(received):,} messages: more would not fit in the outputs "
                f"(LANNER_MAX_OUTPUT_BYTES); the rest stay on the broker (use output: file for more)"
            )
            break
        inline_bytes += size
        received.append(dataclasses.replace(message, body=b""))
        shown.append(as_output)
    return received, shown


class PublishTask(Task):
    """A task that sends one message: its body as text, as JSON, or as base64-encoded bytes."""

    body: Any = None
    """What to send: text as is, any other value (a mapping, a list, a number) as JSON; give body or bodyBase64
    (neither: an empty message)."""
    body_base64: str | None = None
    """Binary content to send, base64-encoded (e.g. 3q2+7w== for the bytes DE AD BE EF); give body or
    bodyBase64."""

    group: ClassVar[Group] = Group.MESSAGING
    icon: ClassVar[str] = "send"

    @model_validator(mode="after")
    def _one_body(self) -> PublishTask:
        if self.body is not None and self.body_base64 is not None:
            raise ValueError("give body or bodyBase64, not both")
        return self

    def payload(self) -> bytes:
        """The bytes to send."""
        if self.body_base64 is not None:
            return decode_base64(self.body_base64)
        return b"" if self.body is None else body_bytes(self.body)

    def default_content_type(self) -> str | None:
        """What the body is, when the task is not told: JSON for a structured value, text for text."""
        if self.body_base64 is not None or self.body is None:
            return None
        return "text/plain; charset=utf-8" if isinstance(self.body, str) else "application/json"


class ConsumeTask(Task):
    """A task that takes messages until a bound is reached, into its outputs or a stored file, and acknowledges
    them only once they are kept."""

    max_records: Computed[Annotated[int, Field(ge=1)]] | None = None
    """Stop after this many messages; give maxRecords, maxDuration or both (whichever comes first ends it)."""
    max_duration: Computed[Duration] | None = None
    """Stop after this long (e.g. 30s, 5m), with whatever arrived; give maxRecords, maxDuration or both."""
    output: Computed[ConsumeOutput] = ConsumeOutput.INLINE
    """inline: the messages in output 'messages' (up to LANNER_MAX_OUTPUT_BYTES in all; the task ends in WARNING
    and leaves the rest on the broker past that); file: all of them in a stored file, one JSON message a line
    ('uri')."""
    file_name: StoredName = "messages.ndjson"
    """With output file: the stored file's name."""

    group: ClassVar[Group] = Group.MESSAGING
    icon: ClassVar[str] = "inbox"
    output_fields: ClassVar[dict[str, str]] = {
        "count": "How many messages were taken (and acknowledged).",
        "messages": "With output inline: the messages, each with body (text), json (the body parsed when it is "
        "JSON), bodyBase64 (when the body is not text), topic, headers, messageId, deliveryCount, timestamp and "
        "properties.",
        "uri": "With output file: the lanner:// address of the stored file, one message a line as above.",
    }

    @model_validator(mode="after")
    def _bounded(self) -> ConsumeTask:
        if self.max_records is None and self.max_duration is None:
            raise ValueError("give maxRecords, maxDuration or both: a consume task must end")
        return self

    def bounds(self) -> Bounds:
        duration = self.max_duration.total_seconds() if self.max_duration is not None else None
        return Bounds(self.max_records, duration)

    def unacked_limit(self) -> int | None:
        """How many messages this consume may hold unacknowledged at once (a broker's prefetch or receive
        maximum), None for no limit: it acknowledges only at the end, so a lower limit would stall it."""
        if self.max_records is not None:
            return self.max_records
        return INLINE_UNACKED if self.output == ConsumeOutput.INLINE else None

    def consume_from(self, subscription: Subscription, ctx: RunContext) -> dict[str, Any]:
        """``consume`` with this task's bounds and output, then close the subscription (what was not acknowledged
        is delivered again). A close that fails after a good consume fails the task: some brokers make the
        acknowledgements certain only then (Kafka's final commit)."""
        try:
            outputs = consume(subscription, self.bounds(), ctx, output=self.output, file_name=self.file_name)
        except BaseException:
            with suppress(Exception):  # the error that stopped the consume is the one to tell
                subscription.close()
            raise
        subscription.close()
        return outputs


def consumer_name(ctx: RunContext) -> str:
    """lanner-<namespace>-<flow>-<task>: a consumer's name at the broker (an MQTT client id, a Kafka consumer
    group) that stays the same run after run, so each run takes up where the last one stopped, and differs
    between tasks."""
    return re.sub(r"[^A-Za-z0-9_.-]", "-", f"lanner-{ctx.namespace}-{ctx.flow_id}-{ctx.task_id}")
