"""``lanner`` prints an execution the same whether it read it from the local database or from a server's API."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from engine.api.schemas import ExecutionOut
from engine.cli import main
from engine.cli.output import print_execution, print_execution_row, run_document
from engine.services import executions as execution_service
from engine.services.views import ExecutionView
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
    local = execution_service.read(cluster.db, execution_id)  # what the CLI reads from the local database
    served = ExecutionOut.of_view(local)  # what the API sends
    remote = ExecutionView.model_validate(served.model_dump(by_alias=True, mode="json"))
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
