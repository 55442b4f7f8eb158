"""What reading a snapshot costs: it runs on every advance and every task run, so it reads a namespace's variables
and secrets only when the flow can use them, and still gives them to every flow that does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import event

from engine.core.expression_context import context_for, flow_reads
from engine.core.expressions import reads_name, render
from engine.services.execution_start import create_execution
from engine.services.flow_deploy import deploy_flow
from engine.services.snapshots import load_snapshot
from engine.store.database import open_database, session_scope
from engine.store.tables import utcnow
from engine.workspace.secrets import set_secret
from engine.workspace.variables import set_variable

PLAIN = "id: plain\nnamespace: acme.sales\ntasks:\n  - {id: r, type: return, value: '{{ inputs | length }}'}\n"
USES = (
    "id: uses\nnamespace: acme.sales\ntasks:\n"
    "  - {id: r, type: return, value: \"{{ vars['region'] }}-{{ secret('TOKEN') }}\"}\n"
)


@pytest.fixture
def database(tmp_path, monkeypatch) -> Iterator:
    monkeypatch.setenv("LANNER_SECRET_KEY", "x" * 43 + "=")
    engine = open_database(f"sqlite:///{tmp_path / 'reads.db'}")
    with session_scope(engine) as session:
        deploy_flow(session, PLAIN)
        deploy_flow(session, USES)
        set_variable(session, "acme", "region", "emea")  # inherited by acme.sales
        set_secret(session, "acme", "TOKEN", "s3cr3t")
    yield engine
    engine.dispose()


def _statements(database) -> list[str]:
    seen: list[str] = []
    event.listen(database, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


def _snapshot(database, flow_id: str):
    with session_scope(database) as session:
        execution_id = create_execution(session, "acme.sales", flow_id).id
    seen = _statements(database)
    with session_scope(database) as session:
        snapshot = load_snapshot(session, execution_id, utcnow())
    return snapshot, seen


def test_a_flow_that_reads_no_variable_and_no_secret_queries_neither(database):
    snapshot, seen = _snapshot(database, "plain")
    render("{{ inputs | length }}", context_for(snapshot))
    assert not [s for s in seen if "namespace_variable" in s or "namespace_secret" in s]
    limits = [s for s in seen if "FROM namespace_settings" in s]
    assert len(limits) == 1  # it waits to start: its namespace's limit of running executions (worker groups)
    assert len(seen) == 3  # the execution, then its task runs, and that limit: nothing else


def test_a_flow_that_reads_them_sees_the_inherited_variable_and_secret(database):
    snapshot, seen = _snapshot(database, "uses")
    assert render("{{ vars['region'] }}-{{ secret('TOKEN') }}", context_for(snapshot)) == "emea-s3cr3t"
    assert any("namespace_secret" in s for s in seen)  # read on first use, after the snapshot's session closed


@pytest.mark.parametrize(
    ("text", "reads"),
    [
        ("{{ vars.x }}", True),
        ("{{ vars['x'] }}", True),
        ("{{ vars | tojson }}", True),
        ("{% set v = vars %}{{ v.x }}", True),
        ({"nested": ["a", "{{ vars.x }}"]}, True),
        ("{{ inputs.vars }}", False),
        ("vars.x", False),  # not an expression
        ("{{ unclosed", False),
    ],
)
def test_reads_name_finds_every_way_to_read_vars(text, reads):
    assert reads_name(text, "vars") is reads


def test_flow_reads_looks_into_every_task_list(database):
    snapshot, _ = _snapshot(database, "uses")
    assert flow_reads(snapshot.flow, "vars") and not flow_reads(snapshot.flow, "outputs")
