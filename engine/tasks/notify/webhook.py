"""notify.webhook: a JSON payload sent to any URL (a chat tool, an incident system, a service of your own)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, model_validator

from engine.tasks.base import registry
from engine.tasks.context import RunContext, TaskFailed
from engine.tasks.notify.common import Notification, post

BODY_OUTPUT_CHARS = 64 * 1024  # of the answer, kept as the ``body`` output
CREDENTIAL_HEADERS = ("auth", "token", "key", "secret", "signature", "cookie")


class WebhookMethod(StrEnum):
    POST = "POST"
    PUT = "PUT"
    PATCH = "PATCH"


@registry.register
class NotifyWebhook(Notification):
    type: Literal["notify.webhook"]
    url: Annotated[str, Field(min_length=1)]
    """The address to send to; keep it in a secret when it holds a token."""
    method: WebhookMethod = WebhookMethod.POST
    """POST, PUT or PATCH."""
    headers: dict[str, str] = Field(default_factory=dict)
    """Extra request headers, e.g. Authorization: "Bearer {{ secret('HOOK_TOKEN') }}"."""
    payload: Any = None
    """The JSON to send (a mapping, a list, a text...). With summary, a mapping gains a summary key; without a
    payload, {text, summary} is sent."""
    text: str | None = None
    """With summary and no payload: a line sent as text next to the summary."""
    expected_status: list[Annotated[int, Field(ge=100, le=599)]] | None = None
    """Status codes that count as success; by default any 2xx."""

    title: ClassVar[str] = "Webhook"
    summary: ClassVar[str] = "Send a JSON message to any URL; fails on an unexpected status."
    icon: ClassVar[str] = "globe"
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {
            "url": "{{ secret('ALERTS_URL') }}",
            "headers": {"Authorization": "Bearer {{ secret('ALERTS_TOKEN') }}"},
            "payload": {"event": "sales_loaded", "rows": "{{ outputs.load.rows }}"},
        },
        {"url": "{{ secret('ALERTS_URL') }}", "summary": True},
    )
    output_fields: ClassVar[dict[str, str]] = {
        "status": "The HTTP status code the service answered.",
        "body": "The answer's body (its first 64 KB).",
    }

    @model_validator(mode="after")
    def _something_to_send(self) -> NotifyWebhook:
        if self.payload is None and not self.with_summary:
            raise ValueError("give a payload or summary: true")
        return self

    def run(self, ctx: RunContext) -> dict[str, Any]:
        payload = self.payload
        summary = self.execution_summary(ctx)
        if summary is not None:
            if payload is None:
                payload = {"text": self.text, "summary": summary} if self.text else {"summary": summary}
            elif isinstance(payload, dict):
                payload = {**payload, "summary": summary}
            else:
                raise TaskFailed("summary: true needs the payload to be a mapping (the summary is added as a key)")
        for name, value in self.headers.items():  # a header that carries a credential: masked like a secret
            if any(word in name.lower() for word in CREDENTIAL_HEADERS):
                ctx.secrets.add(value)
        response = post(
            ctx, None, self.url, payload, method=self.method.value, headers=self.headers, expected=self.expected_status
        )
        ctx.log("INFO", f"{self.method.value} sent to the webhook -> {response.status_code}")
        return {"status": response.status_code, "body": response.text[:BODY_OUTPUT_CHARS]}
