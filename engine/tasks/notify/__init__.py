"""Notification tasks: Slack, Microsoft Teams, Discord, any webhook, email; each may send the execution's summary
(``summary: true``) from an ``errors`` handler."""

from engine.tasks.notify import chat, email, slack, webhook  # noqa: F401 - importing registers them
