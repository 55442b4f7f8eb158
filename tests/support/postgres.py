"""The PostgreSQL server the tests use when it is reachable (CI has one; a laptop without it skips those cases)."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import sqlalchemy
from sqlalchemy import Engine

POSTGRES_URL = os.environ.get("LANNER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def postgres_admin() -> Engine | None:
    """An autocommit connection pool to the server (to create and drop databases), or None when unreachable."""
    try:
        engine = sqlalchemy.create_engine(
            POSTGRES_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
        )
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text("SELECT 1"))
        return engine
    except Exception:
        return None


@contextlib.contextmanager
def throwaway_database(admin: Engine, options: str = "") -> Iterator[str]:
    """A new, empty database on the server (created with ``options``), its URL, dropped afterwards."""
    name = f"lanner_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}" {options}'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
