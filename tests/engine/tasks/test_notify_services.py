"""notify.teams, notify.discord, notify.webhook and every task's ``summary: true``, against a real local HTTP
server recording what it receives (tests/support/webhooks.py)."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from engine.tasks import registry
from engine.tasks.context import TaskFailed
from tests.support.ports import free_port

SUMMARY = {
    "flow": "acme.sales",
    "namespace": "acme",
    "flowId": "sales",
    "executionId": "ex-42",
    "state": "FAILED",
    "failedTask": "load",
    "error": "duplicate key <order_id> & more; password tok-secret-9",
    "startDate": "2026-11-28T06:00:00+00:00",
    "duration": "1m5s",
    "seconds": 65.0,
    "url": "http://lanner.test/executions/ex-42",
}


@pytest.fixture
def summarized(context):
    """The context as a worker gives it inside an execution: with its summary, and a secret it has seen."""
    context.execution_summary = SUMMARY
    context.secrets.add("tok-secret-9")
    return context


def test_teams_posts_an_adaptive_card_in_the_message_envelope(run_task, webhook, context):
    context.execution_summary = SUMMARY  # the execution's link becomes the card's button
    outputs = run_task(
        "notify.teams",
        url=f"{webhook.url}/workflows/abc",
        title="Sales loaded",
        text="Yesterday's **orders** are in.",
        facts={"Rows": 1234, "Day": "2026-11-28"},
        themeColor="Good",
    )
    assert outputs == {"status": 200}
    (body,) = webhook.bodies
    assert body["type"] == "message"
    (attachment,) = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert card["body"] == [
        {
            "type": "TextBlock",
            "text": "Sales loaded",
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
            "color": "Good",
        },
        {"type": "TextBlock", "text": "Yesterday's **orders** are in.", "wrap": True},
        {"type": "FactSet", "facts": [{"title": "Rows", "value": "1234"}, {"title": "Day", "value": "2026-11-28"}]},
    ]
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "Open the execution", "url": SUMMARY["url"]}]


def test_teams_summary_builds_the_card_and_masks_secrets(run_task, webhook, summarized):
    run_task("notify.teams", url=f"{webhook.url}/hook", summary=True)
    card = webhook.bodies[0]["attachments"][0]["content"]
    title, facts = card["body"]
    assert title["text"] == "FAILED: acme.sales" and title["color"] == "Attention"
    assert {fact["title"]: fact["value"] for fact in facts["facts"]} == {
        "Flow": "acme.sales",
        "Execution": "ex-42",
        "State": "FAILED",
        "Failed task": "load",
        "Error": "duplicate key <order_id> & more; password ****",
        "Duration": "1m5s",
    }
    assert card["actions"][0]["url"] == "http://lanner.test/executions/ex-42"
    assert "tok-secret-9" not in webhook.requests[0]["raw"].decode()


def test_discord_posts_content_username_and_embeds(run_task, webhook):
    embeds = [{"title": "Sales", "description": "1,234 rows", "color": 3066993}]
    outputs = run_task(
        "notify.discord", url=f"{webhook.url}/api/webhooks/1/t", content="Loaded", username="Lanner", embeds=embeds
    )
    assert outputs == {"status": 200}
    assert webhook.bodies == [{"content": "Loaded", "username": "Lanner", "embeds": embeds}]
    # Discord answers 204 No Content unless asked to wait
    assert run_task("notify.discord", url=f"{webhook.url}/status/204", content="x") == {"status": 204}
    with pytest.raises(ValidationError, match="Discord takes 2,000"):
        run_task("notify.discord", url=f"{webhook.url}/x", content="x" * 2001)


def test_discord_summary_is_an_embed_under_the_content(run_task, webhook, summarized):
    run_task("notify.discord", url=f"{webhook.url}/api/webhooks/1/t", content="Nightly load", summary=True)
    (body,) = webhook.bodies
    assert body["content"] == "Nightly load"
    (embed,) = body["embeds"]
    assert embed["title"] == "FAILED: acme.sales" and embed["url"] == SUMMARY["url"]
    assert embed["color"] == 0xE03E2F
    assert embed["description"] == "duplicate key <order_id> & more; password ****"
    assert {field["name"]: field["value"] for field in embed["fields"]}["Failed task"] == "load"


def test_webhook_sends_the_payload_with_method_and_headers(run_task, webhook, context):
    outputs = run_task(
        "notify.webhook",
        url=f"{webhook.url}/alerts",
        method="PUT",
        headers={"Authorization": "Bearer tok-header-77", "X-Source": "lanner"},
        payload={"event": "sales_loaded", "rows": 1234},
    )
    assert outputs == {"status": 200, "body": "ok"}
    (request,) = webhook.requests
    assert request["method"] == "PUT" and request["path"] == "/alerts"
    assert request["headers"]["Authorization"] == "Bearer tok-header-77"
    assert request["headers"]["X-Source"] == "lanner"
    assert request["json"] == {"event": "sales_loaded", "rows": 1234}
    # a credential header is masked in what the run logs; others are not
    assert context.mask("sent Bearer tok-header-77 from lanner") == "sent **** from lanner"


def test_webhook_summary_and_expected_status(run_task, webhook, summarized):
    run_task("notify.webhook", url=f"{webhook.url}/a", summary=True, text="Nightly load")
    run_task("notify.webhook", url=f"{webhook.url}/b", summary=True, payload={"channel": "ops"})
    masked = {**SUMMARY, "error": "duplicate key <order_id> & more; password ****"}
    assert webhook.bodies == [{"text": "Nightly load", "summary": masked}, {"channel": "ops", "summary": masked}]
    with pytest.raises(TaskFailed, match="needs the payload to be a mapping"):
        run_task("notify.webhook", url=f"{webhook.url}/c", summary=True, payload=["a"])
    # 202 only counts as success; 200 is then a failure, with its status
    assert (
        run_task("notify.webhook", url=f"{webhook.url}/status/202", payload={}, expectedStatus=[202])["status"] == 202
    )
    with pytest.raises(TaskFailed) as failed:
        run_task("notify.webhook", url=f"{webhook.url}/d", payload={}, expectedStatus=[202])
    assert str(failed.value) == "the webhook answered 200: ok" and failed.value.outputs == {"status": 200}
    with pytest.raises(ValidationError, match="give a payload or summary: true"):
        run_task("notify.webhook", url=f"{webhook.url}/e")


@pytest.mark.parametrize(
    ("type_name", "service", "message"),
    [
        ("notify.teams", "Teams", {"text": "hi"}),
        ("notify.discord", "Discord", {"content": "hi"}),
        ("notify.webhook", None, {"payload": {"a": 1}}),
    ],
)
def test_refusals_and_unreachable_hooks_never_show_the_url(run_task, webhook, type_name, service, message):
    with pytest.raises(TaskFailed) as failed:
        run_task(type_name, url=f"{webhook.url}/s3cr3t/status/403", **message)
    who = service or "the webhook"
    assert str(failed.value) == f"{who} answered 403: refused 403" and failed.value.outputs == {"status": 403}
    with pytest.raises(TaskFailed) as failed:
        run_task(type_name, url=f"http://127.0.0.1:{free_port()}/hooks/s3cr3t", **message)
    where = f"the {service} webhook" if service else "the webhook"
    assert re.match(f"{where} could not be reached: ConnectError", str(failed.value))
    assert "s3cr3t" not in str(failed.value)


def test_slack_and_email_summaries(run_task, webhook, smtp, summarized):
    run_task("notify.slack", url=f"{webhook.url}/hook", text="Nightly load", summary=True)
    assert webhook.bodies[0]["text"] == (
        "Nightly load\n"
        ":x: *<http://lanner.test/executions/ex-42|FAILED: acme.sales>*\n"
        "Task `load` failed: duplicate key &lt;order_id&gt; &amp; more; password ****\n"
        "Execution ex-42 · 1m5s"
    )
    header = {"type": "header", "text": {"type": "plain_text", "text": "Nightly"}}
    run_task("notify.slack", url=f"{webhook.url}/hook", blocks=[header], summary=True)  # Slack shows blocks, not text
    blocks = webhook.bodies[1]["blocks"]
    assert blocks[0] == header and blocks[1]["text"]["text"] == webhook.bodies[1]["text"]
    assert webhook.bodies[1]["text"].startswith(":x: *<http://lanner.test/executions/ex-42|FAILED: acme.sales>*")
    run_task(
        "notify.email", host="127.0.0.1", port=smtp.port, to=["ops@acme.test"], summary=True, **{"from": "r@acme.test"}
    )
    message = smtp.messages[0]["message"]
    assert message["Subject"] == "FAILED: acme.sales"
    assert message.get_content() == (
        "FAILED: acme.sales\nExecution: ex-42\nFailed task: load\n"
        "Error: duplicate key <order_id> & more; password ****\nDuration: 1m5s\n"
        "Open: http://lanner.test/executions/ex-42\n"
    )


def test_summary_outside_an_execution_fails_clearly(run_task, webhook):
    with pytest.raises(TaskFailed, match="summary: true needs the task to run in an execution"):
        run_task("notify.slack", url=f"{webhook.url}/hook", summary=True)
    assert not webhook.requests


def test_new_types_are_in_the_palette_with_examples():
    for name, title in (
        ("notify.teams", "Teams message"),
        ("notify.discord", "Discord message"),
        ("notify.webhook", "Webhook"),
    ):
        schema = registry.json_schema(name)
        assert schema["x-lanner"]["title"] == title and schema["x-lanner"]["group"] == "Notifications"
        assert schema["examples"] and all(example["type"] == name for example in schema["examples"])
        assert "summary" in schema["properties"] and schema["properties"]["summary"]["description"]
        for example in schema["examples"]:  # every example is a valid task
            registry.get(name).model_validate(example)
    assert registry.json_schema("notify.teams")["properties"]["title"]["description"] == "The card's title, in bold."
