"""Where a SQL task connects: one model per database family, one way to open it, one way to say what failed.

Every SQL task type (``<family>.query``, ``<family>.load``, ``<family>.export``) is an operation class mixed with
one family class below. A family knows its SQLAlchemy driver and how to build the address from a ``connection:``
block, and it checks that a ``url`` given instead names the right kind of database. The password never reaches a
message: ``Database.where`` renders the address without it and ``Database.failure`` masks it in drivers' errors.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, ClassVar

from pydantic import Field, model_validator

from engine.flows.spec import Computed, Spec
from engine.tasks.base import Group, Task
from engine.tasks.context import ConfigurationError, RunContext, TaskFailed


def json_safe(value: Any) -> Any:
    """A column value as JSON: outputs are stored and shown as JSON, and exact numbers must stay exact."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.date | dt.time):  # datetime is a date
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID | dt.timedelta):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [json_safe(v) for v in value]
    return str(value)


class Connection(Spec):
    """The parts of a database address, for a form; ``url`` on the task is the same in one line."""

    host: str | None = None
    """The database server's name or IP address, e.g. db.acme.internal (not used by SQLite and DuckDB)."""
    port: Computed[Annotated[int, Field(ge=1, le=65535)]] | None = None
    """The server's port; by default the usual one (PostgreSQL 5432, MySQL 3306)."""
    database: str | None = None
    """The database's name; for SQLite and DuckDB, the path of its file on the worker (:memory: for none)."""
    username: str | None = None
    """The account to sign in with."""
    password: str | None = None
    """The account's password; keep it in a secret: {{ secret('SHOP_DB_PASSWORD') }}."""
    options: dict[str, str] = Field(default_factory=dict)
    """Extra driver settings added to the address, e.g. sslmode: require."""


class Database(Task):
    """A task that connects to a database of one family, by ``url`` or by a ``connection`` block."""

    url: str | None = None
    """The database's address in one line, e.g. postgresql://user@host:5432/shop; keep it in a secret:
    {{ secret('SHOP_DSN') }}. Give either url or connection."""
    connection: Connection | None = None
    """The database's address in parts (host, database, username, password); give either url or connection."""

    group: ClassVar[Group] = Group.DATABASES
    icon: ClassVar[str] = "database"
    #: The family's name in messages, e.g. "PostgreSQL".
    family: ClassVar[str] = "SQL"
    #: The SQLAlchemy driver a ``connection`` block and a bare family URL (postgresql://) use.
    driver: ClassVar[str | None] = None
    #: The SQLAlchemy backend names (``URL.get_backend_name()``) a ``url`` of this family may name; empty: any.
    backends: ClassVar[tuple[str, ...]] = ()
    #: The address used when neither url nor connection is given (the embedded databases: an in-memory one).
    default_database: ClassVar[str | None] = None

    @model_validator(mode="after")
    def _one_address(self) -> Database:
        if self.url is not None and self.connection is not None:
            raise ValueError("give url or connection, not both")
        return self

    def sqlalchemy_url(self) -> Any:
        """The address to connect to, checked (``ConfigurationError`` naming what to set when it cannot be used)."""
        import sqlalchemy
        from sqlalchemy import exc as sa_exc

        if self.url is not None:
            try:
                url = sqlalchemy.make_url(self.url)
            except sa_exc.ArgumentError:
                # The text may hold a password: say what is wrong without repeating it.
                kind = "" if self.family == AnySql.family else f"{self.family} "
                raise ConfigurationError(f"url is not a {kind}database URL (e.g. {self.example_url()})") from None
            if self.backends and url.get_backend_name() not in self.backends:
                raise ConfigurationError(
                    f"url names a {url.get_backend_name()} database; a {self.type} task connects to {self.family} "
                    f"(e.g. {self.example_url()})"
                )
            if self.driver and "+" not in url.drivername:
                url = url.set(drivername=self.driver)
            return url
        if self.driver is None:
            raise ConfigurationError("give url, the database's SQLAlchemy address (e.g. snowflake://user@account/db)")
        block = self.connection or Connection()
        database = block.database or self.default_database
        if self.default_database is None and not (block.host and database):
            raise ConfigurationError(
                f"give url or connection with host and database (or set them once for {self.type} in taskDefaults)"
            )
        return sqlalchemy.URL.create(
            self.driver,
            username=block.username,
            password=block.password,
            host=block.host,
            port=block.port,
            database=database,
            query=block.options,
        )

    @classmethod
    def example_url(cls) -> str:
        return f"{cls.driver or 'dialect+driver'}://user@host/database"

    @contextmanager
    def connect(self, ctx: RunContext) -> Iterator[tuple[Any, str]]:
        """An open SQLAlchemy connection and the address to name in messages (without its password).

        The engine has no pool: a worker runs tasks of many flows and must keep no connection open after one."""
        import sqlalchemy
        from sqlalchemy import exc as sa_exc
        from sqlalchemy.pool import NullPool

        url = self.sqlalchemy_url()
        where = self.where(url)
        try:
            engine = sqlalchemy.create_engine(url, poolclass=NullPool)
        except (sa_exc.NoSuchModuleError, ImportError) as exc:
            raise self.failure(url, f"no database driver for {url.drivername}", exc) from None
        except sa_exc.ArgumentError as exc:
            raise self.failure(url, f"invalid database URL {where}", exc) from None
        try:
            ctx.check()
            try:
                connection = engine.connect()
            except sa_exc.SQLAlchemyError as exc:
                raise self.failure(url, f"could not connect to {where}", exc) from None
            with connection:
                yield connection, where
        finally:
            engine.dispose()

    @staticmethod
    def where(url: Any) -> str:
        """The address as text without its password: what messages and logs name."""
        return url.render_as_string(hide_password=True)

    @staticmethod
    def failure(url: Any, what: str, error: BaseException) -> TaskFailed:
        """A task error saying ``what`` failed and the driver's reason, with the password masked."""
        detail = str(getattr(error, "orig", None) or error).strip()
        detail = re.sub(r"\s*\(Background on this error at: [^)]*\)", "", detail)  # a link for developers
        secret = url.password if isinstance(url.password, str) else None
        if secret:
            detail = detail.replace(secret, "***")
        return TaskFailed(f"{what}: {detail}")


class AnySql(Database):
    """Any database SQLAlchemy has a driver for (Snowflake, BigQuery, Oracle, SQL Server...), by its url.
    Only PostgreSQL, MySQL/MariaDB, SQLite and DuckDB are tested with Lanner; others need their driver installed."""

    family: ClassVar[str] = "SQL"


class Postgres(Database):
    family: ClassVar[str] = "PostgreSQL"
    driver: ClassVar[str | None] = "postgresql+psycopg"
    backends: ClassVar[tuple[str, ...]] = ("postgresql",)
    icon: ClassVar[str] = "database"


class MySql(Database):
    family: ClassVar[str] = "MySQL/MariaDB"
    driver: ClassVar[str | None] = "mysql+pymysql"
    backends: ClassVar[tuple[str, ...]] = ("mysql", "mariadb")


class Sqlite(Database):
    family: ClassVar[str] = "SQLite"
    driver: ClassVar[str | None] = "sqlite"
    backends: ClassVar[tuple[str, ...]] = ("sqlite",)
    default_database: ClassVar[str | None] = ":memory:"

    @classmethod
    def example_url(cls) -> str:
        return "sqlite:////data/shop.db"


class DuckDb(Database):
    family: ClassVar[str] = "DuckDB"
    driver: ClassVar[str | None] = "duckdb"
    backends: ClassVar[tuple[str, ...]] = ("duckdb",)
    default_database: ClassVar[str | None] = ":memory:"

    @classmethod
    def example_url(cls) -> str:
        return "duckdb:////data/warehouse.duckdb"


#: Every family, by the prefix of its task types (``postgresql.query``...).
FAMILIES: dict[str, type[Database]] = {
    "sql": AnySql,
    "postgresql": Postgres,
    "mysql": MySql,
    "sqlite": Sqlite,
    "duckdb": DuckDb,
}
