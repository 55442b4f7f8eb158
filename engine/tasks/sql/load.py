"""``<family>.load``: a stored CSV, JSON lines or Parquet file into a table, a batch at a time, in one transaction.

PostgreSQL (through psycopg) gets the rows by ``COPY ... FROM STDIN``, DuckDB by ``INSERT ... SELECT`` from each
Arrow batch, the other databases by batched inserts (executemany). The
table is created from the file's column types when missing; REPLACE deletes the rows first (all of them, or those
``replaceWhere`` picks); UPSERT inserts or updates by ``keys``. Everything happens in one transaction, so a failure
(a bad row, a lost connection, a kill) leaves the table as it was (or missing). MySQL commits a CREATE TABLE at
once: there a table created by a failed load stays, empty.
"""

from __future__ import annotations

import contextlib
import io
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, model_validator

from engine.flows.spec import Computed
from engine.tasks.base import registry
from engine.tasks.context import ConfigurationError, RunContext, TaskFailed
from engine.tasks.files import local_copy
from engine.tasks.sql.columns import identifier, split_table, table_model
from engine.tasks.sql.connection import AnySql, Database, DuckDb, MySql, Postgres, Sqlite
from engine.tasks.tables import FileFormat, format_of
from engine.tasks.tables.reader import read_batches

#: Dialects whose INSERT takes ``ON CONFLICT (keys) DO UPDATE`` (duckdb-engine compiles as PostgreSQL does).
ON_CONFLICT = {"postgresql": "postgresql", "duckdb": "postgresql", "sqlite": "sqlite"}


class Mode(StrEnum):
    APPEND = "APPEND"
    REPLACE = "REPLACE"
    UPSERT = "UPSERT"

    @classmethod
    def _missing_(cls, value: object) -> Mode | None:
        return cls.__members__.get(value.strip().upper()) if isinstance(value, str) else None


class Load(Database):
    """Load a stored table file into a database table."""

    from_: Annotated[str, Field(alias="from", min_length=1)]
    """The file to load: a lanner:// address of a CSV, JSON lines or Parquet file, e.g.
    {{ outputs.extract.uri }}."""
    format: Computed[FileFormat] | None = None
    """The file's format: CSV, JSONL or PARQUET; by default its name's extension tells."""
    table: Annotated[str, Field(min_length=1)]
    """The table to load into, e.g. sales or analytics.sales (letters, digits and _ only)."""
    mode: Computed[Mode] = Mode.APPEND
    """APPEND adds the rows; REPLACE deletes the table's rows first (only those replaceWhere picks, when given);
    UPSERT updates the rows whose keys exist and adds the others."""
    keys: list[str] = Field(default_factory=list)
    """The columns that identify a row, for UPSERT (the table needs a unique key on them; one is made with the
    table when createTable makes it)."""
    replace_where: dict[str, Any] = Field(default_factory=dict)
    """For REPLACE: delete only the rows with these column values before loading, e.g. {day: "2026-11-28"}."""
    create_table: Computed[bool] = True
    """Create the table when it does not exist, with column types from the file."""
    batch_size: Computed[Annotated[int, Field(ge=1, le=1_000_000)]] = 10_000
    """Rows read from the file and sent at once."""
    output_fields: ClassVar[dict[str, str]] = {
        "rows": "How many rows were loaded.",
        "table": "The table they were loaded into.",
    }

    @model_validator(mode="after")
    def _mode_properties(self) -> Load:
        if self.mode == Mode.UPSERT and not self.keys:
            raise ValueError("mode UPSERT needs keys: the columns that identify a row")
        if self.replace_where and isinstance(self.mode, Mode) and self.mode != Mode.REPLACE:
            raise ValueError("replaceWhere applies to mode REPLACE only")
        return self

    def run(self, ctx: RunContext) -> dict[str, Any]:
        from sqlalchemy import exc as sa_exc

        split_table(self.table)  # refused before anything is read or opened
        path = local_copy(ctx, self.from_.strip(), ctx.workdir)
        fmt = self.format or format_of(self.from_) or format_of(path.name)
        if fmt is None:
            raise ConfigurationError(
                f"cannot tell the format of {path.name} from its name: set format (CSV, JSONL or PARQUET)"
            )
        started = time.monotonic()
        with self.connect(ctx) as (connection, where):
            url = connection.engine.url
            dbapi_error = getattr(connection.dialect.loaded_dbapi, "Error", sa_exc.SQLAlchemyError)
            try:
                with connection.begin():
                    rows = self._load(ctx, connection, path, FileFormat(fmt))
            except (sa_exc.SQLAlchemyError, dbapi_error) as exc:
                raise self.failure(url, f"loading {self.table} failed, nothing was loaded", exc) from None
        seconds = time.monotonic() - started
        ctx.log("INFO", f"{where}: {rows} row(s) loaded into {self.table} ({self.mode.value}) in {seconds:.1f} s")
        return {"rows": rows, "table": self.table}

    def _load(self, ctx: RunContext, connection: Any, path: Path, fmt: FileFormat) -> int:
        import pyarrow as pa
        from sqlalchemy.schema import CreateTable

        batches = read_batches(path, fmt, self.batch_size)
        try:
            first = next(batches)
        except pa.ArrowInvalid as exc:
            raise TaskFailed(f"could not read {path.name} as {fmt.value}: {exc}") from None
        dialect = connection.dialect.name
        if dialect == "sqlite" and not connection.connection.driver_connection.in_transaction:
            # Python's sqlite3 starts a transaction before an INSERT or DELETE only: begun here, CREATE TABLE is in it.
            connection.exec_driver_sql("BEGIN")
        if self.mode == Mode.UPSERT and dialect not in ON_CONFLICT and dialect not in ("mysql", "mariadb"):
            raise ConfigurationError(f"mode UPSERT is not available on {dialect} databases; use APPEND or REPLACE")
        table, names = table_model(self.table, first.schema, dialect, self.keys, unique=bool(self.keys))
        if self.create_table:
            connection.execute(CreateTable(table, if_not_exists=True))
        if self.mode == Mode.REPLACE:
            self._delete(connection, table)
        writer = self._writer(connection, table, names, first.schema)
        rows = 0
        try:
            for batch in _chain(first, batches):
                ctx.check()
                if batch.num_rows:
                    writer.send(batch)
                    rows += batch.num_rows
        except pa.ArrowInvalid as exc:
            writer.abort()
            raise TaskFailed(
                f"could not read {path.name} as {fmt.value} after {rows} rows, nothing was loaded: {exc}"
            ) from None
        except BaseException:
            writer.abort()
            raise
        writer.finish()
        return rows

    def _delete(self, connection: Any, table: Any) -> None:
        import sqlalchemy as sa

        preparer = connection.dialect.identifier_preparer
        target = preparer.format_table(table)
        dialect = connection.dialect.name
        columns = [preparer.quote(identifier(column, dialect)) for column in self.replace_where]
        conditions = [f"{column} = :p{i}" for i, column in enumerate(columns)]
        values = {f"p{i}": value for i, value in enumerate(self.replace_where.values())}
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        connection.execute(sa.text(f"DELETE FROM {target}{where}"), values)

    def _writer(self, connection: Any, table: Any, names: list[str], schema: Any) -> _Writer:
        keys = self.keys if self.mode == Mode.UPSERT else None
        if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg":
            return _Copy(connection, table, names, keys, as_csv=_csv_writable(schema))
        if connection.dialect.name == "duckdb":
            return _DuckDbInserts(connection, table, names, keys)
        return _Inserts(connection, table, names, keys)


def _csv_writable(schema: Any) -> bool:
    """Whether pyarrow's CSV writer renders every column as PostgreSQL's CSV COPY reads it back (binary is not)."""
    import pyarrow as pa

    return not any(
        pa.types.is_binary(field.type)
        or pa.types.is_large_binary(field.type)
        or pa.types.is_fixed_size_binary(field.type)
        for field in schema
    )


def _chain(first: Any, rest: Any) -> Any:
    yield first
    yield from rest


class _Writer:
    """Sends batches of rows into the table; ``finish`` completes what the batches left open, ``abort`` gives it up
    (the transaction then rolls back)."""

    def __init__(self, connection: Any, table: Any, names: list[str], keys: list[str] | None) -> None:
        self.connection, self.table, self.names, self.keys = connection, table, names, keys

    def send(self, batch: Any) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        pass

    def abort(self) -> None:
        pass


class _Inserts(_Writer):
    """``executemany`` of one INSERT per batch (with ON CONFLICT / ON DUPLICATE KEY UPDATE for UPSERT)."""

    def __init__(self, connection: Any, table: Any, names: list[str], keys: list[str] | None) -> None:
        super().__init__(connection, table, names, keys)
        self.statement = self._statement()

    def _statement(self, source: Any = None) -> Any:
        """The INSERT of the rows given at execution, or of those ``source`` (a SELECT) gives."""
        import sqlalchemy as sa

        dialect = self.connection.dialect.name
        others = [name for name in self.names if name not in (self.keys or ())]
        if self.keys is not None and dialect in ("mysql", "mariadb"):
            from sqlalchemy.dialects import mysql

            statement = mysql.insert(self.table)
            updates = {name: statement.inserted[name] for name in others or self.keys[:1]}
            return statement.on_duplicate_key_update(updates)
        if self.keys is None:
            statement = sa.insert(self.table)
        elif ON_CONFLICT[dialect] == "sqlite":
            from sqlalchemy.dialects.sqlite import insert

            statement = insert(self.table)
        else:
            from sqlalchemy.dialects.postgresql import insert

            statement = insert(self.table)
        if source is not None:
            statement = statement.from_select([self.table.c[name] for name in self.names], source)
        if self.keys is None:
            return statement
        if not others:
            return statement.on_conflict_do_nothing(index_elements=self.keys)
        return statement.on_conflict_do_update(
            index_elements=self.keys, set_={name: statement.excluded[name] for name in others}
        )

    def send(self, batch: Any) -> None:
        self.connection.execute(self.statement, batch.select(self.names).to_pylist())


class _DuckDbInserts(_Inserts):
    """DuckDB reads each batch as it is (an Arrow view) in one ``INSERT ... SELECT``: executemany through
    duckdb-engine runs one statement per row (some 3,000 rows/s)."""

    VIEW = "lanner_load_batch"

    def _statement(self, source: Any = None) -> Any:
        import sqlalchemy as sa

        columns = [sa.column(identifier(name, "duckdb")) for name in self.names]
        return super()._statement(sa.select(*columns).select_from(sa.table(self.VIEW)))

    def send(self, batch: Any) -> None:
        driver = self.connection.connection.driver_connection
        driver.register(self.VIEW, batch.select(self.names))
        try:
            self.connection.execute(self.statement)
        finally:
            driver.unregister(self.VIEW)


class _Copy(_Writer):
    """PostgreSQL's ``COPY ... FROM STDIN`` on the psycopg connection under SQLAlchemy's, in its transaction; for
    UPSERT into a temporary table (dropped at commit) then ``INSERT ... SELECT ... ON CONFLICT`` into the table.

    A batch goes as CSV text pyarrow writes (in C++: 3-4 times faster than rows made into Python objects, close to
    psql's \\copy), where a null is an unquoted empty field and an empty text a quoted one, as COPY's CSV reads them;
    a file with binary columns goes row by row (``write_row``)."""

    def __init__(
        self, connection: Any, table: Any, names: list[str], keys: list[str] | None, as_csv: bool = True
    ) -> None:
        super().__init__(connection, table, names, keys)
        self.as_csv = as_csv
        preparer = connection.dialect.identifier_preparer
        self.target = preparer.format_table(table)
        self.columns = ", ".join(preparer.quote(name) for name in names)
        self.cursor = connection.connection.driver_connection.cursor()
        into = self.target
        if keys is not None:
            into = preparer.quote("lanner_load_" + table.name[:40])
            self.cursor.execute(
                f"CREATE TEMPORARY TABLE {into} ON COMMIT DROP AS SELECT {self.columns} FROM {self.target} WITH NO DATA"
            )
        self.into = into
        options = " (FORMAT csv)" if as_csv else ""
        self.copy_context = self.cursor.copy(f"COPY {into} ({self.columns}) FROM STDIN{options}")
        self.copy = self.copy_context.__enter__()

    def send(self, batch: Any) -> None:
        if self.as_csv:
            import pyarrow.csv as pa_csv

            text = io.BytesIO()
            pa_csv.write_csv(batch.select(self.names), text, pa_csv.WriteOptions(include_header=False))
            self.copy.write(text.getbuffer())
            return
        write_row = self.copy.write_row
        for row in zip(*(column.to_pylist() for column in batch.select(self.names).columns), strict=True):
            write_row(row)

    def abort(self) -> None:
        # Ends the COPY with an error, so the connection can roll back; the error that stopped it is the one told.
        with contextlib.suppress(Exception):
            self.copy_context.__exit__(TaskFailed, TaskFailed("load stopped"), None)

    def finish(self) -> None:
        self.copy_context.__exit__(None, None, None)
        if self.keys is None:
            return
        preparer = self.connection.dialect.identifier_preparer
        keys = ", ".join(preparer.quote(key) for key in self.keys)
        others = [preparer.quote(name) for name in self.names if name not in self.keys]
        updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in others)
        action = f"DO UPDATE SET {updates}" if others else "DO NOTHING"
        self.cursor.execute(
            f"INSERT INTO {self.target} ({self.columns}) SELECT {self.columns} FROM {self.into} "
            f"ON CONFLICT ({keys}) {action}"
        )


def _examples(connection: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    """Ready property sets for the studio's help, the same for every family but for its connection."""
    return (
        {**connection, "from": "{{ outputs.extract.uri }}", "table": "sales", "mode": "APPEND"},
        {
            **connection,
            "from": "{{ outputs.daily.uri }}",
            "table": "analytics.daily_sales",
            "mode": "UPSERT",
            "keys": ["day", "store"],
        },
    )


@registry.register
class SqlLoad(Load, AnySql):
    type: Literal["sql.load"]
    title: ClassVar[str] = "SQL load"
    summary: ClassVar[str] = "Load a CSV, JSON lines or Parquet file into a table of any SQL database."
    examples: ClassVar[tuple[dict[str, Any], ...]] = _examples({"url": "{{ secret('WAREHOUSE_URL') }}"})


@registry.register
class PostgresLoad(Load, Postgres):
    type: Literal["postgresql.load"]
    title: ClassVar[str] = "PostgreSQL load"
    summary: ClassVar[str] = "Load a CSV, JSON lines or Parquet file into a PostgreSQL table (COPY, fast)."
    examples: ClassVar[tuple[dict[str, Any], ...]] = _examples({"url": "{{ secret('SHOP_DSN') }}"})


@registry.register
class MySqlLoad(Load, MySql):
    type: Literal["mysql.load"]
    title: ClassVar[str] = "MySQL load"
    summary: ClassVar[str] = "Load a CSV, JSON lines or Parquet file into a MySQL or MariaDB table."
    examples: ClassVar[tuple[dict[str, Any], ...]] = _examples(
        {
            "connection": {
                "host": "db.acme.internal",
                "database": "shop",
                "username": "loader",
                "password": "{{ secret('SHOP_DB_PASSWORD') }}",
            }
        }
    )


@registry.register
class SqliteLoad(Load, Sqlite):
    type: Literal["sqlite.load"]
    title: ClassVar[str] = "SQLite load"
    summary: ClassVar[str] = "Load a CSV, JSON lines or Parquet file into a table of a SQLite file."
    examples: ClassVar[tuple[dict[str, Any], ...]] = _examples({"url": "sqlite:////data/shop.db"})


@registry.register
class DuckDbLoad(Load, DuckDb):
    type: Literal["duckdb.load"]
    title: ClassVar[str] = "DuckDB load"
    summary: ClassVar[str] = "Load a CSV, JSON lines or Parquet file into a table of a DuckDB file."
    examples: ClassVar[tuple[dict[str, Any], ...]] = _examples({"url": "duckdb:////data/warehouse.duckdb"})
