"""notify.slack: a message posted through a Slack incoming webhook."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, model_validator

from engine.tasks.base import registry
from engine.tasks.context import RunContext
from engine.tasks.notify.common import Notification, failed, headline, post


@registry.register
class NotifySlack(Notification):
    type: Literal["notify.slack"]
    url: Annotated[str, Field(min_length=1)]
    """The channel's incoming webhook URL (https://hooks.slack.com/...); keep it in a secret."""
    text: str | None = None
    """The message; Slack formatting (*bold*, <url|link>) works. With blocks, the text shown in notifications."""
    blocks: list[dict[str, Any]] | None = None
    """Slack Block Kit blocks (a list of {type: section, text: {...}}...), sent as they are."""
    channel: str | None = None
    """Post to this channel instead of the webhook's own, e.g. #sales (older webhooks only)."""
    username: str | None = None
    """Name shown as the sender (older webhooks only)."""
    icon_emoji: str | None = None
    """Emoji shown as the sender's picture, e.g. :robot_face: (older webhooks only)."""

    title: ClassVar[str] = "Slack message"
    summary: ClassVar[str] = "Post a message to a Slack channel through an incoming webhook."
    icon: ClassVar[str] = "send"
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {"url": "{{ secret('SLACK_WEBHOOK') }}", "text": "Sales loaded: {{ outputs.load.rows }} rows"},
        {"url": "{{ secret('SLACK_WEBHOOK') }}", "summary": True},
    )
    output_fields: ClassVar[dict[str, str]] = {"status": "The HTTP status code the service answered."}

    @model_validator(mode="after")
    def _something_to_say(self) -> NotifySlack:
        if not (self.text or self.blocks or self.with_summary):
            raise ValueError("give a text, blocks or summary: true")
        return self

    def run(self, ctx: RunContext) -> dict[str, Any]:
        text, blocks = self.text, self.blocks
        summary = self.execution_summary(ctx)
        if summary is not None:
            lines = _summary_text(summary)
            text = f"{text}\n{lines}" if text else lines
            if blocks:  # Slack shows the blocks, not the text: the summary goes in a block of its own
                blocks = [*blocks, {"type": "section", "text": {"type": "mrkdwn", "text": lines}}]
        payload = {
            "text": text,
            "blocks": blocks,
            "channel": self.channel,
            "username": self.username,
            "icon_emoji": self.icon_emoji,
        }
        payload = {key: value for key, value in payload.items() if value is not None}
        response = post(ctx, "Slack", self.url, payload)
        ctx.log("INFO", f"message posted to Slack{f' in {self.channel}' if self.channel else ''}")
        return {"status": response.status_code}


def _summary_text(summary: dict[str, Any]) -> str:
    """The summary in Slack's formatting (mrkdwn): headline linked to the execution, the failure, the duration."""
    mark = ":x:" if failed(summary) else ":white_check_mark:"
    lines = [f"{mark} *<{summary['url']}|{_escape(headline(summary))}>*"]
    if summary.get("failedTask"):
        lines.append(f"Task `{summary['failedTask']}` failed: {_escape(summary['error'] or '(no message)')}")
    lines.append(f"Execution {summary['executionId']} · {summary['duration']}")
    return "\n".join(lines)


def _escape(text: str) -> str:
    """Text as Slack shows it literally (&, <, > are its control characters)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
