"""Who may do what through the studio's flow, editor, namespace and sharing services (the path of every event).

Each person is a real user signed in with a real login session; their principal comes from the session
cookie exactly as ``SessionState.principal()`` reads it. Every refusal below is made by the services, not by
the pages, so these fail if a check is removed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from engine.identity import authz, users
from engine.identity import sessions as login_sessions
from engine.identity.policy import Principal
from engine.identity.sessions import COOKIE_NAME
from engine.services import execution_start
from engine.services.flow_deploy import deploy_flow
from engine.store import executions as execution_store
from engine.store import flows as flow_store
from engine.store.database import session_scope
from engine.store.tables import AuditEvent, FlowRecord, FlowRevision, Membership, ShareLink
from engine.workspace import uploads
from studio import services
from studio.services import access, members, sharing
from studio.services import namespace_settings as settings

HELLO = "id: hello\nnamespace: acme\ntasks:\n  - {id: say, type: log, message: hi}\n"
REPORT = "id: report\nnamespace: acme.sales\ntasks:\n  - {id: say, type: log, message: sales}\n"
HIDDEN = "id: payroll\nnamespace: other\ntasks:\n  - {id: say, type: log, message: private}\n"
PASSWORD = "a long password 123"


@pytest.fixture
def flows(db) -> None:
    """HELLO (two revisions), REPORT and HIDDEN, in the studio's database (``db``)."""
    with session_scope(db) as session:
        for text in (HELLO, REPORT, HIDDEN):
            deploy_flow(session, text, author="test")
        deploy_flow(session, HELLO.replace("hi", "hello"), author="test")  # acme/hello has 2 revisions


class People:
    """Real users, each with a login session; ``as_(name)`` reads their principal from the cookie, afresh."""

    def __init__(self, db) -> None:
        self.db, self.cookies = db, {}

    def add(self, username: str, *grants: tuple[str, str], is_admin: bool = False) -> Principal:
        with session_scope(self.db) as session:
            user = users.create_user(session, username, PASSWORD, actor="test", is_admin=is_admin)
            for namespace, role in grants:
                users.grant(session, user, namespace, role, actor="test")
            _, plain = login_sessions.open_session(session, user)
        self.cookies[username] = f"{COOKIE_NAME}={plain}"
        return self.as_(username)

    def as_(self, username: str) -> Principal:
        return access.principal_from_cookies(self.cookies[username])


@pytest.fixture
def people(db, flows) -> People:
    crowd = People(db)
    crowd.add("root", is_admin=True)
    crowd.add("outsider")
    crowd.add("vera", ("acme", "viewer"))
    crowd.add("otto", ("acme", "operator"))
    crowd.add("edna", ("acme", "editor"))
    crowd.add("ada", ("acme", "admin"))
    return crowd


@pytest.fixture
def running(db, redis_server, monkeypatch):
    """A real Redis for starting runs (after ``db``, which unsets LANNER_REDIS_URL)."""
    monkeypatch.setenv("LANNER_REDIS_URL", redis_server)
    services.connections.cache_clear()
    yield
    services.connections.cache_clear()


def _flows(principal: Principal, namespace: str | None = None) -> set[str]:
    return {f"{f.namespace}/{f.flow_id}" for f in services.list_flows(principal, namespace)}


def _revision(db, namespace: str, flow_id: str) -> int:
    with session_scope(db) as session:
        return flow_store.get_flow(session, namespace, flow_id).revision


def test_lists_and_the_namespace_selector_hold_only_readable_namespaces(db, people):
    outsider, vera, root = people.as_("outsider"), people.as_("vera"), people.as_("root")
    assert services.namespaces(outsider) == [] and _flows(outsider) == set()
    assert services.namespaces(vera) == ["acme", "acme.sales"]  # a grant covers the namespaces below
    assert _flows(vera) == {"acme/hello", "acme.sales/report"}
    assert _flows(vera, "other") == set() and services.list_flows(vera, search="payroll") == []
    assert services.namespaces(root) == ["acme", "acme.sales", "other"]
    assert _flows(root) == {"acme/hello", "acme.sales/report", "other/payroll"}


def test_an_outsider_is_told_nothing_exists(db, people, tmp_path):
    outsider = people.as_("outsider")
    missing = pytest.raises(authz.NotVisible, match="no flow other/nothing")
    with missing:
        services.flow_source(outsider, "other", "nothing")
    refused = [
        lambda: services.flow_source(outsider, "other", "payroll"),
        lambda: services.revisions(outsider, "other", "payroll"),
        lambda: services.revision_source(outsider, "other", "payroll", 1),
        lambda: services.save_flow(outsider, HIDDEN.replace("private", "mine")),
        lambda: services.create_flow(outsider, "other", "new_one"),
        lambda: services.import_flow(outsider, HIDDEN.replace("private", "x").encode(), "payroll.yml"),
        lambda: services.delete_flow(outsider, "other", "payroll"),
        lambda: services.start_run(outsider, "other", "payroll", {}),
        lambda: settings.settings(outsider, "other"),
        lambda: settings.set_variable(outsider, "other", "region", "eu"),
        lambda: settings.set_secret(outsider, "other", "TOKEN", "t0ps3cret"),
        lambda: members.members(outsider, "other"),
        lambda: members.set_role(outsider, "other", "outsider", "admin"),
        lambda: sharing.links(outsider, "flow", "other", "payroll"),
        lambda: sharing.create_link(outsider, "flow", "other", "payroll", days=1),
    ]
    for call in refused:
        with pytest.raises(authz.NotVisible):
            call()
    assert _revision(db, "other", "payroll") == 1
    with session_scope(db) as session:
        assert session.exec(select(Membership.namespace).where(Membership.namespace == "other")).all() == []
        assert session.exec(select(ShareLink)).all() == []


def test_a_viewer_reads_but_may_change_nothing(db, people):
    vera = people.as_("vera")
    assert "message: hello" in services.flow_source(vera, "acme", "hello")
    assert [r["revision"] for r in services.revisions(vera, "acme", "hello")] == [2, 1]
    assert "message: hi" in services.revision_source(vera, "acme", "hello", 1)
    with session_scope(db) as session:
        execution = execution_start.create_execution(session, "acme", "hello")
    assert services.run_status(vera, execution.id, 0)["state"] == "CREATED"
    settings.set_variable(people.as_("ada"), "acme", "region", "eu")
    settings.set_secret(people.as_("ada"), "acme", "TOKEN", "t0ps3cret")
    seen = settings.settings(vera, "acme.sales")  # variables and secret NAMES, inherited from acme
    assert [v["name"] for v in seen["variables"]] == ["region"] and [s["name"] for s in seen["secrets"]] == ["TOKEN"]
    assert "t0ps3cret" not in str(seen)
    assert {m["username"] for m in members.members(vera, "acme")} == {"vera", "otto", "edna", "ada"}

    forbidden = [
        lambda: services.save_flow(vera, HELLO.replace("hi", "changed")),
        lambda: services.create_flow(vera, "acme", "new_one"),
        lambda: services.import_flow(vera, HELLO.replace("hi", "imported").encode(), "hello.yml"),
        lambda: services.delete_flow(vera, "acme", "hello"),
        lambda: services.start_run(vera, "acme", "hello", {}),
        lambda: services.kill_run(vera, execution.id),
        lambda: sharing.create_link(vera, "flow", "acme", "hello", days=1),
        lambda: sharing.links(vera, "flow", "acme", "hello"),
        lambda: settings.set_variable(vera, "acme", "region", "us"),
        lambda: settings.delete_variable(vera, "acme", "region"),
        lambda: settings.set_secret(vera, "acme", "TOKEN", "mine"),
        lambda: settings.delete_secret(vera, "acme", "TOKEN"),
        lambda: members.set_role(vera, "acme", "vera", "admin"),
        lambda: members.set_role(vera, "acme", "outsider", "viewer"),
        lambda: members.remove(vera, "acme", "edna"),
    ]
    for call in forbidden:
        with pytest.raises(authz.Forbidden):
            call()
    assert _revision(db, "acme", "hello") == 2 and _flows(vera) == {"acme/hello", "acme.sales/report"}
    assert settings.settings(vera, "acme")["variables"][0]["value"] == "eu"
    assert people.as_("vera").memberships == {"acme": "viewer"} and services.namespaces(people.as_("outsider")) == []
    with session_scope(db) as session:
        assert session.get(execution_store.Execution, execution.id).state == "CREATED"


def test_an_editor_saves_creates_imports_deletes_and_shares_in_their_namespace_only(db, people):
    edna = people.as_("edna")
    assert services.save_flow(edna, HELLO.replace("hi", "edited")).startswith("updated acme/hello: revision 2 -> 3")
    services.create_flow(edna, "acme.sales", "fresh")
    assert services.import_flow(edna, REPORT.replace("message: sales", "message: imported").encode(), "r.yml")[:2] == (
        "acme.sales",
        "report",
    )
    services.delete_flow(edna, "acme.sales", "fresh")
    assert _flows(edna) == {"acme/hello", "acme.sales/report"}
    with session_scope(db) as session:
        authors = set(session.exec(select(FlowRevision.author).where(FlowRevision.namespace.startswith("acme"))))
        assert authors == {"test", "edna"}
        assert session.get(FlowRecord, ("acme.sales", "fresh")).deleted
    # The namespace the text declares is the one checked: renaming a flow into another namespace is refused.
    with pytest.raises(authz.NotVisible):
        services.save_flow(edna, HELLO.replace("namespace: acme", "namespace: other"))
    with pytest.raises(authz.NotVisible):
        services.create_flow(edna, "elsewhere", "x")
    assert _revision(db, "other", "payroll") == 1

    path, row = sharing.create_link(edna, "flow", "acme", "hello", days=2)
    assert [r["id"] for r in sharing.links(edna, "flow", "acme", "hello")] == [row["id"]]
    sharing.revoke(edna, row["id"])
    assert sharing.shared_view(path.removeprefix("/share/")) is None
    _, foreign = sharing.create_link(people.as_("root"), "flow", "other", "payroll", days=2)
    with pytest.raises(authz.NotVisible):
        sharing.revoke(edna, foreign["id"])  # a link of a namespace they cannot see reads as unknown
    with pytest.raises(authz.Forbidden):
        sharing.revoke(people.as_("vera"), row["id"])
    with pytest.raises(authz.Forbidden):  # variables and secrets are the admins' call
        settings.set_variable(edna, "acme", "region", "us")
    with pytest.raises(authz.Forbidden):
        members.set_role(edna, "acme", "outsider", "viewer")
    with session_scope(db) as session:
        events = set(session.exec(select(AuditEvent.actor, AuditEvent.action).where(AuditEvent.namespace == "acme")))
        assert {("edna", "deployed"), ("edna", "shared"), ("edna", "unshared")} <= events
        assert session.get(ShareLink, foreign["id"]).revoked_at is None


def test_running_needs_the_operator_role(db, people, running):
    otto, vera, outsider = people.as_("otto"), people.as_("vera"), people.as_("outsider")
    with pytest.raises(authz.Forbidden):
        services.start_run(vera, "acme", "hello", {})
    execution_id = services.start_run(otto, "acme", "hello", {})
    with session_scope(db) as session:
        execution = execution_store.get_execution(session, execution_id)
        assert execution.trigger == {"type": "studio", "actor": "otto"}
        ran = select(AuditEvent.actor).where(AuditEvent.action == "ran", AuditEvent.target_id == execution_id)
        assert session.exec(ran).all() == ["otto"]
    assert services.run_status(vera, execution_id, 0)["state"] == "CREATED"
    with pytest.raises(authz.NotVisible, match=f"no execution {execution_id}"):
        services.run_status(outsider, execution_id, 0)
    with pytest.raises(authz.NotVisible):
        services.kill_run(outsider, execution_id)
    with pytest.raises(authz.Forbidden):
        services.kill_run(vera, execution_id)
    services.kill_run(otto, execution_id)
    assert services.run_status(otto, execution_id, 0)["state"] == "KILLED"
    with pytest.raises(authz.NotVisible):
        services.start_run(otto, "other", "payroll", {})


def test_a_file_for_a_run_is_stored_for_the_flow_by_those_who_may_run_it(db, people, tmp_path):
    """The studio's Run dialog keeps a chosen file as the API keeps an upload: the FILE value the server accepts."""
    otto, vera, outsider = people.as_("otto"), people.as_("vera"), people.as_("outsider")
    path = services.store_run_file(otto, "acme", "hello", "data", "../../x.csv", b"a,b\n")
    assert Path(path).read_bytes() == b"a,b\n" and Path(path).name == "x.csv"  # its base name, never a path
    assert uploads.accept_uploads(tmp_path, "acme", "hello")(path) == path
    with pytest.raises(authz.Forbidden):
        services.store_run_file(vera, "acme", "hello", "data", "x.csv", b"a,b\n")
    with pytest.raises(authz.NotVisible):
        services.store_run_file(outsider, "other", "payroll", "data", "x.csv", b"a,b\n")
    with pytest.raises(uploads.UploadRefused, match="larger than 50 MiB"):
        services.store_run_file(otto, "acme", "hello", "data", "big", bytes(uploads.MAX_UPLOAD_BYTES + 1))
    assert [p.parent for p in (tmp_path / "uploads").rglob("*") if p.is_file()] == [Path(path).parent]


def test_a_namespace_admin_manages_variables_secrets_and_members(db, people):
    ada = people.as_("ada")
    settings.set_variable(ada, "acme", "region", "eu")
    settings.set_secret(ada, "acme", "TOKEN", "t0ps3cret")
    settings.delete_variable(ada, "acme", "region")
    assert settings.settings(ada, "acme") == {
        "variables": [],
        "secrets": [{"name": "TOKEN", "origin": "acme", "own": True}],
    }

    members.set_role(ada, "acme.sales", "outsider", "viewer")  # invite
    assert services.namespaces(people.as_("outsider")) == ["acme.sales"]
    assert _flows(people.as_("outsider")) == {"acme.sales/report"}
    listed = members.members(people.as_("outsider"), "acme.sales")  # the new member sees who else is here
    assert listed[0] == {"username": "outsider", "role": "viewer", "origin": "acme.sales", "own": True}
    assert {(m["username"], m["role"], m["origin"], m["own"]) for m in listed[1:]} == {
        ("vera", "viewer", "acme", False),
        ("otto", "operator", "acme", False),
        ("edna", "editor", "acme", False),
        ("ada", "admin", "acme", False),
    }
    members.set_role(ada, "acme.sales", "outsider", "editor")  # change the role
    services.save_flow(people.as_("outsider"), REPORT.replace("message: sales", "message: by outsider"))
    members.remove(ada, "acme.sales", "outsider")
    assert services.namespaces(people.as_("outsider")) == []
    with pytest.raises(authz.NotVisible):
        services.flow_source(people.as_("outsider"), "acme.sales", "report")

    with pytest.raises(users.UserError, match="no user nobody"):
        members.set_role(ada, "acme", "nobody", "viewer")
    with pytest.raises(users.UserError, match="not a role"):
        members.set_role(ada, "acme", "vera", "owner")
    with pytest.raises(users.UserError, match=r"no role on acme\.sales"):
        members.remove(ada, "acme.sales", "vera")  # her grant is on acme: changed there, not here
    with pytest.raises(authz.NotVisible):
        members.set_role(ada, "other", "ada", "admin")  # an admin of acme is nobody in other
    with session_scope(db) as session:
        changes = session.exec(
            select(AuditEvent.actor).where(AuditEvent.target_kind == "user", AuditEvent.namespace == "acme.sales")
        ).all()
        assert changes == ["ada", "ada", "ada"]
        secret_actor = session.exec(select(AuditEvent.actor).where(AuditEvent.target_kind == "secret")).all()
        assert secret_actor == ["ada"]
