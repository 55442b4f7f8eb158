"""A refused action on the command line is one ``error:`` line on stderr and exit status 1, never a traceback."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from engine.cli import main
from engine.core.states import State
from engine.store.database import session_scope
from engine.store.tables import Execution
from tests.support.ids import unique


@pytest.fixture
def lanner(cluster_factory):
    """The ``lanner`` command, in this process, on a real database and Redis (no engine process running)."""
    cluster = cluster_factory()
    env = {key: cluster.env[key] for key in ("LANNER_HOME", "LANNER_DATABASE_URL", "LANNER_REDIS_URL")}

    def run(*args: str):
        return CliRunner().invoke(main, list(args), env={**env, "LANNER_SERVER": ""})

    run.cluster = cluster
    return run


def _refused(result, message: str) -> None:
    assert result.exit_code == 1, (result.output, result.exception)
    assert result.stderr == f"error: {message}\n"
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)


def _waiting_for_a_slot(cluster) -> str:
    """An execution QUEUED behind its flow's concurrency limit, as the executor leaves it."""
    execution_id = cluster.run(
        f"id: {unique()}\nnamespace: cli\nconcurrency: {{limit: 1}}\ntasks:\n  - {{id: a, type: return, value: 1}}\n"
    )
    with session_scope(cluster.db) as session:
        session.execute(update(Execution).where(Execution.id == execution_id).values(state=State.QUEUED.value))
    return execution_id


def test_kill_of_a_queued_execution_ends_it_and_a_second_kill_is_refused_in_one_line(lanner):
    execution_id = _waiting_for_a_slot(lanner.cluster)
    killed = lanner("execution", "kill", execution_id)
    assert killed.exit_code == 0, killed.output
    assert lanner.cluster.execution(execution_id).state == State.KILLED.value
    _refused(lanner("execution", "kill", execution_id), f"execution {execution_id} has already ended (KILLED)")
    _refused(lanner("execution", "pause", execution_id), f"execution {execution_id} is KILLED: it cannot be paused")


@pytest.mark.parametrize(
    "args",
    [
        ("execution", "kill", "nope"),
        ("execution", "logs", "nope", "--follow"),
        ("execution", "restart", "nope"),
        ("execution", "show", "nope"),
    ],
    ids=lambda args: "-".join(args[1:]),
)
def test_an_unknown_execution_is_one_error_line(lanner, args):
    _refused(lanner(*args), "no execution nope")
