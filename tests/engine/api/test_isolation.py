"""Workspaces over the API: who sees and does what, per resource, on SQLite and PostgreSQL.

Two teams: ``acme`` (with the namespace ``acme.sales``) and ``globex``. People: the administrator, ``vera``
(viewer of acme), ``opal`` (operator of acme), ``eddy`` (editor of acme.sales), ``ada`` (admin of acme) and
``otto`` (no role anywhere). Every resource type is read and changed by each of them through the API; an
outsider must get the same 404 as for something that does not exist, and never a count, a chart point or a
search result of a namespace they cannot read.
"""

from __future__ import annotations

import json
import time

import httpx
import pytest

from engine.identity import share_links
from engine.identity.sessions import COOKIE_NAME
from engine.identity.share_links import ShareKind
from engine.store.database import session_scope

pytestmark = pytest.mark.slow
YAML = {"content-type": "application/x-yaml"}
PASSWORD = "correct horse battery"

REPORT = """\
id: report
namespace: acme.sales
tasks:
  - id: say
    type: log
    message: "sales report"
  - id: value
    type: return
    value: "acme-output"
triggers:
  - id: hook
    type: webhook
    key: acme-key-0123456789
  - id: nightly
    type: schedule
    cron: "0 3 * * *"
"""

PLAN = """\
id: plan
namespace: globex
tasks:
  - id: say
    type: log
    message: "globex plan"
triggers:
  - id: hook
    type: webhook
    key: globex-key-0123456789
"""

SLOW = """\
id: slow
namespace: acme.sales
tasks:
  - id: tick
    type: shell
    commands:
      - "for i in $(seq 1 200); do echo tick $i; sleep 0.1; done"
"""


def _wait(api: httpx.Client, execution_id: str, headers: dict[str, str], *states: str) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body = api.get(f"/executions/{execution_id}", headers=headers).json()
        if body["state"] in states:
            return body
        time.sleep(0.1)
    raise AssertionError(f"{execution_id} never reached {states}: {body['state']}")


def _browser(api: httpx.Client, username: str, password: str = PASSWORD) -> httpx.Client:
    """A client that signed in like the studio's form does: it holds the session cookie."""
    client = httpx.Client(base_url=api.base_url, timeout=60)
    signed_in = client.post("/auth/login", json={"username": username, "password": password})
    assert signed_in.status_code == 200, signed_in.text
    return client


def _bearer(api: httpx.Client, username: str, password: str = PASSWORD) -> dict[str, str]:
    browser = _browser(api, username, password)
    token = browser.post("/tokens", json={"name": "tests"}).json()["token"]
    browser.close()
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def teams(api: httpx.Client) -> dict:
    """Flows, executions, variables and secrets in two teams' namespaces, and people with their roles."""
    created = api.post("/auth/setup", json={"username": "root", "password": PASSWORD})
    assert created.status_code == 201, created.text
    api.cookies.clear()
    root = _bearer(api, "root")
    for text in (REPORT, PLAN, SLOW):
        assert api.post("/flows", content=text, headers={**YAML, **root}).status_code == 200
    runs = {}
    for namespace, flow in (("acme.sales", "report"), ("globex", "plan")):
        started = api.post(f"/executions/trigger/{namespace}/{flow}", headers=root, json={})
        assert started.status_code == 201, started.text
        runs[namespace] = _wait(api, started.json()["id"], root, "SUCCESS")["id"]
    for namespace in ("acme.sales", "globex"):
        assert api.put(f"/namespaces/{namespace}/variables/region", json={"value": "eu"}, headers=root).is_success
        assert api.put(f"/namespaces/{namespace}/secrets/TOKEN", json={"value": "s3cr3t"}, headers=root).is_success
    roles = {"vera": ("acme", "viewer"), "opal": ("acme", "operator"), "eddy": ("acme.sales", "editor"),
             "ada": ("acme", "admin"), "otto": None}  # fmt: skip
    people = {"root": root}
    for name, grant in roles.items():
        assert api.post("/users", json={"username": name, "password": PASSWORD}, headers=root).status_code == 201
        if grant:
            namespace, role = grant
            assert api.put(f"/namespaces/{namespace}/members/{name}", json={"role": role}, headers=root).is_success
        people[name] = _bearer(api, name)
    return {"people": people, "runs": runs}


# What a person reads about acme.sales, each a (path, query) the outsider must not see.
READS = [
    "/flows/acme.sales/report",
    "/flows/acme.sales/report/revisions",
    "/flows/acme.sales/report/revisions/1",
    "/flows/acme.sales/report/graph",
    "/namespaces/acme.sales/variables",
    "/namespaces/acme.sales/secrets",
    "/namespaces/acme.sales/members",
]


def test_an_outsider_sees_nothing_of_a_namespace_and_cannot_tell_it_exists(api, teams):
    otto, acme_run = teams["people"]["otto"], teams["runs"]["acme.sales"]
    for path in READS:
        answer = api.get(path, headers=otto)
        assert answer.status_code == 404, (path, answer.text)
    # The same words as for a flow that does not exist: nothing tells that acme.sales/report is there.
    assert api.get("/flows/acme.sales/report", headers=otto).json() == {"message": "no flow acme.sales/report"}
    assert api.get("/flows/acme.sales/nothing", headers=teams["people"]["root"]).json() == {
        "message": "no flow acme.sales/nothing"
    }
    for path in (f"/executions/{acme_run}", f"/logs/{acme_run}", f"/logs/{acme_run}/download"):
        assert api.get(path, headers=otto).status_code == 404, path
    assert api.get(f"/executions/{acme_run}/follow", headers=otto).status_code == 404
    alone = api.get(f"/executions/{acme_run}", params={"taskRuns": "false"}, headers=otto)
    assert alone.status_code == 404 and alone.json() == {"message": f"no execution {acme_run}"}
    # Lists, searches and counts: empty, not filtered after the fact.
    assert api.get("/flows", headers=otto).json()["total"] == 0
    assert api.get("/flows", params={"q": "report"}, headers=otto).json()["results"] == []
    assert api.get("/executions", headers=otto).json()["total"] == 0
    assert api.get("/executions", params={"q": acme_run[:8]}, headers=otto).json()["total"] == 0
    assert api.get("/namespaces", headers=otto).json() == []
    assert api.get("/triggers", headers=otto).json() == []
    # And nothing can be done there.
    changes = [
        ("post", "/executions/trigger/acme.sales/report", {"json": {}}),
        ("put", "/flows/acme.sales/report", {"content": REPORT, "headers": YAML}),
        ("post", "/flows", {"content": REPORT, "headers": YAML}),
        ("delete", "/flows/acme.sales/report", {}),
        ("post", f"/executions/{acme_run}/restart", {}),
        ("delete", f"/executions/{acme_run}", {}),
        ("post", "/triggers/acme.sales/report/nightly/disable", {}),
        ("put", "/namespaces/acme.sales/variables/region", {"json": {"value": "us"}}),
        ("put", "/namespaces/acme.sales/secrets/TOKEN", {"json": {"value": "stolen"}}),
        ("put", "/namespaces/acme/members/otto", {"json": {"role": "admin"}}),
    ]
    for method, path, options in changes:
        headers = {**options.pop("headers", {}), **otto}
        answer = api.request(method, path, headers=headers, **options)
        assert answer.status_code == 404, (method, path, answer.status_code, answer.text)
    assert api.get("/audit", params={"namespace": "acme"}, headers=otto).status_code == 404


def test_a_viewer_reads_everything_of_the_namespace_and_changes_nothing(api, teams):
    vera, acme_run, globex_run = teams["people"]["vera"], teams["runs"]["acme.sales"], teams["runs"]["globex"]
    for path in READS:
        assert api.get(path, headers=vera).status_code == 200, path
    execution = api.get(f"/executions/{acme_run}", headers=vera).json()
    assert execution["taskRuns"][1]["outputs"] == {"value": "acme-output"}
    assert any("sales report" in line["message"] for line in api.get(f"/logs/{acme_run}", headers=vera).json())
    assert api.get("/namespaces/acme.sales/secrets", headers=vera).json() == ["TOKEN"]  # names, never values
    # Only acme's things, everywhere a list or a count is shown.
    assert {f["namespace"] for f in api.get("/flows", headers=vera).json()["results"]} == {"acme.sales"}
    assert {e["id"] for e in api.get("/executions", headers=vera).json()["results"]} == {acme_run}
    assert api.get("/namespaces", headers=vera).json() == [
        {"name": "acme", "flows": 0, "executions": 0},  # granted on, so it exists
        {"name": "acme.sales", "flows": 2, "executions": 1},
    ]
    assert {t["flowId"] for t in api.get("/triggers", headers=vera).json()} == {"report"}
    assert api.get(f"/executions/{globex_run}", headers=vera).status_code == 404
    refused = [
        ("post", "/executions/trigger/acme.sales/report", {"json": {}}),
        ("put", "/flows/acme.sales/report", {"content": REPORT, "headers": YAML}),
        ("delete", "/flows/acme.sales/report", {}),
        ("post", f"/executions/{acme_run}/restart", {}),
        ("post", f"/executions/{acme_run}/kill", {}),
        ("delete", f"/executions/{acme_run}", {}),
        ("post", "/triggers/acme.sales/report/nightly/disable", {}),
        ("put", "/namespaces/acme.sales/variables/region", {"json": {"value": "us"}}),
        ("put", "/namespaces/acme.sales/secrets/TOKEN", {"json": {"value": "x"}}),
        ("put", "/namespaces/acme/members/otto", {"json": {"role": "viewer"}}),
    ]
    for method, path, options in refused:
        headers = {**options.pop("headers", {}), **vera}
        answer = api.request(method, path, headers=headers, **options)
        assert answer.status_code == 403, (method, path, answer.status_code, answer.text)
        assert "needs the" in answer.json()["message"]
    assert api.get("/audit", params={"namespace": "acme"}, headers=vera).status_code == 403


def test_each_role_adds_exactly_its_rights(api, teams):
    people, acme_run = teams["people"], teams["runs"]["acme.sales"]
    opal, eddy, ada = people["opal"], people["eddy"], people["ada"]
    started = api.post("/executions/trigger/acme.sales/report", json={}, headers=opal)
    assert started.status_code == 201 and started.json()["trigger"]["actor"] == "opal"
    assert api.post(f"/executions/{acme_run}/replay", params={"taskId": "value"}, headers=opal).status_code == 201
    assert api.put("/flows/acme.sales/report", content=REPORT + "\n", headers={**YAML, **opal}).status_code == 403
    # eddy edits acme.sales (his grant) but cannot even see acme's other namespaces' members or variables.
    assert api.put("/flows/acme.sales/report", content=REPORT + "\n", headers={**YAML, **eddy}).status_code == 200
    assert api.post("/triggers/acme.sales/report/nightly/disable", headers=eddy).status_code == 204
    assert api.put("/namespaces/acme.sales/variables/region", json={"value": "us"}, headers=eddy).status_code == 403
    assert api.get("/namespaces/acme/members", headers=eddy).status_code == 404
    assert api.put("/flows/globex/plan", content=PLAN, headers={**YAML, **eddy}).status_code == 404
    # ada administers acme and all below it, and nothing of globex.
    assert api.put("/namespaces/acme.sales/variables/region", json={"value": "us"}, headers=ada).status_code == 204
    bad_name = api.put("/namespaces/acme.sales/variables/two%20words", json={"value": "us"}, headers=ada)
    assert bad_name.status_code == 422 and "is not a variable name" in bad_name.text
    assert api.put("/namespaces/acme.sales/members/otto", json={"role": "viewer"}, headers=ada).status_code == 204
    assert api.get("/flows/acme.sales/report", headers=people["otto"]).status_code == 200  # now he may
    trail = api.get("/audit", params={"namespace": "acme"}, headers=ada).json()
    assert trail and all(e["namespace"].startswith("acme") for e in trail)
    assert {"actor": "eddy", "action": "deployed"} in [{"actor": e["actor"], "action": e["action"]} for e in trail]
    assert api.get("/audit", params={"namespace": "globex"}, headers=ada).status_code == 404
    assert api.get("/audit", headers=ada).status_code == 403  # the whole trail: global administrators only
    assert api.get("/users", headers=ada).status_code == 403
    assert api.put("/namespaces/globex/members/ada", json={"role": "admin"}, headers=ada).status_code == 404


def test_a_live_stream_ends_when_access_is_taken_away(api, teams):
    people = teams["people"]
    started = api.post("/executions/trigger/acme.sales/slow", json={}, headers=people["root"]).json()["id"]
    seen: list[str] = []
    began = time.monotonic()
    with api.stream("GET", f"/executions/{started}/follow", headers=people["vera"]) as stream:
        for line in stream.iter_lines():
            seen.append(line)
            if line.startswith("event:") and "revoked" not in seen:  # vera is watching: take her role away
                assert api.delete("/namespaces/acme/members/vera", headers=people["root"]).status_code == 204
                seen.append("revoked")
                revoked_at = time.monotonic()
            if line.startswith("event: error") or line.startswith("event: end"):
                break
    assert "revoked" in seen and seen[-1] == "event: error", seen[-5:]
    assert time.monotonic() - revoked_at < 8, "the stream went on for too long after the role was removed"
    assert time.monotonic() - began < 15  # it ended before the flow did
    api.post(f"/executions/{started}/kill", headers=people["root"])


def test_webhooks_start_only_their_flow_and_need_their_key(api, teams):
    root = teams["people"]["root"]
    wrong_key = api.post("/webhooks/acme.sales/report/globex-key-0123456789", json={"id": 1})
    assert wrong_key.status_code == 404 and wrong_key.json() == {"message": "no webhook at this address"}
    started = api.post("/webhooks/acme.sales/report/acme-key-0123456789", json={"id": 1})
    assert started.status_code == 201, started.text
    assert (started.json()["namespace"], started.json()["flowId"]) == ("acme.sales", "report")
    assert api.get("/executions", params={"namespace": "globex"}, headers=root).json()["total"] == 1


def test_tokens_sessions_and_links_grant_nothing_once_revoked(api, teams):
    people = teams["people"]
    assert api.get("/flows").status_code == 401  # sign-in is on once a user exists
    with session_scope(api.cluster.db) as session:  # a real share link of acme.sales/report: no key to the API
        _, link = share_links.create_share_link(
            session, ShareKind.FLOW, "acme.sales", "report", created_by="root", expires_at=None
        )
    assert api.get("/flows/acme.sales/report", headers={"Authorization": f"Bearer {link}"}).status_code == 401
    with httpx.Client(base_url=api.base_url, cookies={COOKIE_NAME: link}) as visitor:
        assert visitor.get("/flows/acme.sales/report").status_code == 401
    vera_token = people["vera"]["Authorization"].split()[1]
    browser = _browser(api, "vera")
    own = browser.get("/tokens").json()
    assert len(own) == 1 and own[0].get("token") is None  # never shown again
    assert api.delete(f"/tokens/{own[0]['id']}", headers=people["otto"]).status_code == 404  # not his
    assert browser.delete(f"/tokens/{own[0]['id']}").status_code == 204
    assert api.get("/flows", headers={"Authorization": f"Bearer {vera_token}"}).status_code == 401
    # A signed-out cookie is dead on the server, not only forgotten by the browser.
    cookie = dict(browser.cookies)
    assert browser.get("/auth/me").json()["username"] == "vera"
    browser.post("/auth/logout", headers={"content-type": "application/json"})
    browser.close()
    with httpx.Client(base_url=api.base_url, cookies=cookie) as stolen:
        assert stolen.get("/auth/me").status_code == 401


def test_sign_in_cookie_rate_limit_and_setup(api, teams):
    answer = httpx.post(api.base_url.join("auth/login"), json={"username": "vera", "password": PASSWORD})
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "max-age=43200" in cookie and "path=/" in cookie
    # A plain HTML form: a redirect to a path of this site only, never to another site.
    form = api.post("/auth/login", data={"username": "vera", "password": PASSWORD, "next": "//evil.example/x"})
    assert form.status_code == 303 and form.headers["location"] == "/"
    api.cookies.clear()  # the form answer signed this client in
    wrong = api.post("/auth/login", data={"username": "vera", "password": "nope", "next": "/flows"})
    assert wrong.status_code == 303 and wrong.headers["location"].startswith("/login?error=wrong%20username")
    for _ in range(4):
        assert api.post("/auth/login", json={"username": "opal", "password": "wrong"}).status_code == 401
    api.post("/auth/login", json={"username": "opal", "password": "wrong"})
    limited = api.post("/auth/login", json={"username": "opal", "password": PASSWORD})
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    assert "too many failed attempts" in limited.json()["message"]
    again = api.post("/auth/setup", json={"username": "mallory", "password": PASSWORD})
    assert again.status_code == 409
    root = teams["people"]["root"]
    failures = [e for e in api.get("/audit", headers=root).json() if e["action"] == "login_failed"]
    assert len(failures) >= 6 and not any(PASSWORD in json.dumps(e) for e in failures)
