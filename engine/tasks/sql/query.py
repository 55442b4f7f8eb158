"""SQL query task: one statement on any database SQLAlchemy can reach."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import re
import uuid
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from engine.flows.spec import Computed
from engine.tasks.base import Group, Task, registry
from engine.tasks.context import RunContext, TaskFailed


class Fetch(StrEnum):
    ONE = "ONE"
    ALL = "ALL"
    NONE = "NONE"


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


@registry.register
class SqlQuery(Task):
    type: Literal["sql.query"]
    url: Annotated[str, Field(min_length=1)]
    """Database address, e.g. sqlite:///sales.db or postgresql+psycopg://user@host/db; keep it in a secret."""
    sql: Annotated[str, Field(min_length=1, json_schema_extra={"x-lanner-code": "sql"})]
    """One SQL statement; write :name where a value from parameters goes."""
    parameters: dict[str, Any] = Field(default_factory=dict)
    """Values for the :name placeholders of the statement, passed safely (never pasted into the SQL)."""
    fetch: Computed[Fetch] = Fetch.ALL
    """ALL returns every row in 'rows', ONE the first row in 'row', NONE only the number of changed rows."""
    max_rows: Computed[Annotated[int, Field(ge=1)]] = 10_000
    """Most rows kept in the outputs; the task ends in WARNING when there were more."""

    title: ClassVar[str] = "SQL query"
    summary: ClassVar[str] = "Run a SQL statement on a database; outputs the rows it returns."
    group: ClassVar[Group] = Group.DATABASES
    icon: ClassVar[str] = "database"
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {
            "url": "{{ secret('SHOP_DSN') }}",
            "sql": "SELECT id, total FROM orders WHERE day = :day",
            "parameters": {"day": "{{ inputs.day }}"},
            "fetch": "ALL",
        },
    )

    def run(self, ctx: RunContext) -> dict[str, Any]:
        import sqlalchemy
        from sqlalchemy import exc as sa_exc
        from sqlalchemy.pool import NullPool

        try:
            url = sqlalchemy.make_url(self.url)
        except sa_exc.ArgumentError:
            # The text may hold a password: say what is wrong without repeating it.
            raise TaskFailed(
                "url is not a database URL (e.g. sqlite:///file.db or postgresql+psycopg://host/db)"
            ) from None
        where = url.render_as_string(hide_password=True)
        secret = url.password if isinstance(url.password, str) else None

        def failure(what: str, error: Exception) -> TaskFailed:
            detail = str(getattr(error, "orig", None) or error).strip()
            detail = re.sub(r"\s*\(Background on this error at: [^)]*\)", "", detail)  # a link for developers
            if secret:
                detail = detail.replace(secret, "***")
            return TaskFailed(f"{what}: {detail}")

        try:
            # A fresh engine without a pool: a worker runs tasks for many flows and must keep no connection open.
            engine = sqlalchemy.create_engine(url, poolclass=NullPool)
        except (sa_exc.NoSuchModuleError, ImportError) as exc:
            raise failure(f"no database driver for {url.drivername}", exc) from None
        except sa_exc.ArgumentError as exc:
            raise failure(f"invalid database URL {where}", exc) from None
        try:
            ctx.check()
            try:
                connection = engine.connect()
            except sa_exc.SQLAlchemyError as exc:
                raise failure(f"could not connect to {where}", exc) from None
            try:
                # Committed when the statement went through (and a commit can fail too), else rolled back.
                with connection, connection.begin():
                    result = connection.execute(sqlalchemy.text(self.sql), self.parameters)
                    outputs = self._outputs(result, ctx)
            except sa_exc.SQLAlchemyError as exc:
                raise failure("the SQL statement failed", exc) from None
        finally:
            engine.dispose()
        if "rowcount" in outputs:
            done = f"{outputs['rowcount']} row(s) changed" if outputs["rowcount"] >= 0 else "statement done"
        else:
            done = f"{outputs['size']} row(s) returned"
        ctx.log("INFO", f"{where}: {done}")
        return outputs

    def _outputs(self, result: Any, ctx: RunContext) -> dict[str, Any]:
        if self.fetch == Fetch.NONE or not result.returns_rows:
            # Statements that return no rows (INSERT, CREATE...) keep the row keys, empty, so expressions still work.
            outputs: dict[str, Any] = {"rowcount": result.rowcount}
            if self.fetch == Fetch.ALL:
                outputs |= {"rows": [], "size": 0}
            elif self.fetch == Fetch.ONE:
                outputs |= {"row": None, "size": 0}
            return outputs
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
