"""notify.teams (an Adaptive Card through a Teams incoming or Workflows webhook) and notify.discord (a webhook
message with embeds)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, model_validator

from engine.tasks.base import registry
from engine.tasks.context import RunContext
from engine.tasks.notify.common import Notification, failed, headline, post, summary_facts

DISCORD_CONTENT_CHARS = 2000  # Discord refuses a longer content
DISCORD_FIELD_CHARS = 1024  # ... and a longer embed field value
DISCORD_RED, DISCORD_GREEN = 0xE03E2F, 0x2EB67D


class CardColor(StrEnum):
    """Adaptive Card text colors (Teams picks the shade for its light or dark theme)."""

    DEFAULT = "Default"
    GOOD = "Good"
    WARNING = "Warning"
    ATTENTION = "Attention"
    ACCENT = "Accent"


@registry.register
class NotifyTeams(Notification):
    type: Literal["notify.teams"]
    url: Annotated[str, Field(min_length=1)]
    """The channel's webhook URL (a Workflows "post to a channel when a webhook request is received" URL, or an
    older incoming webhook); keep it in a secret."""
    heading: Annotated[str | None, Field(alias="title")] = None
    """The card's title, in bold."""
    text: str | None = None
    """The card's text; Markdown (**bold**, [link](url), lists) works."""
    facts: dict[str, Any] | None = None
    """Name -> value pairs shown as a table under the text, e.g. {Rows: "{{ outputs.load.rows }}"}."""
    theme_color: CardColor | None = None
    """Color of the title: Good (green), Warning, Attention (red), Accent; with summary, by the execution's state."""

    title: ClassVar[str] = "Teams message"
    summary: ClassVar[str] = "Post a card to a Microsoft Teams channel through its webhook."
    icon: ClassVar[str] = "send"
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {
            "url": "{{ secret('TEAMS_WEBHOOK') }}",
            "title": "Sales loaded",
            "text": "Yesterday's orders are in the warehouse.",
            "facts": {"Rows": "{{ outputs.load.rows }}"},
        },
        {"url": "{{ secret('TEAMS_WEBHOOK') }}", "summary": True},
    )
    output_fields: ClassVar[dict[str, str]] = {"status": "The HTTP status code the service answered."}

    @model_validator(mode="after")
    def _something_to_say(self) -> NotifyTeams:
        if not (self.heading or self.text or self.facts or self.with_summary):
            raise ValueError("give a title, text, facts or summary: true")
        return self

    def run(self, ctx: RunContext) -> dict[str, Any]:
        summary = self.execution_summary(ctx)
        title, color = self.heading, self.theme_color
        facts = {name: str(value) for name, value in (self.facts or {}).items()}
        body: list[dict[str, Any]] = []
        if summary is not None:
            title = title or headline(summary)
            color = color or (CardColor.ATTENTION if failed(summary) else CardColor.GOOD)
            facts.update(summary_facts(summary))
        if title:
            block = {"type": "TextBlock", "text": title, "weight": "Bolder", "size": "Medium", "wrap": True}
            body.append({**block, "color": color.value} if color else block)
        if self.text:
            body.append({"type": "TextBlock", "text": self.text, "wrap": True})
        if facts:
            body.append(
                {"type": "FactSet", "facts": [{"title": name, "value": value} for name, value in facts.items()]}
            )
        card: dict[str, Any] = {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": body,
            "msteams": {"width": "Full"},
        }
        link = summary["url"] if summary else (ctx.execution_summary or {}).get("url")
        if link:
            card["actions"] = [{"type": "Action.OpenUrl", "title": "Open the execution", "url": link}]
        payload = {
            "type": "message",
            "attachments": [
                {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
            ],
        }
        response = post(ctx, "Teams", self.url, payload)
        ctx.log("INFO", "card posted to Teams")
        return {"status": response.status_code}


@registry.register
class NotifyDiscord(Notification):
    type: Literal["notify.discord"]
    url: Annotated[str, Field(min_length=1)]
    """The channel's webhook URL (https://discord.com/api/webhooks/...); keep it in a secret."""
    content: str | None = None
    """The message (up to 2,000 characters); Discord's Markdown works."""
    username: str | None = None
    """Name shown as the sender instead of the webhook's."""
    avatar_url: str | None = None
    """Address of a picture shown as the sender's."""
    embeds: list[dict[str, Any]] | None = None
    """Discord embeds ({title, description, url, color, fields: [{name, value}]}), sent as they are."""

    title: ClassVar[str] = "Discord message"
    summary: ClassVar[str] = "Post a message to a Discord channel through its webhook."
    icon: ClassVar[str] = "send"
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {"url": "{{ secret('DISCORD_WEBHOOK') }}", "content": "Sales loaded: {{ outputs.load.rows }} rows"},
        {"url": "{{ secret('DISCORD_WEBHOOK') }}", "summary": True, "username": "Lanner"},
    )
    output_fields: ClassVar[dict[str, str]] = {"status": "The HTTP status code the service answered."}

    @model_validator(mode="after")
    def _something_to_say(self) -> NotifyDiscord:
        if not (self.content or self.embeds or self.with_summary):
            raise ValueError("give a content, embeds or summary: true")
        if self.content and len(self.content) > DISCORD_CONTENT_CHARS and "{{" not in self.content:
            raise ValueError(f"content is {len(self.content):,} characters; Discord takes {DISCORD_CONTENT_CHARS:,}")
        return self

    def run(self, ctx: RunContext) -> dict[str, Any]:
        content = self.content
        if content and len(content) > DISCORD_CONTENT_CHARS:  # rendered longer than Discord takes: cut, said so
            ctx.warn(f"content cut to {DISCORD_CONTENT_CHARS:,} characters (it had {len(content):,})")
            content = content[: DISCORD_CONTENT_CHARS - 1] + "…"
        embeds = list(self.embeds or [])
        summary = self.execution_summary(ctx)
        if summary is not None:
            embeds.append(_summary_embed(summary))
        payload = {"content": content, "username": self.username, "avatar_url": self.avatar_url, "embeds": embeds}
        payload = {key: value for key, value in payload.items() if value not in (None, [])}
        response = post(ctx, "Discord", self.url, payload)
        ctx.log("INFO", "message posted to Discord")
        return {"status": response.status_code}


def _summary_embed(summary: dict[str, Any]) -> dict[str, Any]:
    facts = summary_facts(summary)
    error = facts.pop("Error", None)
    fields = [{"name": name, "value": value[:DISCORD_FIELD_CHARS], "inline": True} for name, value in facts.items()]
    embed = {
        "title": headline(summary),
        "url": summary["url"],
        "color": DISCORD_RED if failed(summary) else DISCORD_GREEN,
        "fields": fields,
    }
    if error is not None:
        embed["description"] = error[:4000]  # Discord takes 4,096
    return embed
