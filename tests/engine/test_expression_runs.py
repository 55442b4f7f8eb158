"""Expressions in real runs (executor and worker processes): runIf on every task type, bounded expressions,
values rendered into text."""

from __future__ import annotations

import json
import shutil
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import yaml

from engine.messaging import nats as nats_broker
from engine.tasks import registry
from tests.support.brokers import KAFKA_SERVERS, MQTT_URL, NATS_URL, RABBITMQ_URL, reachable
from tests.support.ids import unique
from tests.support.postgres import POSTGRES_URL, postgres_admin
from tests.support.sql_families import MARIADB_URL, mariadb_admin

pytestmark = pytest.mark.slow


class _Recorder(BaseHTTPRequestHandler):
    """Answers 200 to any POST (an API, a Slack webhook) and keeps the raw bodies it received."""

    def do_POST(self):
        self.server.bodies.append(self.rfile.read(int(self.headers["Content-Length"])).decode())
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):  # silence
        pass


@pytest.fixture
def recorder() -> Iterator[HTTPServer]:
    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    server.bodies = []
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _child(task_id: str) -> list[dict]:
    return [{"id": f"{task_id}-child", "type": "log", "message": "child ran"}]


RUN = unique("t").replace("-", "_").lower()  # the loads' table, new for each run of this module
_written = "{{ outputs['file-write-true'].uri }}"  # the file file.write stored, read by file.read and data.transform


def _sql_properties(type_name: str, folder: Path) -> dict:
    """The SQL task types' least: a file of its own for SQLite and DuckDB (DuckDB locks its file to one process),
    the machine's servers for PostgreSQL and MariaDB, a table of this run for the loads."""
    family, _, operation = type_name.partition(".")
    if operation not in ("query", "export", "load"):
        return {}
    url = {
        "sql": f"sqlite:///{folder}.db",
        "sqlite": f"sqlite:///{folder}.db",
        "duckdb": f"duckdb:///{folder}.duckdb",
        "postgresql": POSTGRES_URL,
        "mysql": MARIADB_URL,
    }[family]
    if operation == "load":
        return {type_name: {"url": url, "from": _written, "dependsOn": ["file-write-true"], "table": f"runif_{RUN}"}}
    return {type_name: {"url": url, "sql": "select 1 as one"}}


def _broker_properties(type_name: str, task_id: str, redis_url: str) -> dict:
    """The broker task types' least: NATS subjects of this run (its JetStream stream is ``nats_stream``'s), keys
    of the cluster's own Redis, ``rabbitmq_queue``'s queue, MQTT sessions that expire at once; consumes end after
    a moment with nothing. Kafka where a cluster is reachable, else a closed port: the task runs and fails."""
    subject = f"lanner.runif.{RUN}.{task_id}"
    nats = {"url": NATS_URL, "subject": subject}
    redis = {"url": redis_url, "key": f"runif:{RUN}:{task_id}"}
    rabbitmq = {"url": RABBITMQ_URL}
    mqtt = {"url": MQTT_URL, "topic": f"lanner/runif/{RUN}/{task_id}"}
    kafka = {"connection": {"bootstrapServers": KAFKA_SERVERS if KAFKA_UP else "127.0.0.1:1"}, "topic": subject}
    least = {
        "rabbitmq.publish": {**rabbitmq, "routingKey": RABBITMQ_QUEUE, "body": "ran"},
        "rabbitmq.consume": {**rabbitmq, "queue": RABBITMQ_QUEUE, "maxDuration": "100ms"},
        "mqtt.publish": {**mqtt, "body": "ran"},
        "mqtt.subscribe": {
            **mqtt,
            "clientId": f"lanner-runif-{RUN}-{task_id}",
            "sessionExpiry": "1s",
            "maxDuration": "100ms",
        },
        "kafka.produce": {**kafka, "body": "ran", "allowFailure": not KAFKA_UP},
        "kafka.consume": {**kafka, "maxDuration": "100ms", "allowFailure": not KAFKA_UP},
        "nats.publish": {**nats, "body": "ran"},
        "nats.consume": {**nats, "maxDuration": "100ms"},
        "nats.jetstream.publish": {**nats, "body": "ran"},
        "nats.jetstream.consume": {**nats, "durable": task_id, "maxDuration": "100ms"},
        "redis.list.push": {**redis, "body": "ran"},
        "redis.list.pop": {**redis, "maxDuration": "100ms"},
        "redis.stream.add": {**redis, "body": "ran"},
        "redis.stream.read": {**redis, "consumerGroup": "runif", "maxDuration": "100ms"},
        "redis.publish": {"url": redis_url, "channel": subject, "body": "ran"},
    }
    return {type_name: least[type_name]} if type_name in least else {}


def _up(url: str, default_port: int) -> bool:
    address = urllib.parse.urlsplit(url)
    return reachable(address.hostname or "127.0.0.1", address.port or default_port)


KAFKA_UP = _up(f"kafka://{KAFKA_SERVERS.split(',')[0]}", 9092)
RABBITMQ_QUEUE = f"lanner.runif.{RUN}"


@pytest.fixture
def rabbitmq_queue() -> Iterator[str]:
    """The RabbitMQ queue of this run, deleted afterwards; the MQTT broker checked."""
    import pika

    if not _up(RABBITMQ_URL, 5672) or not _up(MQTT_URL, 1883):
        pytest.skip(
            f"the rabbitmq.* and mqtt.* task types need RabbitMQ at {RABBITMQ_URL.rsplit('@', 1)[-1]} and "
            f"an MQTT broker at {MQTT_URL}"
        )
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    connection.channel().queue_declare(RABBITMQ_QUEUE)
    yield RABBITMQ_QUEUE
    connection.channel().queue_delete(RABBITMQ_QUEUE)
    connection.close()


@pytest.fixture
def nats_stream() -> Iterator[str]:
    """The JetStream stream taking this run's subjects, deleted afterwards."""
    address = urllib.parse.urlsplit(NATS_URL)
    if not reachable(address.hostname or "127.0.0.1", address.port or 4222):
        pytest.skip(f"the nats.* task types need the NATS server at {NATS_URL}")
    server = nats_broker.NatsServer(url=NATS_URL)
    name = f"LANNER_RUNIF_{RUN}".upper()
    with nats_broker.NatsConnection(server) as connection:
        manager = connection.client.jetstream()
        connection.run(manager.add_stream(name=name, subjects=[f"lanner.runif.{RUN}.>"]), 5, "creating a stream")
        yield name
        connection.run(manager.delete_stream(name), 5, "deleting the stream")


def minimal_properties(
    type_name: str, task_id: str, *, url: str, smtp_port: int, database: Path, redis_url: str
) -> dict:
    """The least each task type needs to run here, against local servers only (a new type must be added)."""
    return {
        **_broker_properties(type_name, task_id, redis_url),
        "log": {"message": "ran"},
        "return": {"value": 1},
        "sleep": {"duration": "10ms"},
        "fail": {"allowFailure": True},
        "shell": {"commands": ["echo ran"]},
        "python": {"script": "print('ran')"},
        # a worker without Node.js fails a node task with a clear message: allowed to fail there, not here
        "node": {"script": "console.log('ran')", "allowFailure": shutil.which("node") is None},
        "script": {"interpreter": ["sh"], "script": "echo ran"},
        "http.request": {"uri": url, "method": "POST", "json": {"a": 1}},
        "http.download": {"uri": url, "method": "POST", "fileName": "answer.json"},
        "file.write": {"content": "a,b\n1,2\n", "fileName": "ran.csv"},
        "file.read": {"from": _written, "dependsOn": ["file-write-true"]},
        "data.transform": {"from": _written, "dependsOn": ["file-write-true"], "steps": [{"filter": "a = 1"}]},
        **_sql_properties(type_name, database.parent / task_id),
        "notify.slack": {"url": url, "text": "ran"},
        "notify.teams": {"url": url, "title": "ran"},
        "notify.discord": {"url": url, "content": "ran"},
        "notify.webhook": {"url": url, "payload": {"a": 1}},
        "notify.email": {
            "host": "127.0.0.1",
            "port": smtp_port,
            "startTls": False,
            "from": "lanner@acme.test",
            "to": ["ana@acme.test"],
            "subject": "ran",
            "body": "ran",
        },
        "sequential": {"tasks": _child(task_id)},
        "parallel": {"tasks": _child(task_id)},
        "if": {"condition": "{{ true }}", "then": _child(task_id)},
        "switch": {"value": "a", "cases": {"a": _child(task_id)}},
        "foreach": {"values": [1], "tasks": _child(task_id)},
        "subflow": {"namespace": "test", "flowId": "runif-child"},
        "pause": {"delay": "50ms"},
        "kv.set": {"key": task_id, "value": {"a": 1}},
        "kv.get": {"key": task_id},
        "kv.delete": {"key": task_id},
        "working-directory": {"tasks": _child(task_id)},
    }[type_name]


def test_run_if_true_runs_and_false_skips_every_task_type(
    cluster, recorder, smtp, tmp_path, nats_stream, rabbitmq_queue
):
    """runIf is decided by the executor; a true one used to fail worker tasks when the worker re-validated it."""
    if postgres_admin() is None or mariadb_admin() is None:
        pytest.skip("the postgresql.* and mysql.* task types need the PostgreSQL and MariaDB servers")
    cluster.deploy("id: runif-child\nnamespace: test\ntasks:\n  - {id: c, type: log, message: child}\n")
    truths = ["{{ inputs.everything }}", "{{ 1 == 1 }}"]
    tasks = []
    for index, type_name in enumerate(registry.names()):
        for outcome, run_if in (("true", truths[index % 2]), ("false", "{{ 1 == 2 }}")):
            task_id = f"{type_name.replace('.', '-')}-{outcome}"
            properties = minimal_properties(
                type_name,
                task_id,
                url=recorder.url,
                smtp_port=smtp.port,
                database=tmp_path / "q.db",
                redis_url=cluster.redis_url,
            )
            tasks.append({"id": task_id, "type": type_name, "runIf": run_if, **properties})
    source = yaml.safe_dump(
        {
            "id": unique("runif"),
            "namespace": "test",
            "inputs": [{"id": "everything", "type": "BOOLEAN"}],
            "tasks": [{"id": "all", "type": "parallel", "tasks": tasks}],
        }
    )
    execution_id = cluster.run(source, {"everything": True})
    cluster.wait(execution_id, timeout=60)
    runs = cluster.runs(execution_id)
    wrong = {}
    for type_name in registry.names():
        prefix = type_name.replace(".", "-")
        ran, skipped = runs[f"{prefix}-true"], runs[f"{prefix}-false"]
        unreachable = type_name.startswith("kafka.") and not KAFKA_UP  # it ran: it failed on connecting
        expected = "FAILED" if type_name == "fail" or unreachable else "SUCCESS"
        if ran.state != expected or (type_name == "fail" and ran.error != "Failed on purpose"):
            wrong[f"{prefix}-true"] = (ran.state, ran.error)
        if unreachable and "cannot be reached" not in (ran.error or ""):
            wrong[f"{prefix}-true"] = (ran.state, ran.error)
        if skipped.state != "SKIPPED" or f"{prefix}-false-child" in runs:
            wrong[f"{prefix}-false"] = (skipped.state, skipped.error)
    assert wrong == {}
    assert ("log-true", "INFO", "ran") in [
        (line.task_id, line.level, line.message) for line in cluster.logs(execution_id)
    ]
    # http.request, http.download, Slack, Teams, Discord and the webhook; one email
    assert len(recorder.bodies) == 6 and len(smtp.messages) == 1


def _seconds(execution) -> float:
    return (execution.ended_at - execution.created_at).total_seconds()


def test_a_hostile_expression_fails_its_task_fast_and_does_not_hold_up_other_executions(cluster):
    """``7 ** 30000000`` used to occupy a worker ~40 s, and the executor rendering an ``if`` as long."""
    cluster.wait(cluster.run("id: warm\nnamespace: other\ntasks:\n  - {id: a, type: log, message: warm}\n"))
    hostile = yaml.safe_dump(
        {
            "id": unique("hostile"),
            "namespace": "test",
            "tasks": [
                {
                    "id": "all",
                    "type": "parallel",
                    "tasks": [
                        {"id": "power", "type": "log", "message": "{{ (7 ** 30000000) > 0 }}", "allowFailure": True},
                        {"id": "repeat", "type": "log", "message": "x {{ 'a' * 10**9 }}", "allowFailure": True},
                        {
                            "id": "loops",
                            "type": "log",
                            "message": "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
                            "allowFailure": True,
                        },
                        {
                            "id": "decide",
                            "type": "if",
                            "condition": "{{ (7 ** 30000000) > 0 }}",
                            "then": [{"id": "never", "type": "log", "message": "no"}],
                        },
                        {
                            "id": "decide-slowly",
                            "type": "if",
                            "condition": "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
                            "then": [{"id": "never-either", "type": "log", "message": "no"}],
                        },
                    ],
                }
            ],
        }
    )
    started = time.monotonic()
    hostile_id = cluster.run(hostile)
    other_id = cluster.run("id: other\nnamespace: other\ntasks:\n  - {id: a, type: log, message: fine}\n")
    other = cluster.wait(other_id, timeout=30)
    hostile_execution = cluster.wait(hostile_id, timeout=30)
    assert time.monotonic() - started < 10
    assert other.state == "SUCCESS" and _seconds(other) < 3
    assert hostile_execution.state == "FAILED" and _seconds(hostile_execution) < 5
    runs = cluster.runs(hostile_id)
    assert "the result of '**' would have about 84,220,648 bits" in runs["power"].error
    assert "more than 10,000,000 allowed (LANNER_EXPRESSION_MAX_SIZE)" in runs["repeat"].error
    assert "took longer than 1s (LANNER_EXPRESSION_TIMEOUT=1s)" in runs["loops"].error
    assert "task 'decide'" in runs["decide"].error and "'**'" in runs["decide"].error
    assert "LANNER_EXPRESSION_TIMEOUT" in runs["decide-slowly"].error
    assert "never" not in runs and "never-either" not in runs


def test_values_inside_text_read_as_json_and_a_whole_expression_keeps_its_type(cluster, recorder):
    source = yaml.safe_dump(
        {
            "id": unique("text"),
            "namespace": "test",
            "inputs": [{"id": "note", "type": "STRING", "required": False}],
            "tasks": [
                {
                    "id": "order",
                    "type": "return",
                    "value": {"id": 7, "lines": [{"sku": "a", "gift": True}], "memo": None},
                },
                {
                    "id": "send",
                    "type": "http.request",
                    "method": "POST",
                    "uri": recorder.url,
                    "headers": {"Content-Type": "application/json"},
                    "body": '{"order": {{ outputs.order.value }}, "note": "{{ inputs.note }}"}',
                },
                {
                    "id": "whole",
                    "type": "http.request",
                    "method": "POST",
                    "uri": recorder.url,
                    "json": "{{ outputs.order.value }}",
                },
                {"id": "say", "type": "log", "message": "order {{ outputs.order.value.id }} gift={{ true }}"},
                {"id": "wrong", "type": "log", "message": "{{ outputs.order.value }}"},
            ],
        }
    )
    execution_id = cluster.run(source)
    cluster.wait(execution_id)
    sent, whole = (json.loads(body) for body in recorder.bodies)
    order = {"id": 7, "lines": [{"sku": "a", "gift": True}], "memo": None}
    assert sent == {"order": order, "note": ""} and whole == order
    lines = [(line.task_id, line.message) for line in cluster.logs(execution_id)]
    assert ("say", "order 7 gift=true") in lines
    error = cluster.runs(execution_id)["wrong"].error
    assert "property 'message' expects text or a list but the expression gave a map" in error


def test_all_the_expressions_of_one_executor_step_share_a_bounded_budget(cluster_factory, monkeypatch):
    """Twenty slow conditions decided in one advance hold the executor 5 budgets at most, not 20."""
    monkeypatch.setenv("LANNER_EXPRESSION_TIMEOUT", "0.2")
    cluster = cluster_factory()
    cluster.start_executor()
    slow = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    conditions = [
        {"id": f"if{n}", "type": "if", "condition": slow, "then": [{"id": f"then{n}", "type": "log", "message": "no"}]}
        for n in range(20)
    ]
    source = yaml.safe_dump(
        {"id": unique("slow"), "namespace": "test", "tasks": [{"id": "all", "type": "parallel", "tasks": conditions}]}
    )
    execution_id = cluster.run(source)
    execution = cluster.wait(execution_id, timeout=30)
    assert execution.state == "FAILED"
    errors = [run.error for run in cluster.runs(execution_id).values() if run.task_id.startswith("if")]
    assert len(errors) == 20
    assert "took longer than 0.2s (LANNER_EXPRESSION_TIMEOUT=0.2s)" in errors[0]
    assert sum("took longer than 1s (LANNER_EXPRESSION_TIMEOUT=0.2s)" in error for error in errors) >= 14
