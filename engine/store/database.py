"""Opening the database: SQLite under LANNER_HOME by default, PostgreSQL when configured; migrated at start."""

from __future__ import annotations

import fcntl
import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, event, text, update
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import ColumnElement, UnaryExpression
from sqlmodel import Session, create_engine

from engine.store import tables

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
_migrated: set[str] = set()
_migrate_lock = threading.Lock()


def unindexed(column: Any) -> ColumnElement[Any]:
    """``+column``: the same value, which SQLite will not look up in an index (so that it walks the one the query
    orders by instead of ranging over this column's and sorting). For SQLite only: ``+`` is no operator on text
    for PostgreSQL."""
    return UnaryExpression(column, operator=operators.custom_op("+"), type_=column.type)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_database_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1] if ":///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@contextmanager
def _exclusive(engine: Engine) -> Iterator[None]:
    """Only one process migrates at a time (a server and its workers often start together)."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(7405123)"))
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(7405123)"))
                connection.commit()
    elif engine.url.database and engine.url.database != ":memory:":
        with open(f"{engine.url.database}.migrate.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield
    else:
        yield


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (idempotent; safe from several processes)."""
    key = engine.url.render_as_string(hide_password=False)
    with _migrate_lock:
        if key in _migrated:
            return
        with _exclusive(engine), engine.begin() as connection:
            config = alembic_config(key)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        _migrated.add(key)


def open_database(url: str) -> Engine:
    engine = create_database_engine(url)
    migrate(engine)
    return engine


# A write that changes nothing: it takes SQLite's one write lock all the same.
_TAKE_WRITE_LOCK = (
    update(tables.NamespaceSettings.__table__).where(tables.NamespaceSettings.namespace == "").values(namespace="")
)


def take_sqlite_write_lock(session: Session) -> None:
    """Take SQLite's one write lock now, held until the transaction ends: what the transaction reads next nobody
    changes meanwhile (a transaction that read first could not write once another had)."""
    session.connection().execute(_TAKE_WRITE_LOCK)


@contextmanager
def session_scope(engine: Engine, *, recoverable: bool = False) -> Iterator[Session]:
    """A session that commits when the block ends cleanly and rolls back otherwise.

    ``recoverable``: the engine redoes this transaction by itself if a crash of the database server loses it (an
    executor's advance: its events are looked at again; a worker's claim: the run is queued again). On PostgreSQL
    its commit then does not wait for the WAL to reach the disk (``synchronous_commit`` off for it alone), as every
    commit on SQLite (WAL with ``synchronous=NORMAL``) already does not; it is still atomic, and seen by everyone at
    once. Never for what such a crash would lose for good: a task's result, its log lines, what people save."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            if recoverable and engine.dialect.name == "postgresql" and session.in_transaction():
                session.execute(text("SET LOCAL synchronous_commit TO OFF"))
            session.commit()
        except BaseException:
            session.rollback()
            raise


def unreachable(engine: Engine) -> str | None:
    """Why the database does not answer ``SELECT 1`` (the driver's message, first line), or None when it does."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1")).scalar()
    except Exception as exc:  # any driver's failure is an answer here, not an error of the caller
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return None


@functools.cache
def _head_revisions() -> frozenset[str]:
    """The newest migrations this code knows (read from the scripts once per process)."""
    return frozenset(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def schema_problem(engine: Engine) -> str | None:
    """Why the database is not ready for this code (unreachable, or migrations not at head), or None."""
    if why := unreachable(engine):
        return f"the database is unreachable: {why[:200]}"
    try:
        with engine.connect() as connection:
            current = frozenset(MigrationContext.configure(connection).get_current_heads())
    except Exception as exc:  # any driver's error: the readiness answer says which
        return f"the database is unreachable: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    if current != _head_revisions():
        return f"the database schema is at {sorted(current) or 'nothing'}, not at {sorted(_head_revisions())}"
    return None
