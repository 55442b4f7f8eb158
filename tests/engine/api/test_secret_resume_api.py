"""SECRET values given after a run started, through the real API, executor, workers and scheduler: a pause's
``onResume`` answer and a backfill's input reach the tasks that read them, and nobody else sees them.

The answer is read by later tasks through ``{{ outputs.<pause>.resumed.<name> }}``; the backfill's value by
each run it starts. Everything a person can read afterwards (the API, logs, the CLI, the studio's services) and
every row stored must hold ``****`` (never the value, nor its ciphertext) where the value was.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from engine.core.states import State
from engine.identity.policy import Principal
from studio import services
from studio.services import executions as studio_runs
from studio.services import triggers as studio_triggers

pytestmark = pytest.mark.slow
ANSWER = "hunter2-resume-answer-value"
GIVEN = "backfill-pa{{ ss }}-word"  # braces in a value are data, not an expression
YAML = {"content-type": "application/x-yaml"}
GATE = """\
id: gate
namespace: acme
tasks:
  - id: approve
    type: pause
    onResume:
      - {{id: token, type: SECRET}}
      - {{id: note, type: STRING}}
  - id: use
    type: shell
    commands:
      - 'echo got {{{{ outputs.approve.resumed.token }}}}'
      - 'test "$(printf %s "{{{{ outputs.approve.resumed.token }}}}" | sha256sum | cut -c1-64)" = {sha}'
  - {{id: back, type: return, value: "{{{{ outputs.approve.resumed.token }}}}"}}
outputs:
  - {{id: out, value: "{{{{ outputs.approve.resumed.note }}}} {{{{ outputs.approve.resumed.token }}}}"}}
"""
NIGHTLY = """\
id: nightly
namespace: acme
inputs:
  - {{id: password, type: SECRET}}
  - {{id: day, type: STRING}}
tasks:
  - id: check
    type: shell
    commands:
      - 'echo day {{{{ inputs.day }}}} with {{{{ inputs.password }}}}'
      - 'test "$(printf %s "{{{{ inputs.password }}}}" | sha256sum | cut -c1-64)" = {sha}'
triggers:
  - {{id: daily, type: schedule, cron: '0 6 * * *'}}
"""


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()  # the flows check the value without holding it


def _stored(db: sa.Engine) -> str:
    with db.connect() as connection:
        tables = ("execution", "task_run", "task_run_attempt", "log_line", "audit_event", "trigger_state")
        return repr([connection.execute(sa.text(f"SELECT * FROM {table}")).all() for table in tables])


def _lanner(cluster, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "engine", *args], env=cluster.env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


def _nightly(api) -> dict:
    return {t["id"]: t for t in api.get("/triggers", params={"namespace": "acme"}).json()}["daily"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_secret_answers_and_backfill_inputs_reach_their_tasks_and_nobody_else(api, monkeypatch):
    cluster = api.cluster
    for text in (GATE.format(sha=_sha(ANSWER)), NIGHTLY.format(sha=_sha(GIVEN))):
        assert api.post("/flows", content=text, headers=YAML).is_success

    execution_id = api.post("/executions/trigger/acme/gate").json()["id"]
    cluster.wait_for_run(execution_id, "approve", State.PAUSED)
    resumed = api.post(f"/executions/{execution_id}/resume", json={"inputs": {"token": ANSWER, "note": "ok"}})
    assert resumed.status_code == 200 and ANSWER not in resumed.text
    assert cluster.wait(execution_id).state == State.SUCCESS.value  # `use` checked the value it was given
    shown = api.get(f"/executions/{execution_id}")
    assert shown.status_code == 200 and ANSWER not in shown.text
    runs = {run["taskId"]: run for run in shown.json()["taskRuns"]}
    assert runs["approve"]["outputs"] == {"resumed": {"token": "****", "note": "ok"}}
    assert runs["back"]["outputs"] == {"value": "****"}
    assert shown.json()["outputs"] == {"out": "ok ****"}
    logs = api.get(f"/logs/{execution_id}")
    assert ANSWER not in logs.text and "got ****" in logs.text
    printed = _lanner(cluster, "execution", "show", execution_id)
    assert ANSWER not in printed and '"out": "ok ****"' in printed

    body = {"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T23:00:00Z"}
    body["inputs"] = {"password": GIVEN, "day": "{{ trigger.date }}"}
    asked = api.post("/triggers/acme/nightly/daily/backfill", json=body)
    assert asked.status_code == 200 and GIVEN not in asked.text and "ciphertext" not in asked.text
    assert asked.json()["inputs"] == {"password": "****", "day": "{{ trigger.date }}"}
    cluster.start("scheduler", "scheduler")
    deadline = time.monotonic() + 30
    while not (_nightly(api)["backfill"] or {}).get("done") and time.monotonic() < deadline:
        time.sleep(0.2)
    listed = api.get("/triggers", params={"namespace": "acme"})
    assert GIVEN not in listed.text and "ciphertext" not in listed.text and "secretInputs" not in listed.text
    backfill = _nightly(api)["backfill"]
    assert backfill["done"] and backfill["fired"] == 1 and backfill["inputs"]["password"] == "****"
    fired = cluster.wait(backfill["lastExecutionId"])
    assert fired.state == State.SUCCESS.value  # `check` was given the value exactly as typed
    assert fired.inputs == {"password": "****", "day": "2026-01-01T06:00:00+00:00"}
    fired_logs = api.get(f"/logs/{fired.id}")
    assert GIVEN not in fired_logs.text and "with ****" in fired_logs.text
    for args in (("trigger", "list", "-n", "acme"), ("trigger", "backfill", "acme/nightly", "daily", "--pause")):
        printed = _lanner(cluster, *args)
        assert GIVEN not in printed and "ciphertext" not in printed and "secretInputs" not in printed

    monkeypatch.setenv("LANNER_DATABASE_URL", cluster.database_url)
    monkeypatch.setenv("LANNER_HOME", str(cluster.home))
    services.database.cache_clear()
    try:
        admin = Principal("root", is_admin=True)
        everything = repr(
            [
                studio_runs.detail(admin, execution_id),
                studio_runs.task_runs(admin, execution_id),
                studio_runs.logs(admin, execution_id),
                studio_triggers.list_triggers(admin),
            ]
        )
        assert ANSWER not in everything and GIVEN not in everything and "ciphertext" not in everything
        assert "****" in everything
    finally:
        services.database.cache_clear()
    stored = _stored(cluster.db)
    assert ANSWER not in stored and GIVEN not in stored
