"""What reading a snapshot costs: it runs on every advance and every task run, so it reads a namespace's variables
and secrets only when the flow can use them, and still gives them to every flow that does."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import event

from engine.core.expression_context import context_for, flow_reads
from engine.core.expressions import reads_name, render
from engine.core.snapshot import RunView
from engine.core.states import State
from engine.services.execution_start import create_execution
from engine.services.flow_deploy import deploy_flow
from engine.services.snapshots import SettledRuns, load_snapshot
from engine.store.database import open_database, session_scope
from engine.store.executions import add_task_runs, change_task_run
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


CHAIN = "id: chain\nnamespace: acme.sales\ntasks:\n" + "".join(
    f"  - {{id: t{i}, type: return, value: {i}}}\n" for i in range(6)
)


def _finish(database, execution_id: str, count: int, state: str = "SUCCESS") -> list[str]:
    """Write ``count`` runs of the chain's tasks in ``state``, as workers would have left them."""
    with session_scope(database) as session:
        snapshot = load_snapshot(session, execution_id, utcnow())
        ids = [str(uuid.uuid4()) for _ in range(count)]
        add_task_runs(
            session,
            [
                dict(id=run_id, execution_id=execution_id, namespace="acme.sales", flow_id="chain", task_id=f"t{i}",
                     parent_task_run_id=None, iteration=None, kind="worker", attempt_count=1,
                     created_at=utcnow(), value=None, worker_group=None, retryable=True, secret_outputs=None,
                     metrics=None, duration_ms=None, state=state, outputs={"value": i}, error=None,
                     started_at=None, ended_at=None, next_attempt_at=None)
                for i, run_id in enumerate(ids, start=len(snapshot.runs))
            ],
        )  # fmt: skip
    return ids


def test_a_snapshot_reads_again_only_the_runs_that_have_not_settled(database):
    with session_scope(database) as session:
        deploy_flow(session, CHAIN)
        execution_id = create_execution(session, "acme.sales", "chain").id
    done = _finish(database, execution_id, 4)
    failed = _finish(database, execution_id, 1, state="FAILED")
    settled = SettledRuns()
    with session_scope(database) as session:
        first = load_snapshot(session, execution_id, utcnow(), settled=settled)
    assert list(first.runs) == done + failed
    seen = _statements(database)
    with session_scope(database) as session:
        second = load_snapshot(session, execution_id, utcnow(), settled=settled)
    rows_read = [s for s in seen if "FROM task_run" in s and "task_run.outputs" in s]
    assert len(rows_read) == 1 and "task_run.id IN" in rows_read[0]  # the failed run's row, not the settled ones
    assert all(second.runs[run_id] is first.runs[run_id] for run_id in done)  # kept, shared, never re-read
    assert second.runs[failed[0]] is not first.runs[failed[0]]
    # A FAILED run may change (a retry, a restart): the next snapshot sees it as it is now.
    with session_scope(database) as session:
        change_task_run(session, failed[0], {"state": "QUEUED", "error": None})
    with session_scope(database) as session:
        third = load_snapshot(session, execution_id, utcnow(), settled=settled)
    assert third.runs[failed[0]].state == State.QUEUED and list(third.runs) == done + failed


def test_settled_runs_are_kept_within_a_budget_and_never_with_secret_outputs():
    keeper = SettledRuns(budget_bytes=8 * 1_030)  # eight small views (about 1,000 bytes each)
    plain = [RunView(id=f"r{i}", task_id=f"t{i}", state=State.SUCCESS, outputs={"value": i}) for i in range(9)]
    for view in plain[:8]:
        keeper.keep(view)
    assert keeper.get("r0") is plain[0]  # used: the least recently used is now r1
    keeper.keep(plain[8])
    assert keeper.get("r1") is None and keeper.get("r0") is plain[0] and keeper.get("r8") is plain[8]
    assert keeper.held_bytes <= keeper.budget_bytes
    huge = RunView(id="h", task_id="h", state=State.SUCCESS, outputs={"text": "x" * 1_200})
    keeper.keep(huge)  # over an eighth of the budget: read again each time rather than push the others out
    assert keeper.get("h") is None and keeper.get("r8") is plain[8]
    sealed = RunView(id="s", task_id="p", state=State.SUCCESS, secret_outputs={"resumed": lambda: {}})
    keeper.keep(sealed)  # a key rotation seals its outputs again: never kept
    keeper.keep(RunView(id="q", task_id="q", state=State.QUEUED))  # may change: never kept
    assert keeper.get("s") is None and keeper.get("q") is None
