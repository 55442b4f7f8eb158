"""``http.trigger``: call a URL every ``interval``; start the flow when a condition on the answer holds.

With ``onChange``, an answer is only started for once: its fingerprint is the fire's key, so the same answer seen
again (the condition still holding) starts nothing new until the answer changes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from engine.core.durations import Duration
from engine.core.expressions import ExpressionError, render_text
from engine.flows.triggers import PollingTrigger, trigger_types
from engine.messaging.base import BrokerUnavailable, Message, Poller
from engine.tasks.http import HttpMethod

MAX_BODY = 1_000_000  # bytes of an answer kept for the condition and trigger.body


class Answer(Message):
    """An answer the condition accepted, as the started execution reads it (trigger.code, headers, body, json)."""

    def as_output(self) -> dict[str, Any]:
        return dict(self.properties)


def _answer_of(response: Any) -> dict[str, Any]:
    text = response.content[:MAX_BODY].decode(response.encoding or "utf-8", errors="replace")
    try:
        body_json = json.loads(text) if "json" in response.headers.get("content-type", "") else None
    except ValueError:
        body_json = None
    return {"code": response.status_code, "headers": dict(response.headers), "body": text, "json": body_json}


class HttpPoll(Poller):
    def __init__(self, trigger: HttpTrigger) -> None:
        import httpx

        super().__init__(trigger.interval.total_seconds())
        self.trigger = trigger
        self._last: str | None = None  # the answer last started for (onChange: the same one again is skipped here)
        self.client = httpx.Client(timeout=trigger.timeout.total_seconds(), follow_redirects=True)

    def poll(self) -> Message | None:
        import httpx

        trigger = self.trigger
        try:
            response = self.client.request(trigger.method.value, trigger.uri, headers=trigger.headers,
                                           content=trigger.body)  # fmt: skip
        except httpx.HTTPError as exc:
            raise BrokerUnavailable(f"{trigger.where()} failed: {type(exc).__name__}: {exc}") from None
        answer = _answer_of(response)
        try:
            holds = render_text(trigger.condition, {"response": answer})
        except ExpressionError as exc:
            raise BrokerUnavailable(f"the condition could not be checked: {exc}") from None
        if not holds or (isinstance(holds, str) and holds.strip().lower() in ("false", "0", "")):
            return None
        fingerprint = hashlib.sha256(json.dumps([answer["code"], answer["body"]]).encode()).hexdigest()
        if trigger.on_change and fingerprint == self._last:
            return None
        return Answer(
            body=b"",
            topic=trigger.uri,
            message_id=f"answer:{fingerprint}" if trigger.on_change else None,
            properties=answer,
        )

    def ack(self, message: Message) -> None:
        self._last = (message.message_id or "").removeprefix("answer:") or None

    def close(self) -> None:
        self.client.close()


@trigger_types.register
class HttpTrigger(PollingTrigger):
    """Start the flow when a URL's answer meets a condition (checked every interval)."""

    type: Literal["http.trigger"]
    uri: Annotated[str, Field(min_length=1)]
    """The address to call, e.g. https://api.example.com/export/status."""
    method: HttpMethod = HttpMethod.GET
    """GET reads, POST sends..."""
    headers: dict[str, str] = Field(default_factory=dict)
    """Extra request headers, e.g. Authorization: Bearer {{ secret('API_TOKEN') }}."""
    body: str | None = None
    """Raw text to send with the request."""
    condition: str = "{{ response.code >= 200 and response.code < 300 }}"
    """When to start, an expression on the answer (response.code, headers, body, json), e.g.
    {{ response.json.status == 'ready' }}; by default any 2xx answer."""
    on_change: bool = False
    """Start once per distinct answer: the same answer seen again starts nothing until it changes."""
    timeout: Duration = dt.timedelta(seconds=30)
    """How long to wait for the answer."""

    rendered_later: ClassVar[frozenset[str]] = frozenset({"inputs", "condition"})

    def subscribe(self, name: str, consumer: str, namespace: str) -> HttpPoll:
        return HttpPoll(self)

    def where(self) -> str:
        return f"{self.method.value} {self.uri}"
