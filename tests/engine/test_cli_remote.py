"""``lanner`` against a remote server (--server / LANNER_SERVER, LANNER_TOKEN): a real API in its own process,
real users and tokens, the command run as a real process with no access to the server's database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.ids import unique

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
HELLO = ROOT / "examples" / "hello.yml"
PASSWORD = "a long enough password"


class Remote:
    """The server's URL, one token per person, and the ``lanner`` command run far from the server's data."""

    def __init__(self, base: str, workdir: Path) -> None:
        self.server = base.removesuffix("/api/v1")
        self.workdir = workdir
        self.tokens: dict[str, str] = {}
        # An empty local home: were a command to use a local database instead of the server, it would find
        # nothing there and the assertions below would fail. PYTHONPATH: this checkout's code, from any folder.
        self.env = {key: value for key, value in os.environ.items() if not key.startswith("LANNER_")} | {
            "LANNER_HOME": str(workdir / "elsewhere"),
            "LANNER_SERVER": self.server,
            "PYTHONPATH": str(ROOT),
        }

    def lanner(self, who: str | None, *args: str, timeout: float = 90) -> subprocess.CompletedProcess:
        env = dict(self.env)
        if who is not None:
            env["LANNER_TOKEN"] = self.tokens[who]
        return subprocess.run(
            [sys.executable, "-m", "engine", *args],
            cwd=self.workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def _token(client: httpx.Client, username: str) -> str:
    cookies = client.post("/auth/login", json={"username": username, "password": PASSWORD}).cookies
    made = client.post("/tokens", json={"name": "cli"}, cookies=cookies)
    assert made.status_code == 201, made.text
    return made.json()["token"]


@pytest.fixture
def remote(api: httpx.Client, tmp_path: Path) -> Remote:
    """An administrator ``boss`` and ``vera``, viewer on ``tutorial`` (the namespace of examples/hello.yml)."""
    assert api.post("/auth/setup", json={"username": "boss", "password": PASSWORD}).status_code == 201
    cookies = api.post("/auth/login", json={"username": "boss", "password": PASSWORD}).cookies
    made = api.post("/users", json={"username": "vera", "password": PASSWORD}, cookies=cookies)
    assert made.status_code == 201, made.text
    granted = api.put("/namespaces/tutorial/members/vera", json={"role": "viewer"}, cookies=cookies)
    assert granted.status_code == 204, granted.text
    remote = Remote(str(api.base_url).rstrip("/"), tmp_path)
    remote.tokens = {"boss": _token(api, "boss"), "vera": _token(api, "vera")}
    return remote


def test_an_administrator_deploys_runs_and_inspects_flows_on_the_server(remote: Remote):
    deployed = remote.lanner("boss", "flow", "deploy", str(HELLO))
    assert deployed.returncode == 0, deployed.stderr
    assert deployed.stdout.strip() == "created tutorial/hello (revision 1)"

    ran = remote.lanner("boss", "run", "tutorial/hello", "--input", "name=Ada")
    assert ran.returncode == 0, ran.stderr
    assert " INFO  greet            Hello, Ada!" in ran.stdout  # the local mode's log line format
    assert json.loads(ran.stdout[ran.stdout.index("{") :]) == {"greeting": "Hello, Ada"}
    assert "-- SUCCESS" in ran.stderr and "execution " in ran.stderr
    execution_id = ran.stderr.split("execution ", 1)[1].split()[0]

    # A FILE is deployed first (unchanged here: no new revision), then run; --server works like the variable.
    as_json = remote.lanner("boss", "--server", remote.server, "run", str(HELLO), "--json")
    assert as_json.returncode == 0, as_json.stderr
    document = json.loads(as_json.stdout)
    assert document["state"] == "SUCCESS" and document["outputs"] == {"greeting": "Hello, world"}
    assert [r["taskId"] for r in document["taskRuns"]] == ["greet", "greeting"]

    listed = remote.lanner("boss", "flow", "list")
    assert listed.returncode == 0 and listed.stdout.startswith("tutorial/hello  rev 1 "), listed.stderr
    shown = remote.lanner("boss", "flow", "show", "tutorial", "hello")
    assert shown.stdout == HELLO.read_text()

    executions = remote.lanner("boss", "execution", "list", "--namespace", "tutorial")
    assert executions.returncode == 0 and f"{execution_id}  SUCCESS" in executions.stdout
    detail = remote.lanner("boss", "execution", "show", execution_id)
    assert detail.returncode == 0 and "tutorial/hello rev 1  SUCCESS" in detail.stdout
    assert '"name": "Ada"' in detail.stdout and "greeting" in detail.stdout

    failing = remote.workdir / "failing.yml"
    failing.write_text(f"id: {unique('f')}\nnamespace: tutorial\ntasks:\n  - {{id: f, type: fail, message: no luck}}\n")
    failed = remote.lanner("boss", "run", str(failing))
    assert failed.returncode == 1 and "-- FAILED" in failed.stderr and "no luck" in failed.stdout


def test_the_server_decides_what_each_token_may_do(remote: Remote):
    assert remote.lanner("boss", "flow", "deploy", str(HELLO)).returncode == 0
    ran = remote.lanner("boss", "run", "tutorial/hello", "--json")
    execution_id = json.loads(ran.stdout)["id"]

    listed = remote.lanner("vera", "flow", "list")  # a viewer sees the flow...
    assert listed.returncode == 0 and "tutorial/hello" in listed.stdout
    assert remote.lanner("vera", "execution", "show", execution_id).returncode == 0

    refused = remote.lanner("vera", "run", "tutorial/hello")  # ...but may not run it, nor deploy, nor kill
    assert refused.returncode == 1
    assert refused.stderr.strip() == "error: run in tutorial needs the operator role"
    assert "Traceback" not in refused.stderr and refused.stdout == ""
    killed = remote.lanner("vera", "execution", "kill", execution_id)
    assert (killed.returncode, killed.stderr.strip()) == (1, "error: kill in tutorial needs the operator role")
    deployed = remote.lanner("vera", "flow", "deploy", str(HELLO))
    assert deployed.returncode == 1 and "needs the editor role" in deployed.stderr

    anonymous = remote.lanner(None, "flow", "list")
    assert anonymous.returncode == 1
    assert anonymous.stderr.strip().startswith("error: sign in, or send a valid API token")
    assert "Traceback" not in anonymous.stderr

    elsewhere = remote.lanner("vera", "run", "globex/hello")  # a namespace she cannot see: as if missing
    assert (elsewhere.returncode, elsewhere.stderr.strip()) == (1, "error: no flow globex/hello")
    missing = remote.lanner("boss", "flow", "show", "nowhere", "hello")
    assert (missing.returncode, missing.stderr.strip()) == (1, "error: no flow nowhere/hello")
    assert remote.lanner("boss", "execution", "show", "no-such-id").returncode == 1

    # Commands not (yet) spoken to a server refuse instead of quietly using a local database.
    local = remote.lanner("boss", "flow", "delete", "tutorial", "hello")
    assert local.returncode == 1 and "works on the local database only" in local.stderr


def test_an_unreachable_server_is_one_error_line(tmp_path: Path):
    env = {key: value for key, value in os.environ.items() if not key.startswith("LANNER_")}
    env["PYTHONPATH"] = str(ROOT)  # this checkout's code, whatever the working directory
    done = subprocess.run(
        [sys.executable, "-m", "engine", "--server", "http://127.0.0.1:9", "flow", "list"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and done.stderr.startswith("error: cannot reach http://127.0.0.1:9/api/v1")
    assert "Traceback" not in done.stderr


def test_a_file_input_is_uploaded_to_the_server_not_sent_as_a_path(remote: Remote):
    flow = remote.workdir / "files.yml"
    flow.write_text(
        "id: remote_file\nnamespace: tutorial\ninputs:\n  - {id: data, type: FILE}\n  - {id: n, type: INT}\n"
        "tasks:\n  - {id: show, type: shell, commands: ['cat {{ inputs.data }}', 'echo n={{ inputs.n }}']}\n"
    )
    (remote.workdir / "local.csv").write_text("x,y\n")
    ran = remote.lanner("boss", "run", str(flow), "-i", "data=local.csv", "-i", "n=3", "-l", "env=test")
    assert ran.returncode == 0, ran.stderr
    assert "-- SUCCESS" in ran.stderr and " show             x,y" in ran.stdout and "n=3" in ran.stdout
    by_id = remote.lanner("boss", "run", "tutorial/remote_file", "-i", "data=missing.csv", "-i", "n=1")
    assert by_id.returncode == 1 and by_id.stderr.strip() == "error: input 'data': missing.csv is not a file"
