"""``<family>.query``: one or several SQL statements in one transaction; the rows of the last one that returns rows
become the outputs (all of them, the first, or a stored file); ``sql.query`` is the generic family's.

Shared with ``<family>.export`` (export.py): splitting the text into statements, binding each statement only the
parameters it names, and streaming a result into a table file (``store_result``) with memory bounded by a batch.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from engine.flows.spec import Computed
from engine.tasks.base import registry
from engine.tasks.context import ConfigurationError, RunContext
from engine.tasks.sql.connection import AnySql, Database, DuckDb, MySql, Postgres, Sqlite, json_safe
from engine.tasks.tables import FileFormat, TableWriter
from engine.tasks.tables.writer import rows_to_batch

#: Rows fetched from the server at a time when a result is streamed (server-side cursor batch, Arrow batch).
STREAM_BATCH = 20_000

SqlText = Annotated[
    str,
    Field(
        min_length=1,
        json_schema_extra={"x-lanner-code": "sql", "examples": ["SELECT * FROM orders WHERE day = :day"]},
    ),
]


class Fetch(StrEnum):
    NONE = "NONE"
    ONE = "ONE"
    ALL = "ALL"
    STORE = "STORE"

    @classmethod
    def _missing_(cls, value: object) -> Fetch | None:
        return cls.__members__.get(value.strip().upper()) if isinstance(value, str) else None


class Statement:
    """One statement of the task's SQL, with the parameters it names."""

    def __init__(self, text: str, parameters: dict[str, Any]) -> None:
        import sqlalchemy
        import sqlparse

        self.text = text
        self.clause = sqlalchemy.text(text)
        # ``_bindparams`` holds the :names SQLAlchemy found in the text, its own parsing (quotes, ::casts): the
        # one sure way to give a statement only its parameters. A missing one fails with the driver's message.
        names = set(self.clause._bindparams)
        self.parameters = {k: v for k, v in parameters.items() if k in names}
        self.kind = sqlparse.parse(text)[0].get_type()  # SELECT, INSERT, UPDATE, DELETE, CREATE... or UNKNOWN
        self.is_select = self.kind == "SELECT"


def split_statements(sql: str, parameters: dict[str, Any]) -> list[Statement]:
    """The statements of ``sql`` (``;``-separated, split by sqlparse, which knows quotes, comments and $$ bodies)."""
    import sqlparse

    texts = [s.strip() for s in sqlparse.split(sql)]
    texts = [t[:-1].rstrip() if t.endswith(";") else t for t in texts]
    texts = [t for t in texts if sqlparse.format(t, strip_comments=True).strip().strip(";").strip()]
    if not texts:
        raise ConfigurationError("sql holds no statement")
    return [Statement(t, parameters) for t in texts]


def execute(connection: Any, statement: Statement, stream: bool = False) -> Any:
    """Run one statement; ``stream`` reads a SELECT's rows from a server-side cursor, a batch at a time.

    Only a SELECT is streamed: PostgreSQL opens server-side cursors with DECLARE, which takes no other statement."""
    # Per statement: ``Connection.execution_options`` would change the connection for the statements after it.
    options = {"stream_results": True, "yield_per": STREAM_BATCH} if stream and statement.is_select else {}
    return connection.execute(statement.clause, statement.parameters, execution_options=options)


def batches(result: Any, ctx: RunContext) -> Iterator[list[Any]]:
    """A result's rows, ``STREAM_BATCH`` at a time, checking between batches that the task may go on."""
    while rows := result.fetchmany(STREAM_BATCH):
        ctx.check()
        yield rows


def store_result(result: Any, ctx: RunContext, fmt: FileFormat, path: Path) -> int:
    """Write a result's rows into ``path`` as ``fmt``, one batch in memory at a time; returns the rows written."""
    names = list(result.keys())
    typed = empty_schema(result, names)  # now: the driver's cursor is gone once the rows are read
    with TableWriter(path, fmt) as writer:
        for rows in batches(result, ctx):
            writer.write(rows_to_batch(names, rows, writer.schema))
        return writer.close(typed)


#: PostgreSQL type OIDs -> Arrow types, for the columns of a stored result without rows (the driver says the types).
_POSTGRES_TYPES = {
    16: "bool_", 17: "binary", 20: "int64", 21: "int16", 23: "int32", 700: "float32", 701: "float64",
    1082: "date32", 25: "string", 1043: "string", 1042: "string",
}  # fmt: skip


def empty_schema(result: Any, names: list[str]) -> Any:
    """The columns of a result that returned no rows, typed where the driver tells (PostgreSQL: the type OIDs),
    else text: an empty day's file must keep its numbers numbers, or the steps after it (a filter on an amount,
    a load into a typed table) fail on text."""
    import pyarrow as pa

    dialect = getattr(getattr(getattr(result, "context", None), "dialect", None), "name", "")
    description = (
        (getattr(getattr(result, "cursor", None), "description", None) or []) if dialect == "postgresql" else []
    )
    types = []
    for name, column in zip(names, [*description, *[None] * len(names)], strict=False):
        code = getattr(column, "type_code", None)
        if code == 1700 and getattr(column, "precision", None):
            type_ = pa.decimal128(column.precision, column.scale or 0)
        elif code in (1114, 1184):
            type_ = pa.timestamp("us", tz="UTC" if code == 1184 else None)
        else:
            type_ = getattr(pa, _POSTGRES_TYPES.get(code, "string"))()
        types.append((name, type_))
    return pa.schema(types)


class Query(Database):
    """Run SQL statements on a database; outputs the rows of the last one that returns rows."""

    sql: SqlText
    """The SQL to run: one statement or several separated by ';' (run in order, in one transaction: all or none).
    Write :name where a value from parameters goes."""
    parameters: dict[str, Any] = Field(default_factory=dict, json_schema_extra={"examples": [{"day": "2026-11-28"}]})
    """Values for the :name placeholders, passed to the database apart from the SQL (never pasted into it, so a
    value cannot change the statement); each statement gets the ones it names."""
    fetch: Computed[Fetch] = Fetch.ALL
    """What to do with the rows of the last statement that returns rows: ALL puts them in outputs 'rows' (up to
    maxRows), ONE the first in 'row', STORE writes them all to a file ('uri', any size), NONE keeps only the
    number of changed rows ('rowcount')."""
    max_rows: Computed[Annotated[int, Field(ge=1)]] = 10_000
    """With fetch ALL: most rows kept in the outputs; the task ends in WARNING when there were more (use STORE for
    big results)."""
    format: Computed[FileFormat] = FileFormat.CSV
    """With fetch STORE: the file's format, CSV, JSONL (one JSON object a line) or PARQUET."""

    summary: ClassVar[str] = "Run SQL statements on a database; outputs the rows they return, or a file of them."
    output_fields: ClassVar[dict[str, str]] = {
        "rows": "With fetch ALL: the rows (a list of column→value maps); with STORE: how many rows the file holds.",
        "row": "With fetch ONE: the first row (column→value), or null.",
        "size": "How many rows were returned.",
        "uri": "With fetch STORE: the lanner:// address of the file of rows.",
        "format": "With fetch STORE: the file's format.",
        "rowcount": "When no statement returned rows: how many rows were changed (-1 when unknown).",
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        from sqlalchemy import exc as sa_exc

        statements = split_statements(self.sql, self.parameters)
        url = self.sqlalchemy_url()
        with tempfile.TemporaryDirectory(dir=ctx.workdir) as scratch, self.connect(ctx) as (connection, where):
            try:
                # Committed when every statement went through (and a commit can fail too), else rolled back.
                with connection.begin():
                    outputs = self._run_all(connection, statements, ctx, Path(scratch))
            except sa_exc.SQLAlchemyError as exc:
                raise self.failure(url, "the SQL statement failed", exc) from None
            if "file" in outputs:
                file = outputs.pop("file")
                outputs["uri"] = ctx.store_file(file, f"result.{self.format.extension}")
        if "rowcount" in outputs:
            done = f"{outputs['rowcount']} row(s) changed" if outputs["rowcount"] >= 0 else "statement done"
        elif "uri" in outputs:
            done = f"{outputs['rows']} row(s) stored as {self.format.value}"
        else:
            done = f"{outputs['size']} row(s) returned"
        ctx.log("INFO", f"{where}: {done}")
        return outputs

    def _run_all(self, connection: Any, statements: list[Statement], ctx: RunContext, scratch: Path) -> dict:
        outputs: dict[str, Any] | None = None
        changed: list[int] = []
        for number, statement in enumerate(statements):
            ctx.check()
            result = execute(connection, statement, stream=self.fetch != Fetch.NONE)
            if self._counted(result, statement):
                # DuckDB answers INSERT, UPDATE and DELETE with one row: the number of rows they changed.
                changed.append(result.scalar_one())
                continue
            if self.fetch == Fetch.NONE or not result.returns_rows:
                if result.rowcount is not None and result.rowcount >= 0:
                    changed.append(result.rowcount)
                result.close()
                continue
            # A later statement's rows replace an earlier one's: the last result is the task's.
            outputs = self._rows(result, ctx, scratch / f"{number}.{self.format.extension}")
        if outputs is not None:
            return outputs
        # No statement returned rows (INSERT, CREATE...): the row keys stay, empty, so expressions still work.
        outputs = {"rowcount": sum(changed) if changed else -1}
        if self.fetch == Fetch.ALL:
            outputs |= {"rows": [], "size": 0}
        elif self.fetch == Fetch.ONE:
            outputs |= {"row": None, "size": 0}
        elif self.fetch == Fetch.STORE:
            empty = scratch / f"empty.{self.format.extension}"
            TableWriter(empty, self.format).close()
            outputs |= {"file": empty, "rows": 0, "format": self.format.value, "size": 0}
        return outputs

    def _counted(self, result: Any, statement: Statement) -> bool:
        return (
            self.family == DuckDb.family
            and statement.kind in ("INSERT", "UPDATE", "DELETE")
            and result.returns_rows
            and list(result.keys()) == ["Count"]
        )

    def _rows(self, result: Any, ctx: RunContext, path: Path) -> dict[str, Any]:
        if self.fetch == Fetch.STORE:
            count = store_result(result, ctx, self.format, path)
            return {"file": path, "rows": count, "format": self.format.value, "size": count}
        # One row more than kept tells whether rows were left out.
        fetched = result.mappings().fetchmany(1 if self.fetch == Fetch.ONE else self.max_rows + 1)
        result.close()
        rows = [{key: json_safe(value) for key, value in row.items()} for row in fetched]
        if self.fetch == Fetch.ONE:
            return {"row": rows[0] if rows else None, "size": len(rows)}
        if len(rows) > self.max_rows:
            rows = rows[: self.max_rows]
            ctx.warn(f"the query returned more than {self.max_rows} rows; only the first {self.max_rows} are kept")
        return {"rows": rows, "size": len(rows)}


def _examples(url: str) -> tuple[dict[str, Any], ...]:
    return (
        {
            "url": url,
            "sql": "SELECT store, SUM(amount) AS total FROM orders WHERE day = :day GROUP BY store",
            "parameters": {"day": "{{ inputs.day }}"},
            "fetch": "ALL",
        },
        {"url": url, "sql": "SELECT * FROM orders", "fetch": "STORE", "format": "PARQUET"},
    )


@registry.register
class SqlQuery(Query, AnySql):
    type: Literal["sql.query"]
    title: ClassVar[str] = "SQL query"
    summary: ClassVar[str] = "Run SQL on any database SQLAlchemy reaches (by its url); outputs rows or a file."
    examples: ClassVar[tuple[dict[str, Any], ...]] = _examples("{{ secret('DATABASE_URL') }}")


@registry.register
class PostgresQuery(Query, Postgres):
    type: Literal["postgresql.query"]
    title: ClassVar[str] = "PostgreSQL query"
    summary: ClassVar[str] = "Run SQL on PostgreSQL; outputs the rows, the first row, or a CSV/Parquet file of them."
    examples: ClassVar[tuple[dict[str, Any], ...]] = _examples("{{ secret('SHOP_DSN') }}")


@registry.register
class MySqlQuery(Query, MySql):
    type: Literal["mysql.query"]
    title: ClassVar[str] = "MySQL/MariaDB query"
    summary: ClassVar[str] = "Run SQL on MySQL or MariaDB; outputs the rows, the first row, or a file of them."
    examples: ClassVar[tuple[dict[str, Any], ...]] = _examples("{{ secret('SHOP_DSN') }}")


@registry.register
class SqliteQuery(Query, Sqlite):
    type: Literal["sqlite.query"]
    title: ClassVar[str] = "SQLite query"
    summary: ClassVar[str] = "Run SQL on a SQLite file on the worker; outputs the rows, the first row, or a file."
    examples: ClassVar[tuple[dict[str, Any], ...]] = _examples("sqlite:////data/shop.db")


@registry.register
class DuckDbQuery(Query, DuckDb):
    type: Literal["duckdb.query"]
    title: ClassVar[str] = "DuckDB query"
    summary: ClassVar[str] = "Run SQL on DuckDB (a file on the worker, or in memory); outputs rows or a file."
    examples: ClassVar[tuple[dict[str, Any], ...]] = _examples("duckdb:////data/warehouse.duckdb")
