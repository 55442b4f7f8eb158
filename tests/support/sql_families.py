"""A private, empty database of each SQL family for connector tests: PostgreSQL and MariaDB on this machine's
servers (a database created for the test module, dropped after it), SQLite and DuckDB files."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy

from tests.support.postgres import postgres_admin

MARIADB_URL = os.environ.get("LANNER_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
FAMILIES = ("postgresql", "mysql", "sqlite", "duckdb")


def mariadb_admin() -> sqlalchemy.Engine | None:
    """An autocommit engine on the MariaDB server (to create and drop databases), or None when unreachable."""
    try:
        engine = sqlalchemy.create_engine(
            MARIADB_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
        )
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text("SELECT 1"))
        return engine
    except Exception:
        return None


@contextmanager
def family_database(family: str, folder: Path) -> Iterator[str]:
    """The URL of a new empty database of ``family`` (skips the test when its server is not reachable)."""
    if family in ("sqlite", "duckdb"):
        yield f"{family}:///{folder / f'{uuid.uuid4().hex[:8]}.{family}'}"
        return
    admin = postgres_admin() if family == "postgresql" else mariadb_admin()
    if admin is None:
        pytest.skip(f"no {family} server reachable for the test")
    name = f"lanner_t_{uuid.uuid4().hex[:10]}"
    quote = '"' if family == "postgresql" else "`"
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f"CREATE DATABASE {quote}{name}{quote}"))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        drop = f"DROP DATABASE IF EXISTS {quote}{name}{quote}" + (" WITH (FORCE)" if family == "postgresql" else "")
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(drop))
        admin.dispose()
