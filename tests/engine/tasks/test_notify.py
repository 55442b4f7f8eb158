"""notify.slack against a real local HTTP server, notify.email against a real (tiny) SMTP server."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from pydantic import ValidationError

from engine.core.states import State
from engine.tasks import registry
from engine.tasks.context import TaskFailed
from tests.support.ids import unique
from tests.support.ports import free_port


class _SlackHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.posted.append({"path": self.path, "json": body})
        failing = self.path.endswith("/broken")
        self.send_response(500 if failing else 200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"internal_error" if failing else b"ok")

    def log_message(self, *args):  # silence
        pass


@pytest.fixture
def slack() -> Iterator[tuple[str, list[dict]]]:
    """A webhook endpoint on a free port; returns its base URL and the requests it received."""
    server = HTTPServer(("127.0.0.1", 0), _SlackHandler)
    server.posted = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", server.posted
    server.shutdown()
    server.server_close()


def test_slack_posts_the_message_as_json(run_task, slack):
    base, posted = slack
    outputs = run_task(
        "notify.slack", url=f"{base}/services/T1/B2/x", text="Sales loaded", channel="#sales", iconEmoji=":robot_face:"
    )
    assert outputs == {"status": 200}
    assert posted == [
        {
            "path": "/services/T1/B2/x",
            "json": {"text": "Sales loaded", "channel": "#sales", "icon_emoji": ":robot_face:"},
        }
    ]


def test_slack_error_answer_fails_with_status_and_body(run_task, slack):
    base, _ = slack
    with pytest.raises(TaskFailed) as failed:
        run_task("notify.slack", url=f"{base}/broken", text="hi")
    assert str(failed.value) == "Slack answered 500: internal_error"
    assert failed.value.outputs == {"status": 500}


def test_slack_unreachable_does_not_show_the_webhook_url(run_task):
    with pytest.raises(TaskFailed) as failed:
        run_task("notify.slack", url=f"http://127.0.0.1:{free_port()}/services/T1/B2/s3cr3t", text="hi")
    assert str(failed.value).startswith("the Slack webhook could not be reached: ConnectError")
    assert "s3cr3t" not in str(failed.value)


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


def test_schemas_mark_code_fields():
    properties = {name: registry.json_schema(name)["properties"] for name in ("sql.query", "notify.email", "python")}
    assert properties["sql.query"]["sql"]["x-lanner-code"] == "sql"
    assert properties["notify.email"]["body"]["x-lanner-code"] == "text"
    assert properties["notify.email"]["html"]["x-lanner-code"] == "html"
    assert properties["python"]["script"]["x-lanner-code"] == "python"
    assert registry.json_schema("notify.slack")["x-lanner"]["group"] == "Notifications"
    assert registry.json_schema("sql.query")["x-lanner"]["group"] == "Databases"


@pytest.mark.slow
def test_notifications_in_a_flow(cluster_factory, slack, smtp):
    base, posted = slack
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
        f"  - {{id: broken, type: notify.slack, url: '{base}/broken', text: x}}\n",
        {"total": 12.5},
    )
    assert cluster.wait(execution_id).state == State.FAILED.value
    runs = cluster.runs(execution_id)
    assert runs["slack"].outputs == {"status": 200} and runs["mail"].outputs == {"recipients": 1}
    assert runs["broken"].error == "Slack answered 500: internal_error" and runs["broken"].outputs == {"status": 500}
    assert posted[0]["json"] == {"text": "Sales: 12.5 EUR"}
    message = smtp.messages[0]["message"]
    assert message["Subject"] == "Sales: 12.5 EUR" and message.get_content() == "Status 200\n"
