"""What reading a snapshot costs: it runs on every advance and every task run, so it reads a namespace's variables
and secrets only when the flow can use them, and still gives them to every flow that does."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import event

from engine.core.expression_context import context_for, flow_reads
from engine.core.expressions import reads_name, render
from engine.core.progress import advance
from engine.core.states import State
from engine.services import snapshots
from engine.services.execution_start import create_execution
from engine.services.flow_deploy import deploy_flow
from engine.services.snapshots import SettledRuns, copy_snapshot, load_snapshot, persist
from engine.store.database import open_database, session_scope
from engine.store.executions import add_task_runs, change_task_run, delete_task_runs, task_run_rows
from engine.store.namespace_settings import save_settings
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


T_CREATED = utcnow()
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


def _chain_execution(database) -> str:
    with session_scope(database) as session:
        deploy_flow(session, CHAIN)
        return create_execution(session, "acme.sales", "chain").id


def _read(database, execution_id: str, settled: SettledRuns):
    """A snapshot as the executor reads it, kept (as committed) for the next one."""
    with session_scope(database) as session:
        snapshot = load_snapshot(session, execution_id, utcnow(), settled=settled)
    settled.keep(snapshot)
    return snapshot


def _rows_read(seen: list[str]) -> list[str]:
    return [s for s in seen if "FROM task_run" in s and "task_run.outputs" in s]


def test_a_snapshot_reads_again_only_the_runs_that_have_not_settled(database):
    execution_id = _chain_execution(database)
    done = _finish(database, execution_id, 4)
    failed = _finish(database, execution_id, 1, state="FAILED")
    settled = SettledRuns(advancing=True)
    first = _read(database, execution_id, settled)
    assert list(first.runs) == done + failed
    views = dict(first.runs)  # the next read takes over the runs, and changes them in place
    seen = _statements(database)
    second = _read(database, execution_id, settled)
    (rows_read,) = _rows_read(seen)
    assert "UNION ALL" in rows_read  # the runs not settled (by the index), not the settled rows
    # and how many runs the database counted as created (one primary-key read, not a count of the runs), to know
    # that none was missed
    assert [s for s in seen if "runs_created" in s and "FROM execution" in s] and not [s for s in seen if "count(" in s]
    assert all(second.runs[run_id] is views[run_id] for run_id in done)  # kept, shared, never re-read
    assert second.runs[failed[0]] is views[failed[0]]  # not settled, but unchanged (its version): not read
    # Nothing copied: the dictionaries of the snapshot before are taken over, whatever the execution's length.
    assert second.runs is first.runs and second.scopes is first.scopes
    assert second.settled_prefixes is first.settled_prefixes
    # A FAILED run may change (a retry, a restart): the next snapshot sees it as it is now, then settled.
    with session_scope(database) as session:
        change_task_run(session, failed[0], {"state": "QUEUED", "error": None})
    third = _read(database, execution_id, settled)
    assert third.runs[failed[0]].state == State.QUEUED and list(third.runs) == done + failed
    with session_scope(database) as session:
        change_task_run(session, failed[0], {"state": "SUCCESS", "outputs": {"value": 4}})
    fourth = _read(database, execution_id, settled)
    assert fourth.runs[failed[0]].outputs == {"value": 4} and list(fourth.runs) == done + failed
    assert fourth.settled_prefixes == {} and fourth.scopes[(None, None)]["t4"] is fourth.runs[failed[0]]


def _views_built(monkeypatch) -> list[str]:
    """The ids of the runs whose rows the snapshots read (a view is built from each row read)."""
    built: list[str] = []
    build = snapshots._run_view
    monkeypatch.setattr(snapshots, "_run_view", lambda row: built.append(row.id) or build(row))
    return built


def test_unsettled_runs_are_read_again_only_once_their_row_changed(database, monkeypatch):
    """A flow of many tasks side by side: every advance and every task run read all those still waiting, so its
    cost grew with the square of its width. A run is read again once its version moved: whoever changed it."""
    execution_id = _chain_execution(database)
    waiting = _finish(database, execution_id, 4, state="QUEUED")
    settled = SettledRuns(advancing=True)
    first = _read(database, execution_id, settled)
    views = dict(first.runs)
    built = _views_built(monkeypatch)
    second = _read(database, execution_id, settled)
    assert built == [] and second.runs == views  # none changed: none read
    with session_scope(database) as session:  # the store's own statements raise the version
        change_task_run(session, waiting[0], {"state": "RUNNING"})
    with session_scope(database) as session:  # a change by any other way too (a trigger raises it)
        session.connection().exec_driver_sql(
            "UPDATE task_run SET outputs = '{\"partial\": 1}' WHERE id = ?", (waiting[1],)
        )
    third = _read(database, execution_id, settled)
    assert sorted(built) == sorted(waiting[:2])
    assert third.runs[waiting[0]].state == State.RUNNING and third.runs[waiting[1]].outputs == {"partial": 1}
    assert all(third.runs[run_id] is views[run_id] for run_id in waiting[2:])
    # What an expression or an advance walks sees the runs read again and those kept alike.
    assert {run.id for run in third.settled_outputs.others} == set(waiting)
    assert {run.id for run in third.scopes[(None, None)].values()} == set(waiting)


def test_an_advance_that_changed_runs_and_failed_leaves_what_is_kept_as_the_database_holds_it(database):
    execution_id = _chain_execution(database)
    waiting = _finish(database, execution_id, 2, state="QUEUED")
    settled = SettledRuns(advancing=True)  # the executor's
    _read(database, execution_id, settled)
    with session_scope(database) as session:  # an advance changes the runs it was given, then fails
        snapshot = load_snapshot(session, execution_id, utcnow(), settled=settled)
        snapshot.runs[waiting[0]].state = State.KILLED
        snapshot.runs[waiting[0]].error = "never committed"
    after = _read(database, execution_id, settled)
    assert (after.runs[waiting[0]].state, after.runs[waiting[0]].error) == (State.QUEUED, None)


def test_runs_another_process_created_and_settled_since_are_read(database):
    execution_id = _chain_execution(database)
    done = _finish(database, execution_id, 2)
    settled = SettledRuns()
    first = dict(_read(database, execution_id, settled).runs)  # the next read changes the runs in place
    added = _finish(database, execution_id, 1)  # by the executor, then run by another worker
    seen = _statements(database)
    second = _read(database, execution_id, settled)
    assert list(second.runs) == done + added and second.runs[done[0]] is first[done[0]]
    assert all("UNION ALL" in s for s in _rows_read(seen))  # created since the newest seen: no others
    # One whose creation time is older than the newest seen (another machine's clock behind): the database counted
    # one run created more than the snapshot found, so the execution is read again whole.
    late = _finish(database, execution_id, 1)
    with session_scope(database) as session:
        change_task_run(session, late[0], {"created_at": first[done[0]].created_at})
    seen.clear()
    third = _read(database, execution_id, settled)
    assert set(third.runs) == {*done, *added, *late}
    assert any("UNION ALL" not in s for s in _rows_read(seen))


def test_runs_deleted_since_are_gone_even_when_as_many_have_settled(database):
    execution_id = _chain_execution(database)
    done = _finish(database, execution_id, 3)
    settled = SettledRuns()
    _read(database, execution_id, settled)
    with session_scope(database) as session:
        delete_task_runs(session, done[-1:])  # a restart runs its handlers again, a group's new attempt its tasks
    again = _finish(database, execution_id, 1)  # ...and one settles again: the count is the same as kept
    snapshot = _read(database, execution_id, settled)
    assert list(snapshot.runs) == done[:-1] + again and snapshot.runs_generation == 1


def test_what_is_kept_stays_within_a_budget_and_ended_executions_are_forgotten(database):
    settled = SettledRuns(budget_bytes=8 * 3 * 1_030)  # an eighth: about three small runs per execution
    first, second = _chain_execution(database), _chain_execution(database)
    _finish(database, first, 2)
    _finish(database, second, 2)
    _read(database, first, settled)
    _read(database, second, settled)
    assert settled.held_bytes <= settled.budget_bytes and len(settled._kept) == 2
    _finish(database, first, 2)  # four settled runs: over an eighth of the budget, read whole each time
    _read(database, first, settled)
    assert list(settled._kept) == [second]
    with session_scope(database) as session:
        snapshot = load_snapshot(session, second, utcnow(), settled=settled)
    snapshot.execution.state = State.SUCCESS
    settled.keep(snapshot)
    assert not settled._kept and settled.held_bytes == 0


def test_settled_runs_with_secret_outputs_are_read_each_time(database):
    execution_id = _chain_execution(database)
    (sealed,) = _finish(database, execution_id, 1)
    with session_scope(database) as session:
        change_task_run(session, sealed, {"secret_outputs": {"answer": "sealed-text"}})
    settled = SettledRuns()
    view = _read(database, execution_id, settled).runs[sealed]
    second = _read(database, execution_id, settled)
    assert second.runs[sealed] is not view and second.runs[sealed].secret_outputs


FOREACH = (
    "id: each\nnamespace: acme.sales\ntasks:\n  - {id: first, type: return, value: 1}\n"
    "  - id: loop\n    type: foreach\n    values: [a, b]\n    tasks:\n      - {id: inner, type: return, value: x}\n"
)


def _advance(database, execution_id: str, settled: SettledRuns):
    """One advance, as the executor does it: read, decide, write, commit, keep."""
    with session_scope(database) as session:
        snapshot = load_snapshot(session, execution_id, utcnow(), settled=settled)
        before = copy_snapshot(snapshot)
        persist(session, before, snapshot, advance(snapshot))
    settled.keep(snapshot)  # done with it: the next read takes it over
    return snapshot


def test_advances_and_expressions_see_the_same_from_kept_runs_as_from_all_of_them(database):
    with session_scope(database) as session:
        deploy_flow(session, FOREACH)
        execution_id = create_execution(session, "acme.sales", "each").id
    executor, worker = SettledRuns(advancing=True), SettledRuns()
    for step in range(20):  # first, then the foreach and its iterations' runs, ending one by one
        advanced = _advance(database, execution_id, executor)
        if advanced.execution.state == State.SUCCESS:
            break
        seen = _read(database, execution_id, worker)
        with session_scope(database) as session:
            whole = load_snapshot(session, execution_id, utcnow())
        assert seen.runs == whole.runs  # runs created together (the iterations) come in either order
        assert context_for(seen)["outputs"] == context_for(whole)["outputs"]
        queued = [r for r in whole.runs.values() if r.state == State.QUEUED]
        with session_scope(database) as session:
            change_task_run(session, queued[0].id, {"state": "SUCCESS", "outputs": {"value": f"v{step}"}})
    assert advanced.execution.state == State.SUCCESS and step == 3  # first, then two iterations
    assert context_for(whole)["outputs"]["inner"].keys() == {"a", "b"}


def test_a_read_takes_over_what_was_kept_and_an_advance_that_failed_leaves_nothing_behind(database):
    """Each iteration of a foreach is a task list of its own, and a long flow's top list holds thousands of runs:
    every snapshot used to copy what was kept (the runs, the changed lists), so each advance and each task run cost
    a copy of the whole execution. A read takes over the dictionaries instead; until its snapshot is kept again,
    nothing is kept of the execution, so an advance that changed them and failed is never seen."""
    with session_scope(database) as session:
        deploy_flow(session, FOREACH.replace("values: [a, b]", "values: [a, b, c, d]\n    concurrencyLimit: 0"))
        execution_id = create_execution(session, "acme.sales", "each").id
    executor = SettledRuns(advancing=True)
    _advance(database, execution_id, executor)
    with session_scope(database) as session:
        (first,) = task_run_rows(session, execution_id)
        change_task_run(session, first.id, {"state": "SUCCESS", "outputs": {"value": 1}})
    _advance(database, execution_id, executor)
    for _ in range(10):  # the foreach, then its iterations' runs
        advanced = _advance(database, execution_id, executor)
        if len(advanced.runs) == 6:
            break
    inner = {key: runs for key, runs in advanced.scopes.items() if key[1] is not None}
    assert len(inner) == 4, advanced.scopes
    (key, runs), *_ = sorted(inner.items())
    (run,) = runs.values()
    with session_scope(database) as session:
        change_task_run(session, run.id, {"state": "RUNNING"})
    with session_scope(database) as session:  # an advance changes its snapshot's runs and lists, then fails
        snapshot = load_snapshot(session, execution_id, utcnow(), settled=executor)
        assert snapshot.scopes is advanced.scopes and snapshot.scopes[key] is inner[key]  # taken over, not copied
        assert snapshot.scopes[key]["inner"].state == State.RUNNING  # the run read again, in its list
        assert execution_id not in executor._kept  # while it is out, nothing is kept of the execution
        snapshot.scopes.add(dataclasses.replace(run, id="made-here", task_id="extra"))
        snapshot.runs["made-here"] = snapshot.scopes[key]["extra"]
    seen = _statements(database)
    again = _advance(database, execution_id, executor)
    assert "made-here" not in again.runs and "extra" not in again.scopes[key]
    assert any("FROM task_run" in s and "UNION ALL" not in s for s in _rows_read(seen))  # read whole
    assert again.scopes[key]["inner"].state == State.RUNNING


def test_an_advance_compares_with_copies_of_the_runs_it_may_change_alone(database):
    """``copy_snapshot`` used to copy the dictionary of every run: linear in the execution on each advance."""
    execution_id = _chain_execution(database)
    done = _finish(database, execution_id, 3)
    waiting = _finish(database, execution_id, 1, state="QUEUED")
    executor = SettledRuns(advancing=True)
    _read(database, execution_id, executor)
    with session_scope(database) as session:
        snapshot = load_snapshot(session, execution_id, utcnow(), settled=executor)
    before = copy_snapshot(snapshot)
    assert set(before.runs) == set(waiting) and not set(before.runs) & set(done)
    assert (
        before.runs[waiting[0]] == snapshot.runs[waiting[0]]
        and before.runs[waiting[0]] is not snapshot.runs[waiting[0]]
    )


def test_runs_created_together_are_not_read_again_once_settled(database):
    execution_id = _chain_execution(database)
    together = _finish(database, execution_id, 3)  # a foreach's iterations: created in one advance, at one instant
    with session_scope(database) as session:
        for run_id in together:
            change_task_run(session, run_id, {"created_at": T_CREATED})
    settled = SettledRuns()
    first = dict(_read(database, execution_id, settled).runs)  # the next read changes the runs in place
    second = _read(database, execution_id, settled)
    assert all(second.runs[run_id] is first[run_id] for run_id in together)


def test_the_count_of_runs_created_comes_in_the_statement_reading_the_runs_even_when_none_changed(database):
    execution_id = _chain_execution(database)
    done = _finish(database, execution_id, 2)
    failed = _finish(database, execution_id, 1, state="FAILED")  # not settled: looked at each time
    settled = SettledRuns()
    _read(database, execution_id, settled)
    seen = _statements(database)
    _read(database, execution_id, settled)  # no run changed: none comes back, the count still does
    with session_scope(database) as session:
        change_task_run(session, failed[0], {"state": "SUCCESS"})
    _read(database, execution_id, settled)  # now every run has settled
    _read(database, execution_id, settled)
    assert len(_rows_read(seen)) == 3 and all("runs_created" in s for s in _rows_read(seen))
    assert len([s for s in seen if "FROM task_run" in s or "FROM execution" in s]) == 6  # and 3 execution rows
    # With no run to come back, it still tells a run missed: one settled, created before the newest seen (a clock
    # behind).
    late = _finish(database, execution_id, 1)
    with session_scope(database) as session:
        change_task_run(session, late[0], {"created_at": utcnow().replace(year=2000)})
    snapshot = _read(database, execution_id, settled)
    assert set(snapshot.runs) == {*done, *failed, *late}


def _queued_groups(snapshot) -> list[str | None]:
    return [run.worker_group for run in snapshot.runs.values() if run.state == State.QUEUED]


def test_the_inherited_worker_group_comes_with_the_runs_read_again(database):
    with session_scope(database) as session:
        save_settings(session, "acme", {"worker_group": "plant"}, "ada")
    execution_id, settled = _chain_execution(database), SettledRuns(advancing=True)
    # its first read: every run, then the group by a statement of its own
    assert _queued_groups(_advance(database, execution_id, settled)) == ["plant"]
    _finish_queued(database, execution_id)
    with session_scope(database) as session:
        save_settings(session, "acme.sales", {"worker_group": "sales"}, "ada")  # nearer: it wins from now on
    seen = _statements(database)
    assert _queued_groups(_advance(database, execution_id, settled)) == ["sales"]
    groups_read = [s for s in seen if "namespace_settings.worker_group" in s]
    assert len(groups_read) == 1 and "FROM task_run" in groups_read[0]  # in the statement reading the runs
    _finish_queued(database, execution_id)
    with session_scope(database) as session:
        save_settings(session, "acme.sales", {"worker_group": None}, "ada")
    seen.clear()  # the run the worker ended comes with the group: nothing else is read for it
    assert _queued_groups(_advance(database, execution_id, settled)) == ["plant"]
    assert len([s for s in seen if "namespace_settings" in s]) == 1
    worker = SettledRuns()  # a worker's snapshots need no worker group: theirs go without
    _read(database, execution_id, worker)
    seen.clear()
    _read(database, execution_id, worker)
    assert not [s for s in seen if "namespace_settings" in s]


def _finish_queued(database, execution_id: str) -> None:
    with session_scope(database) as session:
        for run in task_run_rows(session, execution_id):
            if run.state == "QUEUED":
                change_task_run(session, run.id, {"state": "SUCCESS", "outputs": {"value": 1}})
