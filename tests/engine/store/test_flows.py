"""Flow storage on SQLite and PostgreSQL: revisions, byte-for-byte sources, history."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from engine.flows.problems import FlowInvalid
from engine.services.flow_deploy import deploy_flow
from engine.store import flows
from engine.store.database import migrate, session_scope
from engine.store.tables import Namespace

FIRST = (
    "# a comment that must survive\r\nid: sales\nnamespace: acme.sales\n"
    "tasks:\n  - {id: a, type: log, message: 'héllo 👋'}   \n\n"
)
SECOND = FIRST.replace("héllo", "bonjour")


def test_migrations_create_every_table(database):
    names = set(inspect(database).get_table_names())
    assert {
        "namespace",
        "flow",
        "flow_revision",
        "execution",
        "task_run",
        "task_run_attempt",
        "log_line",
        "trigger_state",
        "alembic_version",
    } <= names
    migrate(database)  # a second start applies nothing and does not fail


def test_same_text_twice_makes_one_revision_and_a_change_makes_a_second(database):
    with session_scope(database) as session:
        first = deploy_flow(session, FIRST, author="ana")
    with session_scope(database) as session:
        again = deploy_flow(session, FIRST, author="ana")
    with session_scope(database) as session:
        changed = deploy_flow(session, SECOND, author="bo")
    assert (first.status, first.revision) == (flows.DeployStatus.CREATED, 1)
    assert (again.status, again.revision) == (flows.DeployStatus.UNCHANGED, 1)
    assert (changed.status, changed.revision) == (flows.DeployStatus.UPDATED, 2)
    assert (changed.added_lines, changed.removed_lines) == (1, 1)
    with session_scope(database) as session:
        revisions = flows.list_revisions(session, "acme.sales", "sales")
        assert [r.revision for r in revisions] == [1, 2]
        assert [r.author for r in revisions] == ["ana", "bo"]
        assert flows.get_revision(session, "acme.sales", "sales", 1).source.encode() == FIRST.encode()
        assert flows.get_revision(session, "acme.sales", "sales", 2).source.encode() == SECOND.encode()
        assert flows.get_flow(session, "acme.sales", "sales").source == SECOND


def test_namespaces_and_their_parents_are_created(database):
    with session_scope(database) as session:
        deploy_flow(session, FIRST)
    with session_scope(database) as session:
        assert session.get(Namespace, "acme") is not None and session.get(Namespace, "acme.sales") is not None


def test_invalid_flow_is_refused_and_nothing_is_saved(database):
    with pytest.raises(FlowInvalid), session_scope(database) as session:
        deploy_flow(session, "id: x\nnamespace: n\ntasks:\n  - {id: a, type: nope}\n")
    with session_scope(database) as session:
        assert flows.list_flows(session) == []


def test_list_by_namespace_includes_children_only(database):
    with session_scope(database) as session:
        for namespace in ("acme", "acme.sales", "acme.sales.eu", "acmex", "acme_x"):
            deploy_flow(session, f"id: f\nnamespace: {namespace}\ntasks:\n  - {{id: a, type: log, message: m}}\n")
    with session_scope(database) as session:
        assert [r.namespace for r in flows.list_flows(session, "acme.sales")] == ["acme.sales", "acme.sales.eu"]
        assert [r.namespace for r in flows.list_flows(session, "acme")] == ["acme", "acme.sales", "acme.sales.eu"]
        assert len(flows.list_flows(session)) == 5


def test_delete_keeps_history_and_redeploy_continues_numbering(database):
    with session_scope(database) as session:
        deploy_flow(session, FIRST)
        tombstone = flows.delete_flow(session, "acme.sales", "sales")
    assert tombstone == 2
    with session_scope(database) as session:
        assert flows.list_flows(session) == []
        with pytest.raises(flows.FlowNotFound):
            flows.get_flow(session, "acme.sales", "sales")
        result = deploy_flow(session, FIRST)
    assert (result.status, result.revision) == (flows.DeployStatus.CREATED, 3)
