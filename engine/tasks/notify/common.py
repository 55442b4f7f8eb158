"""What every notification task shares: the ``summary`` property and its texts, and one way to post to a webhook.

A webhook URL is a credential (whoever has it can post): it is added to the run's secrets, so it is masked in
whatever the run logs or stores, and no message names it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from engine.tasks.base import Group, Task
from engine.tasks.context import RunContext, TaskFailed

RESPONSE_CHARS = 500  # of a refusal's body, in the task's error


class Notification(Task):
    """A notification task: may send the execution's summary (``summary: true``, for ``errors`` handlers)."""

    with_summary: bool = Field(default=False, alias="summary")
    """Send the execution's summary (flow, execution, state, the failed task and its error, duration, a link to
    the execution), ready for an errors handler; a text given is put above it."""

    group: ClassVar[Group] = Group.NOTIFICATIONS

    def execution_summary(self, ctx: RunContext) -> dict[str, Any] | None:
        """The summary to send (masked), None without ``summary: true``; fails where no execution gives one."""
        if not self.with_summary:
            return None
        if ctx.execution_summary is None:
            raise TaskFailed("summary: true needs the task to run in an execution (none gives this run a summary)")
        return ctx.mask_value(ctx.execution_summary)


def headline(summary: dict[str, Any]) -> str:
    """E.g. ``FAILED: acme.sales`` — the summary's first line."""
    return f"{summary['state']}: {summary['flow']}"


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """The summary as plain lines (an email, a generic text), link last."""
    lines = [headline(summary), f"Execution: {summary['executionId']}"]
    if summary.get("failedTask"):
        lines.append(f"Failed task: {summary['failedTask']}")
        lines.append(f"Error: {summary['error'] or '(no message)'}")
    lines += [f"Duration: {summary['duration']}", f"Open: {summary['url']}"]
    return lines


def summary_facts(summary: dict[str, Any]) -> dict[str, str]:
    """The summary as name -> value pairs (Teams facts, Discord embed fields), without the link and the headline."""
    facts = {"Flow": summary["flow"], "Execution": summary["executionId"], "State": summary["state"]}
    if summary.get("failedTask"):
        facts["Failed task"] = summary["failedTask"]
        facts["Error"] = summary["error"] or "(no message)"
    facts["Duration"] = summary["duration"]
    return facts


def failed(summary: dict[str, Any]) -> bool:
    return summary["state"] in ("FAILED", "KILLED")


def post(
    ctx: RunContext,
    service: str | None,
    url: str,
    payload: Any,
    *,
    method: str = "POST",
    headers: dict[str, str] | None = None,
    expected: list[int] | None = None,
) -> Any:
    """Send ``payload`` as JSON to ``url``; the response, or ``TaskFailed`` naming ``service`` (Slack, Teams...;
    None: a webhook) and the status (outputs ``status``), never the URL."""
    import httpx

    ctx.secrets.add(url)  # masked in whatever this run logs or stores
    try:
        response = httpx.request(method, url, json=payload, headers=headers, timeout=ctx.remaining() or 30.0)
    except httpx.HTTPError as exc:
        problem = str(exc).replace(url, "****")
        where = f"the {service} webhook" if service else "the webhook"
        raise TaskFailed(f"{where} could not be reached: {type(exc).__name__}: {problem}") from None
    ok = response.status_code in expected if expected else response.is_success
    if not ok:
        answer = response.text[:RESPONSE_CHARS].replace(url, "****")
        who = service or "the webhook"
        raise TaskFailed(f"{who} answered {response.status_code}: {answer}", {"status": response.status_code})
    return response
