"""A SECRET input through the real engine and API: the tasks that read it get the value, nobody else sees it.

One run is started over the API, fails once, is restarted and replayed; then everything a person can read
about it (the API as a viewer, its logs and follow stream, the audit trail, the CLI, the studio's services)
and every row stored for it must hold ``****`` where the value was.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys

import httpx
import pytest
import sqlalchemy as sa

from engine.core.states import State
from engine.identity.policy import Principal
from studio import services
from studio.services import executions as studio_runs

pytestmark = pytest.mark.slow
VALUE = "hunter2-very-secret-value"
PASSWORD = "correct horse battery"
FLOW = """\
id: login
namespace: acme
inputs:
  - {{id: password, type: SECRET}}
  - {{id: user, type: STRING}}
tasks:
  - id: check
    type: shell
    commands:
      - 'echo said {{{{ inputs.password }}}}'
      - 'test "$(printf %s "{{{{ inputs.password }}}}" | sha256sum | cut -c1-64)" = {sha}'
      - 'if [ -f {marker} ]; then echo again; else touch {marker}; exit 3; fi'
  - id: py
    type: python
    script: |
      import hashlib
      from engine.sdk import outputs
      value = "{{{{ inputs.password }}}}"
      print("python got " + value)
      sha = hashlib.sha256(value.encode()).hexdigest()
      outputs({{"same": sha == "{sha}", "sha": sha, "echo": value}})
  - {{id: back, type: return, value: "{{{{ inputs.password }}}}"}}
  - id: sub
    type: subflow
    namespace: acme
    flowId: verify
    inputs: {{key: "{{{{ inputs.password }}}}", note: "n {{{{ inputs.password }}}}"}}
outputs:
  - {{id: out, value: "for {{{{ inputs.user }}}}: {{{{ inputs.password }}}}"}}
"""

CHILD = """\
id: verify
namespace: acme
inputs:
  - {{id: key, type: SECRET}}
  - {{id: note, type: STRING}}
tasks:
  - {{id: same, type: shell, commands: ['test "$(printf %s "{{{{ inputs.key }}}}" | sha256sum | cut -c1-64)" = {sha}']}}
outputs:
  - {{id: checked, value: "{{{{ outputs.same.exitCode }}}} {{{{ inputs.note }}}}"}}
"""


def _bearer(api: httpx.Client, username: str) -> dict[str, str]:
    with httpx.Client(base_url=api.base_url, timeout=60) as browser:
        assert browser.post("/auth/login", json={"username": username, "password": PASSWORD}).status_code == 200
        return {"Authorization": f"Bearer {browser.post('/tokens', json={'name': 't'}).json()['token']}"}


def _stored(db: sa.Engine) -> str:
    with db.connect() as connection:
        tables = ("execution", "task_run", "task_run_attempt", "log_line", "audit_event")
        return repr([connection.execute(sa.text(f"SELECT * FROM {table}")).all() for table in tables])


# SQLite only: storage on PostgreSQL is checked by tests/engine/test_secret_inputs.py, in seconds
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_secret_input_reaches_its_tasks_and_nobody_else(api, tmp_path, monkeypatch):
    cluster = api.cluster
    assert api.post("/auth/setup", json={"username": "root", "password": PASSWORD}).status_code == 201
    api.cookies.clear()
    root = _bearer(api, "root")
    sha = hashlib.sha256(VALUE.encode()).hexdigest()  # the flow checks the value without holding it
    yaml = FLOW.format(sha=sha, marker=tmp_path / "marker")
    for text in (CHILD.format(sha=sha), yaml):
        assert api.post("/flows", content=text, headers={**root, "content-type": "application/x-yaml"}).is_success
    assert api.post("/users", json={"username": "vera", "password": PASSWORD}, headers=root).status_code == 201
    assert api.put("/namespaces/acme/members/vera", json={"role": "viewer"}, headers=root).is_success
    vera = _bearer(api, "vera")

    body = {"inputs": {"password": VALUE, "user": "ann"}}
    started = api.post("/executions/trigger/acme/login", json=body, headers=root, params={"wait": "true"})
    assert started.status_code == 201, started.text
    assert started.json()["state"] == "FAILED" and VALUE not in started.text  # the first attempt stops at the marker
    execution_id = started.json()["id"]
    assert api.post(f"/executions/{execution_id}/restart", headers=root).status_code == 200
    assert cluster.wait(execution_id).state == State.SUCCESS.value  # restarted with the value
    replayed = api.post(f"/executions/{execution_id}/replay", params={"taskId": "py"}, headers=root)
    assert replayed.status_code == 201, replayed.text
    assert cluster.wait(replayed.json()["id"]).state == State.SUCCESS.value

    for shown_id in (execution_id, replayed.json()["id"]):
        shown = api.get(f"/executions/{shown_id}", headers=vera)
        assert shown.status_code == 200 and VALUE not in shown.text
        found = shown.json()
        assert found["inputs"] == {"password": "****", "user": "ann"}
        runs = {run["taskId"]: run for run in found["taskRuns"]}
        assert runs["py"]["outputs"]["vars"] == {"same": True, "sha": sha, "echo": "****"}  # the task had the value
        assert runs["back"]["outputs"] == {"value": "****"}
        assert found["outputs"] == {"out": "for ann: ****"}
        assert runs["sub"]["outputs"]["outputs"] == {"checked": "0 n ****"}  # its SECRET input had the value
        child = api.get(f"/executions/{runs['sub']['outputs']['executionId']}", headers=vera)
        assert VALUE not in child.text and child.json()["inputs"] == {"key": "****", "note": "n ****"}
        logs = api.get(f"/logs/{shown_id}", headers=vera)
        assert VALUE not in logs.text and "python got ****" in logs.text
        follow = api.get(f"/executions/{shown_id}/follow", headers=vera)
        assert follow.status_code == 200 and VALUE not in follow.text and "python got ****" in follow.text
    messages = [line.message for line in cluster.logs(execution_id)]
    assert "said ****" in messages and "again" in messages
    listed = api.get("/executions", params={"namespace": "acme"}, headers=vera)
    assert listed.status_code == 200 and VALUE not in listed.text and "****" in listed.text
    audit = api.get("/audit", headers=root)
    assert audit.status_code == 200 and VALUE not in audit.text and execution_id in audit.text

    shown = subprocess.run(
        [sys.executable, "-m", "engine", "execution", "show", execution_id],
        env=cluster.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.returncode == 0 and VALUE not in shown.stdout and '"password": "****"' in shown.stdout
    (tmp_path / "login.yml").write_text(yaml)
    given = ["-i", f"password={VALUE}", "-i", "user=b", "--json"]
    ran = subprocess.run(
        [sys.executable, "-m", "engine", "run", str(tmp_path / "login.yml"), *given],
        env=cluster.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 0, ran.stderr
    assert VALUE not in ran.stdout + ran.stderr and '"out": "for b: ****"' in ran.stdout

    monkeypatch.setenv("LANNER_DATABASE_URL", cluster.database_url)
    monkeypatch.setenv("LANNER_HOME", str(cluster.home))
    services.database.cache_clear()
    try:
        admin = Principal("root", is_admin=True)
        detail = studio_runs.detail(admin, execution_id)
        assert detail["inputs"] == {"password": "****", "user": "ann"}
        runs_by_task, _ = studio_runs.task_runs(admin, execution_id)
        listed_rows, _ = studio_runs.search_executions(admin)
        everything = repr([detail, runs_by_task, listed_rows, studio_runs.logs(admin, execution_id)])
        assert VALUE not in everything and "****" in everything
    finally:
        services.database.cache_clear()
    assert VALUE not in _stored(cluster.db)
