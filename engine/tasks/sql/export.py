"""``<family>.export``: a query's rows straight into a stored file (CSV, JSON lines, Parquet), however many.

PostgreSQL writes CSV itself (``COPY (query) TO STDOUT``): the fastest way out, with the values bound on the client
by psycopg's own quoting (COPY takes no bind parameters). Every other case streams through the table writer."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from engine.flows.spec import Computed
from engine.tasks.base import registry
from engine.tasks.context import ConfigurationError, RunContext
from engine.tasks.sql.connection import AnySql, Database, DuckDb, MySql, Postgres, Sqlite
from engine.tasks.sql.query import SqlText, Statement, execute, split_statements, store_result
from engine.tasks.tables import FileFormat


class Export(Database):
    """Write the rows of a query to a file in internal storage."""

    sql: SqlText
    """The query whose rows are exported (the last statement when there are several, ';'-separated: the ones
    before run first, in the same transaction). Write :name where a value from parameters goes."""
    parameters: dict[str, Any] = Field(default_factory=dict, json_schema_extra={"examples": [{"day": "2026-11-28"}]})
    """Values for the :name placeholders, passed safely (never able to change the statement)."""
    format: Computed[FileFormat] = FileFormat.CSV
    """The file's format: CSV (with a header line), JSONL (one JSON object a line) or PARQUET."""
    file_name: Annotated[str | None, Field(min_length=1, pattern=r"^[^/\\]+$")] = None
    """The stored file's name (default export.csv, export.jsonl or export.parquet)."""

    summary: ClassVar[str] = "Export a query's rows to a CSV, JSON lines or Parquet file."
    output_fields: ClassVar[dict[str, str]] = {
        "uri": "The lanner:// address of the exported file.",
        "rows": "How many rows it holds.",
        "format": "Its format.",
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        from sqlalchemy import exc as sa_exc

        statements = split_statements(self.sql, self.parameters)
        url = self.sqlalchemy_url()
        name = self.file_name or f"export.{self.format.extension}"
        with tempfile.TemporaryDirectory(dir=ctx.workdir) as scratch, self.connect(ctx) as (connection, where):
            path = Path(scratch) / name
            try:
                with connection.begin():
                    for statement in statements[:-1]:
                        ctx.check()
                        execute(connection, statement).close()
                    ctx.check()
                    rows = self._export(connection, statements[-1], ctx, path)
            except sa_exc.SQLAlchemyError as exc:
                raise self.failure(url, "the SQL statement failed", exc) from None
            except self._driver_errors() as exc:
                raise self.failure(url, "the export failed", exc) from None
            uri = ctx.store_file(path, name)
        ctx.log("INFO", f"{where}: {rows} row(s) exported as {self.format.value}")
        return {"uri": uri, "rows": rows, "format": self.format.value}

    def _driver_errors(self) -> tuple[type[BaseException], ...]:
        return ()

    def _export(self, connection: Any, statement: Statement, ctx: RunContext, path: Path) -> int:
        result = execute(connection, statement, stream=True)
        if not result.returns_rows:
            raise ConfigurationError("the last statement of sql returns no rows: end it with the SELECT to export")
        return store_result(result, ctx, self.format, path)


class PostgresExport(Export, Postgres):
    def _driver_errors(self) -> tuple[type[BaseException], ...]:
        import psycopg

        return (psycopg.Error,)

    def _export(self, connection: Any, statement: Statement, ctx: RunContext, path: Path) -> int:
        if self.format != FileFormat.CSV:
            return super()._export(connection, statement, ctx, path)
        import psycopg

        raw = connection.connection.driver_connection
        # The :names as psycopg placeholders (SQLAlchemy's compiler, which also escapes a literal %), then the
        # values quoted by psycopg's adapters: COPY takes no parameters, and this is the safe way to inline them.
        compiled = statement.clause.compile(dialect=connection.dialect)
        values = {key: statement.parameters[key] for key in compiled.params if key in statement.parameters}
        missing = [key for key in compiled.params if key not in statement.parameters]
        if missing:
            raise ConfigurationError(f"a value is required for the parameter :{missing[0]} (give it in parameters)")
        query = psycopg.ClientCursor(raw).mogrify(str(compiled), values) if values else str(compiled)
        if not values:
            query = query.replace("%%", "%")  # the compiler escaped % for a placeholder pass that does not happen
        with raw.cursor() as cursor, path.open("wb") as file:
            copy_sql = f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER)"
            with cursor.copy(copy_sql) as copy:  # type: ignore[arg-type] - the text is built above, values quoted
                for chunk in copy:
                    file.write(chunk)
                    ctx.check()
            return max(cursor.rowcount, 0)


def _examples(url: str) -> tuple[dict[str, Any], ...]:
    return (
        {
            "url": url,
            "sql": "SELECT * FROM orders WHERE day = :day",
            "parameters": {"day": "{{ inputs.day }}"},
            "format": "CSV",
        },
        {"url": url, "sql": "SELECT * FROM orders", "format": "PARQUET", "fileName": "orders.parquet"},
    )


@registry.register
class SqlExportTask(Export, AnySql):
    type: Literal["sql.export"]
    title: ClassVar[str] = "SQL export"
    summary: ClassVar[str] = "Export a query's rows, on any database SQLAlchemy reaches, to a CSV/JSONL/Parquet file."
    examples: ClassVar[tuple[dict[str, Any], ...]] = _examples("{{ secret('DATABASE_URL') }}")


@registry.register
class PostgresExportTask(PostgresExport):
    type: Literal["postgresql.export"]
    title: ClassVar[str] = "PostgreSQL export"
    summary: ClassVar[str] = "Export a PostgreSQL query's rows to a file (CSV through COPY, or JSONL/Parquet)."
    examples: ClassVar[tuple[dict[str, Any], ...]] = _examples("{{ secret('SHOP_DSN') }}")


@registry.register
class MySqlExportTask(Export, MySql):
    type: Literal["mysql.export"]
    title: ClassVar[str] = "MySQL/MariaDB export"
    summary: ClassVar[str] = "Export a MySQL or MariaDB query's rows to a CSV, JSON lines or Parquet file."
    examples: ClassVar[tuple[dict[str, Any], ...]] = _examples("{{ secret('SHOP_DSN') }}")


@registry.register
class SqliteExportTask(Export, Sqlite):
    type: Literal["sqlite.export"]
    title: ClassVar[str] = "SQLite export"
    summary: ClassVar[str] = "Export a SQLite query's rows to a CSV, JSON lines or Parquet file."
    examples: ClassVar[tuple[dict[str, Any], ...]] = _examples("sqlite:////data/shop.db")


@registry.register
class DuckDbExportTask(Export, DuckDb):
    type: Literal["duckdb.export"]
    title: ClassVar[str] = "DuckDB export"
    summary: ClassVar[str] = "Export a DuckDB query's rows to a CSV, JSON lines or Parquet file."
    examples: ClassVar[tuple[dict[str, Any], ...]] = _examples("duckdb:////data/warehouse.duckdb")
