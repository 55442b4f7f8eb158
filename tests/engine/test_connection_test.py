"""The "Test connection" service against a real PostgreSQL and MariaDB: secrets rendered, passwords never shown."""

from __future__ import annotations

import pytest

from engine.core.errors import InvalidInput
from engine.identity import authz
from engine.services import connection_test, task_defaults, workspaces
from engine.store.database import open_database
from engine.tasks import registry
from tests.support.postgres import postgres_admin

ADMIN = authz.LOCAL


@pytest.fixture
def database_engine(tmp_path, key):
    engine = open_database(f"sqlite:///{tmp_path / 'lanner.database_engine'}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def postgres():
    if postgres_admin() is None:
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")


def test_a_reachable_postgresql_answers_ok_naming_host_and_database(database_engine, postgres):
    workspaces.set_secret(database_engine, ADMIN, "acme", "PG_PASSWORD", "hunter2-secret")
    task = {
        "type": "postgresql.query",
        "connection": {
            "host": "127.0.0.1",
            "database": "test",
            "username": "postgres",
            "password": "{{ secret('PG_PASSWORD') }}",
        },
    }
    result = connection_test.test_connection(database_engine, ADMIN, "acme.sales", task)
    assert result.ok, result.message
    assert "127.0.0.1" in result.message and "/test" in result.message
    assert "hunter2" not in result.message


def test_a_wrong_port_says_why_without_the_password(database_engine, postgres):
    workspaces.set_secret(
        database_engine, ADMIN, "acme", "SHOP_DSN", "postgresql://postgres:hunter2-secret@127.0.0.1:1/test"
    )
    result = connection_test.test_connection(
        database_engine, ADMIN, "acme", {"type": "postgresql.export", "url": "{{ secret('SHOP_DSN') }}"}
    )
    assert not result.ok
    assert "could not connect to" in result.message and "127.0.0.1:1/test" in result.message, result.message
    assert "hunter2" not in result.message


def test_namespace_defaults_fill_the_connection(database_engine, postgres):
    if not registry.get("postgresql.query"):
        pytest.skip("the postgresql.* task types come with the connectors branch")
    text = "- type: postgresql.\n  values:\n    connection: {host: 127.0.0.1, username: postgres}\n"
    task_defaults.set_task_defaults(database_engine, ADMIN, "acme", text)
    partial = {"type": "postgresql.query", "connection": {"database": "test"}}
    assert connection_test.test_connection(database_engine, ADMIN, "acme.sales", partial).ok


def test_mariadb_wrong_password_and_bad_input(database_engine):
    result = connection_test.test_connection(
        database_engine, ADMIN, "acme", {"type": "mysql.query", "url": "mysql://root:wrong-pass@127.0.0.1:1/test"}
    )
    assert not result.ok and "wrong-pass" not in result.message and "127.0.0.1" in result.message
    missing = connection_test.test_connection(database_engine, ADMIN, "acme", {"type": "postgresql.query"})
    assert not missing.ok and "taskDefaults" in missing.message
    unknown = connection_test.test_connection(
        database_engine, ADMIN, "acme", {"type": "sql.query", "url": "{{ secret('NOPE') }}"}
    )
    assert not unknown.ok and "NOPE" in unknown.message
    with pytest.raises(InvalidInput, match="not a database task type"):
        connection_test.test_connection(database_engine, ADMIN, "acme", {"type": "log", "url": "x"})
