"""``lanner`` prints an execution the same whether it read it from the local database or from a server's API."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from engine.api.routes.executions import execution_out
from engine.cli import main
from engine.cli.output import ExecutionView, print_execution, print_execution_row, run_document
from engine.services import executions as execution_service
from engine.store import executions as store
from engine.store.database import session_scope
from tests.support.ids import unique

pytestmark = pytest.mark.slow


def _ended(cluster, namespace: str) -> str:
    execution_id = cluster.run(
        f"id: {unique()}\nnamespace: {namespace}\n"
        "tasks:\n  - {id: a, type: return, value: 7}\n  - {id: b, type: fail, message: no luck}\n"
    )
    cluster.wait(execution_id)
    return execution_id


def test_the_database_and_the_api_give_the_same_document_and_the_same_lines(cluster, capsys):
    execution_id = _ended(cluster, "cli")
    with session_scope(cluster.db) as session:
        row, runs = store.get_execution(session, execution_id), store.task_runs(session, execution_id)
    local = ExecutionView.from_row(row, runs)
    served = execution_out(execution_service.read(cluster.db, execution_id))  # what the API sends
    remote = ExecutionView.from_api(served.model_dump(by_alias=True, mode="json"))
    assert run_document(local) == run_document(remote)
    assert {r["taskId"]: r["outputs"] for r in run_document(local)["taskRuns"]} == {"a": {"value": 7}, "b": {}}
    for printer in (print_execution, print_execution_row):
        printer(local)
        from_database = capsys.readouterr().out
        printer(remote)
        assert capsys.readouterr().out == from_database != ""


def test_execution_list_of_a_namespace_includes_those_below_it_as_on_a_server(cluster):
    parent = unique("ns")
    child = f"{parent}.team"
    above, below, elsewhere = _ended(cluster, parent), _ended(cluster, child), _ended(cluster, unique("other"))
    env = {key: cluster.env[key] for key in ("LANNER_HOME", "LANNER_DATABASE_URL", "LANNER_REDIS_URL")}
    listed = CliRunner().invoke(main, ["execution", "list", "--namespace", parent], env={**env, "LANNER_SERVER": ""})
    assert listed.exit_code == 0, listed.output
    shown = [line.split()[0] for line in listed.output.splitlines()]
    assert shown == [below, above] and elsewhere not in shown
