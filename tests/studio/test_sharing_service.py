"""The sharing service against a real (temporary) database, without a browser."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.identity import authz, share_links
from engine.services import execution_start
from engine.services.flow_deploy import deploy_flow
from engine.store.database import session_scope
from engine.store.logs import write_execution_log
from engine.store.tables import utcnow
from studio.components.share_dialog import ShareLinkRow
from studio.services import sharing

FIRST = "id: shared\nnamespace: share.service\ntasks:\n  - {id: hello, type: log, message: one}\n"
SECOND = FIRST.replace("message: one", "message: two") + "  - {id: bye, type: log, message: bye}\n"
EDITOR = authz.LOCAL  # no user exists here: the local administrator (access is tested in test_access_flows_service)


pytestmark = pytest.mark.usefixtures("deployed")


@pytest.fixture
def deployed(db) -> None:
    """The flow ``share.service/shared`` in two revisions, in the studio's database (``db``)."""
    with session_scope(db) as session:
        deploy_flow(session, FIRST, author="test")
        deploy_flow(session, SECOND, author="test")


def token(path: str) -> str:
    assert path.startswith("/share/lns_")
    return path.removeprefix("/share/")


def test_a_flow_link_shows_the_newest_text_or_its_pinned_revision(db):
    newest, row = sharing.create_link(EDITOR, "flow", "share.service", "shared", days=7)
    pinned, _ = sharing.create_link(EDITOR, "flow", "share.service", "shared", revision=1, days=1)
    view = sharing.shared_view(token(newest))
    assert view["kind"] == "flow" and view["source"] == SECOND and view["revision"] == 2
    assert [n["id"] for n in view["nodes"]] == ["hello", "bye"]
    old = sharing.shared_view(token(pinned))
    assert old["source"] == FIRST and [n["id"] for n in old["nodes"]] == ["hello"]
    assert row["status"] == "active" and token(newest) not in str(row)
    listed = sharing.links(EDITOR, "flow", "share.service", "shared")
    assert [r["status"] for r in listed] == ["active", "active"]
    assert all(token(newest) not in ShareLinkRow.of(r).shown for r in listed)


def test_revoked_expired_unknown_and_out_of_range(db):
    path, row = sharing.create_link(EDITOR, "flow", "share.service", "shared", days=3)
    sharing.revoke(EDITOR, row["id"])
    assert sharing.shared_view(token(path)) is None
    assert sharing.shared_view("lns_nothing") is None and sharing.shared_view("garbage") is None
    with session_scope(db) as session:
        _, plain = share_links.create_share_link(
            session, "flow", "share.service", "shared", created_by="test", expires_at=utcnow() - dt.timedelta(hours=1)
        )
    assert sharing.shared_view(plain) is None
    assert {r["status"] for r in sharing.links(EDITOR, "flow", "share.service", "shared")} == {"revoked", "expired"}
    for days in (0, 366):
        with pytest.raises(ValueError, match="1 to 365"):
            sharing.create_link(EDITOR, "flow", "share.service", "shared", days=days)
    with pytest.raises(LookupError):
        sharing.create_link(EDITOR, "flow", "share.service", "missing", days=1)


def test_an_execution_link_shows_states_and_logs_only(db):
    with session_scope(db) as session:
        execution = execution_start.create_execution(session, "share.service", "shared")
        write_execution_log(session, execution, "INFO", "a line for the visitor")
    path, _ = sharing.create_link(EDITOR, "execution", "share.service", execution.id, days=1)
    view = sharing.shared_view(token(path))
    assert view["kind"] == "execution" and view["state"] == "CREATED" and view["flow"] == "shared"
    assert [n["id"] for n in view["nodes"]] == ["hello", "bye"]
    assert any("a line for the visitor" in line["message"] for line in view["logs"])
    assert all("id" not in line for line in view["logs"])
    assert not {"inputs", "outputs", "trigger", "id"} & set(view)
    with pytest.raises(LookupError):
        sharing.create_link(EDITOR, "execution", "elsewhere", execution.id, days=1)
