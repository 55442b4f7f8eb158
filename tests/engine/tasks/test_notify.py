"""notify.slack against a real local HTTP server, notify.email against a real (tiny) SMTP server."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from engine.core.states import State
from engine.tasks import registry
from engine.tasks.context import TaskFailed
from tests.support.ids import unique
from tests.support.ports import free_port


def test_slack_posts_the_message_as_json(run_task, webhook):
    outputs = run_task(
        "notify.slack",
        url=f"{webhook.url}/services/T1/B2/x",
        text="Sales loaded",
        channel="#sales",
        iconEmoji=":robot_face:",
    )
    assert outputs == {"status": 200}
    (request,) = webhook.requests
    assert request["method"] == "POST" and request["path"] == "/services/T1/B2/x"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["json"] == {"text": "Sales loaded", "channel": "#sales", "icon_emoji": ":robot_face:"}


def test_slack_blocks_are_sent_as_they_are(run_task, webhook):
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "Sales"}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "*Rows*\n1,234"}]},
    ]
    run_task("notify.slack", url=f"{webhook.url}/hook", blocks=blocks)
    assert webhook.bodies == [{"blocks": blocks}]
    with pytest.raises(ValidationError, match="give a text, blocks or summary: true"):
        run_task("notify.slack", url=f"{webhook.url}/hook")


def test_slack_error_answer_fails_with_status_and_body(run_task, webhook):
    with pytest.raises(TaskFailed) as failed:
        run_task("notify.slack", url=f"{webhook.url}/status/500", text="hi")
    assert str(failed.value) == "Slack answered 500: refused 500"
    assert failed.value.outputs == {"status": 500}


def test_slack_unreachable_does_not_show_the_webhook_url(run_task, context):
    url = f"http://127.0.0.1:{free_port()}/services/T1/B2/s3cr3t"
    with pytest.raises(TaskFailed) as failed:
        run_task("notify.slack", url=url, text="hi")
    assert str(failed.value).startswith("the Slack webhook could not be reached: ConnectError")
    assert "s3cr3t" not in str(failed.value)
    assert context.mask(f"posting to {url}") == "posting to ****"  # the URL is masked in what the run logs


def test_email_arrives_with_subject_recipients_and_both_bodies(run_task, smtp, context):
    outputs = run_task(
        "notify.email",
        host="127.0.0.1",
        port=smtp.port,
        startTls=False,
        username="reports",
        password="right",
        **{"from": "Acme reports <reports@acme.test>"},
        to=["ana@acme.test", "bob@acme.test"],
        cc=["boss@acme.test"],
        subject="Daily sales: 1,234 EUR",
        body="Hello,\n.\nSales are loaded.",
        html="<p>Sales are <b>loaded</b>.</p>",
    )
    assert outputs == {"recipients": 3}
    assert smtp.logins == [("reports", "right")]
    (received,) = smtp.messages
    assert received["from"] == "reports@acme.test"
    assert received["to"] == ["ana@acme.test", "bob@acme.test", "boss@acme.test"]
    message = received["message"]
    assert message["Subject"] == "Daily sales: 1,234 EUR"
    assert message["To"] == "ana@acme.test, bob@acme.test" and message["Cc"] == "boss@acme.test"
    assert message.get_body(("plain",)).get_content() == "Hello,\n.\nSales are loaded.\n"
    assert message.get_body(("html",)).get_content().strip() == "<p>Sales are <b>loaded</b>.</p>"
    assert context.records[-1].message == "email 'Daily sales: 1,234 EUR' sent to 3 recipient(s)"


def test_email_refusals_fail_or_warn_with_the_server_answer(run_task, smtp, context):
    common = {"host": "127.0.0.1", "port": smtp.port, "from": "reports@acme.test", "subject": "s", "body": "b"}
    with pytest.raises(TaskFailed) as failed:
        run_task("notify.email", **common, to=["ana@acme.test"], username="reports", password="wrong")
    assert str(failed.value) == f"127.0.0.1:{smtp.port} refused the sign-in of reports: 535 5.7.8 bad credentials"
    with pytest.raises(TaskFailed, match=re.escape("refused every recipient: nobody@acme.test")):
        run_task("notify.email", **common, to=["nobody@acme.test"])
    assert not smtp.messages

    partly = run_task("notify.email", **common, to=["ana@acme.test", "nobody@acme.test"])
    assert partly == {"recipients": 1} and context.warned
    assert smtp.messages[0]["to"] == ["ana@acme.test"]


def test_email_unreachable_server_and_invalid_settings(run_task):
    port = free_port()
    with pytest.raises(
        TaskFailed, match=re.escape(f"sending the email through 127.0.0.1:{port} failed: ConnectionRefusedError")
    ):
        run_task(
            "notify.email", host="127.0.0.1", port=port, to=["a@b.test"], subject="s", body="b", **{"from": "r@b.test"}
        )
    with pytest.raises(TaskFailed, match="cannot be built"):
        run_task(
            "notify.email",
            host="127.0.0.1",
            port=port,
            to=["a@b.test"],
            subject="s\nBcc: eve@evil.test",
            body="b",
            **{"from": "r@b.test"},
        )
    with pytest.raises(ValidationError, match="give ssl or startTls, not both"):
        run_task(
            "notify.email", host="h", ssl=True, startTls=True, to=["a@b.test"], subject="s", body="b", **{"from": "r@b"}
        )


def _mail(smtp, **properties):
    return {"host": "127.0.0.1", "port": smtp.port, "from": "r@acme.test", "to": ["ana@acme.test"], **properties}


def test_email_attachments_arrive_with_their_names_types_and_bytes(run_task, smtp, context, tmp_path):
    csv = tmp_path / "orders.csv"
    csv.write_bytes(b"id,total\r\n1,12.50\r\n2,\xc3\xa9t\xc3\xa9\r\n")
    blob = tmp_path / "blob"
    blob.write_bytes(bytes(range(256)) * 40)
    addresses = [context.store_file(csv, "orders.csv"), context.store_file(blob, "out/sales.parquet.gz")]
    outputs = run_task("notify.email", **_mail(smtp, subject="Sales", body="Attached.", attachments=addresses))
    assert outputs == {"recipients": 1}
    message = smtp.messages[0]["message"]
    assert message.get_body(("plain",)).get_content() == "Attached.\n"
    parts = list(message.iter_attachments())
    assert [(p.get_filename(), p.get_content_type()) for p in parts] == [
        ("orders.csv", "text/csv"),
        ("sales.parquet.gz", "application/octet-stream"),
    ]
    assert [p.get_payload(decode=True) for p in parts] == [csv.read_bytes(), blob.read_bytes()]
    assert context.records[-1].message == "email 'Sales' sent to 1 recipient(s) with 2 attachment(s)"


def test_email_attachments_too_big_missing_or_foreign_fail_clearly(run_task, smtp, context, tmp_path, monkeypatch):
    from engine.tasks.notify import email

    big = tmp_path / "big.csv"
    big.write_bytes(b"x" * 3000)
    small = tmp_path / "small.csv"
    small.write_bytes(b"y" * 1000)
    first, second = context.store_file(small, "small.csv"), context.store_file(big, "big.csv")
    monkeypatch.setattr(email, "MAX_ATTACHMENT_BYTES", 3500)
    with pytest.raises(TaskFailed) as failed:  # 1,000 + 3,000 bytes: the second passes the cap, before it is fetched
        run_task("notify.email", **_mail(smtp, subject="s", body="b", attachments=[first, second]))
    assert str(failed.value) == (
        f"attachment {second} would make the attachments more than 3,500 bytes in all, more than mail servers take: "
        "send a link, or a smaller (compressed) file"
    )
    missing = "lanner://acme/flow/execution/task/1/gone.csv"
    with pytest.raises(TaskFailed, match=re.escape(f"{missing} does not exist")):
        run_task("notify.email", **_mail(smtp, subject="s", body="b", attachments=[missing]))
    with pytest.raises(TaskFailed, match="reads only its own namespace's files"):
        run_task("notify.email", **_mail(smtp, subject="s", body="b", attachments=[missing.replace("acme", "other")]))
    assert not smtp.messages


def test_schemas_mark_code_fields():
    properties = {name: registry.json_schema(name)["properties"] for name in ("sql.query", "notify.email", "python")}
    assert properties["sql.query"]["sql"]["x-lanner-code"] == "sql"
    assert properties["notify.email"]["body"]["x-lanner-code"] == "text"
    assert properties["notify.email"]["html"]["x-lanner-code"] == "html"
    assert properties["python"]["script"]["x-lanner-code"] == "python"
    assert registry.json_schema("notify.slack")["x-lanner"]["group"] == "Notifications"
    assert registry.json_schema("sql.query")["x-lanner"]["group"] == "Databases"


@pytest.mark.slow
def test_notifications_in_a_flow(cluster_factory, webhook, smtp):
    base = webhook.url
    cluster = cluster_factory()
    cluster.env["LANNER_SECRET_SLACK_WEBHOOK"] = f"{base}/services/T1/B2/s3cr3t"
    cluster.start_executor()
    cluster.start_workers(1)
    execution_id = cluster.run(
        f"id: {unique('notify')}\nnamespace: test\n"
        "inputs:\n  - {id: total, type: FLOAT}\n"
        "tasks:\n"
        "  - {id: slack, type: notify.slack, url: \"{{ secret('SLACK_WEBHOOK') }}\","
        " text: 'Sales: {{ inputs.total }} EUR'}\n"
        f"  - {{id: mail, type: notify.email, host: 127.0.0.1, port: {smtp.port}, from: r@acme.test,"
        " to: [ana@acme.test], subject: 'Sales: {{ inputs.total }} EUR', body: 'Status {{ outputs.slack.status }}'}\n"
        f"  - {{id: broken, type: notify.slack, url: '{base}/status/500', text: x}}\n",
        {"total": 12.5},
    )
    assert cluster.wait(execution_id).state == State.FAILED.value
    runs = cluster.runs(execution_id)
    assert runs["slack"].outputs == {"status": 200} and runs["mail"].outputs == {"recipients": 1}
    assert runs["broken"].error == "Slack answered 500: refused 500" and runs["broken"].outputs == {"status": 500}
    assert webhook.bodies[0] == {"text": "Sales: 12.5 EUR"}
    message = smtp.messages[0]["message"]
    assert message["Subject"] == "Sales: 12.5 EUR" and message.get_content() == "Status 200\n"
