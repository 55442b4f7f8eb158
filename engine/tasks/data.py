"""``data.transform``: filter, reshape, join and sum stored table files with DuckDB, into a new stored file.

The steps are typed (one model, exactly one key each) so the studio's form edits them. Their expressions are SQL
snippets run by DuckDB, which can read files and URLs: the input files are loaded into tables first, then external
access is switched off and the configuration locked before any snippet runs, and each snippet must parse as one
plain expression (no statement, no subquery). Identifiers (columns) are always quoted. The result is fetched as
Arrow batches and written by ``TableWriter``, so no whole result sits in memory.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, model_validator

from engine.config import load_settings
from engine.flows.spec import Computed, Spec
from engine.tasks.base import Group, Task, registry
from engine.tasks.context import RunContext, TaskFailed
from engine.tasks.files import local_copy
from engine.tasks.tables import FileFormat, TableWriter, format_of

THREADS = 2
BATCH_ROWS = 50_000
FUNCTIONS = ("sum", "count", "avg", "min", "max", "count_distinct")


class Aggregate(Spec):
    """One aggregated column of a groupBy: exactly one of its keys, naming the column it is computed over."""

    sum: str | None = None
    """Sum of this column."""
    count: str | None = None
    """Number of rows ("*") or of non-empty values of this column."""
    avg: str | None = None
    """Average of this column."""
    min: str | None = None
    """Smallest value of this column."""
    max: str | None = None
    """Largest value of this column."""
    count_distinct: str | None = None
    """Number of different values of this column."""

    @model_validator(mode="after")
    def _one(self) -> Aggregate:
        given = [name for name in FUNCTIONS if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of sum, count, avg, min, max, countDistinct (got {given or 'none'})")
        return self

    def sql(self) -> str:
        (function,) = [name for name in FUNCTIONS if getattr(self, name) is not None]
        column = getattr(self, function)
        if function == "count" and column == "*":
            return "count(*)"
        if function == "count_distinct":
            return f"count(DISTINCT {quote(column)})"
        return f"{function}({quote(column)})"


class GroupBy(Spec):
    """Rows grouped by the ``by`` columns, one output column per ``aggregate`` entry."""

    by: list[str] = Field(default_factory=list)
    """Columns to group by; empty: the whole table is one group."""
    aggregate: Annotated[dict[str, Aggregate], Field(min_length=1)]
    """Output column -> what it computes, e.g. {total: {sum: amount}, orders: {count: "*"}}."""


class Join(Spec):
    """Rows of another stored file matched with the current rows."""

    with_: Annotated[str, Field(alias="with", min_length=1)]
    """The other file's lanner:// address (CSV, JSONL or Parquet)."""
    on: list[str] | dict[str, str]
    """Columns with the same name on both sides, or current column -> the other file's column."""
    how: Literal["inner", "left", "right", "full"] = "inner"
    """inner keeps matched rows only; left keeps every current row; right every other row; full both."""
    select: list[str] | None = None
    """Columns of the other file to bring (by default all but the join columns)."""
    format: FileFormat | None = None
    """The other file's format when its name does not say it."""


class Step(Spec):
    """One step of a transform: give exactly one of its keys."""

    filter: str | None = None
    """Keep the rows where this condition holds, written in DuckDB SQL over the current columns, e.g.
    amount >= 0.01 AND currency <> 'XXX' (one condition: no ';', no SELECT)."""
    select: list[str] | None = None
    """Keep only these columns, in this order."""
    rename: dict[str, str] | None = None
    """Rename columns: old name -> new name."""
    compute: dict[str, str] | None = None
    """New (or replaced) columns: name -> DuckDB SQL expression over the current columns, e.g.
    {net: "amount - tax", day: "CAST(at AS DATE)"} (one expression each: no ';', no SELECT)."""
    group_by: GroupBy | None = None
    """Group rows and aggregate them, e.g. {by: [region], aggregate: {total: {sum: amount}}}."""
    join: Join | None = None
    """Match rows with another stored file on some columns."""
    sort: list[str] | None = None
    """Order rows by these columns; "-amount" sorts descending."""
    limit: Computed[Annotated[int, Field(ge=0)]] | None = None
    """Keep only the first n rows."""
    distinct: Computed[bool] | None = None
    """true: drop duplicate rows."""

    @model_validator(mode="after")
    def _one(self) -> Step:
        given = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(given) != 1:
            keys = ", ".join(sorted(type(self).model_fields))
            raise ValueError(f"a step has exactly one of {keys} (got {', '.join(given) or 'none'})")
        return self

    @property
    def kind(self) -> str:
        name = next(name for name in type(self).model_fields if getattr(self, name) is not None)
        return type(self).model_fields[name].alias or name


def quote(name: str) -> str:
    """``name`` as a DuckDB identifier: a column is never read as SQL."""
    return '"' + str(name).replace('"', '""') + '"'


def check_expression(conn: Any, text: str, where: str) -> str:
    """``text`` when DuckDB parses it as one plain expression (no statement, no subquery), else TaskFailed."""
    if not isinstance(text, str) or not text.strip():
        raise TaskFailed(f"{where}: the expression is empty")
    if ";" in text:
        raise TaskFailed(f"{where}: an expression may not hold ';' (one expression, not statements)")
    (parsed,) = conn.execute("SELECT json_serialize_sql(?)", [f"SELECT {text}"]).fetchone()
    tree = json.loads(parsed)
    if tree.get("error"):
        raise TaskFailed(f"{where}: '{text}' is not an expression: {tree.get('error_message', '')}")
    statements = tree.get("statements", [])
    node = statements[0].get("node", {}) if len(statements) == 1 else {}
    selected = node.get("select_list") or [{}]
    plain = (
        node.get("type") == "SELECT_NODE"
        and len(selected) == 1
        and not selected[0].get("alias")
        and node.get("from_table", {}).get("type") == "EMPTY"
        and not any(node.get(key) for key in ("where_clause", "group_expressions", "group_sets", "having"))
        and not any(node.get(key) for key in ("qualify", "sample", "modifiers"))
        and not node.get("cte_map", {}).get("map")
    )
    if not plain:
        raise TaskFailed(f"{where}: '{text}' must be one expression (a condition or a calculation), not a query")
    if _holds_subquery(selected):
        raise TaskFailed(f"{where}: '{text}' may not hold a subquery (SELECT): steps read only their own rows")
    return text


def _holds_subquery(tree: Any) -> bool:
    if isinstance(tree, dict):
        return tree.get("class") == "SUBQUERY" or "node" in tree or any(map(_holds_subquery, tree.values()))
    return isinstance(tree, list) and any(map(_holds_subquery, tree))


def _sort_key(item: str) -> str:
    return f"{quote(item[1:])} DESC" if item.startswith("-") else f"{quote(item)} ASC"


@registry.register
class DataTransform(Task):
    type: Literal["data.transform"]
    from_: Annotated[str, Field(alias="from", min_length=1)]
    """The stored file to transform: a lanner:// address, e.g. {{ outputs.extract.uri }} (CSV, JSONL or Parquet)."""
    input_format: Computed[FileFormat] | None = None
    """The input's format when its name does not say it (CSV, JSONL, PARQUET)."""
    steps: list[Step] = Field(default_factory=list)
    """What to do, in order; each step has one key: filter, select, rename, compute, groupBy, join, sort, limit,
    distinct."""
    format: Computed[FileFormat] = FileFormat.PARQUET
    """Format of the file written: CSV, JSONL or PARQUET."""
    file_name: str | None = None
    """Name of the file written (default transform.<format's extension>)."""

    title: ClassVar[str] = "Transform data"
    summary: ClassVar[str] = "Filter, join, group and sum a stored table file (DuckDB); outputs a new stored file."
    group: ClassVar[Group] = Group.DATA
    icon: ClassVar[str] = "database"
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {
            "from": "{{ outputs.extract.uri }}",
            "steps": [
                {"filter": "amount >= 0.01 AND currency <> 'XXX'"},
                {"compute": {"day": "CAST(created_at AS DATE)"}},
                {
                    "groupBy": {
                        "by": ["day", "region"],
                        "aggregate": {"total": {"sum": "amount"}, "orders": {"count": "*"}},
                    }
                },
                {"sort": ["day", "-total"]},
            ],
            "format": "PARQUET",
        },
        {
            "from": "{{ outputs.orders.uri }}",
            "steps": [
                {"join": {"with": "{{ outputs.customers.uri }}", "on": ["customer_id"], "how": "left"}},
                {"select": ["order_id", "customer_id", "name", "amount"]},
            ],
            "format": "CSV",
            "fileName": "orders_with_names.csv",
        },
    )
    output_fields: ClassVar[dict[str, str]] = {
        "uri": "The lanner:// address of the result file.",
        "rows": "How many rows it holds.",
        "format": "Its format (CSV, JSONL or PARQUET).",
        "columns": "The names of its columns.",
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        import duckdb

        # Its own folder (a working-directory group may run several transforms in one), removed at the end.
        folder = Path(tempfile.mkdtemp(prefix=".lanner-transform-", dir=ctx.workdir))
        (folder / "spill").mkdir()
        memory = load_settings().transform_memory
        config = {"threads": THREADS, "memory_limit": memory, "temp_directory": str(folder / "spill")}
        try:  # a database file in the task's folder: inputs larger than the memory limit still fit
            conn = duckdb.connect(str(folder / "transform.duckdb"), config=config)
        except duckdb.Error as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise TaskFailed(f"DuckDB could not start (LANNER_TRANSFORM_MEMORY '{memory}'?): {exc}") from None
        stop = threading.Event()
        threading.Thread(target=_interrupt_when_stopped, args=(ctx, conn, stop), daemon=True).start()
        try:
            return self._run(ctx, conn, folder)
        except TaskFailed:
            ctx.check()  # an interrupted query: report the kill or the timeout, not DuckDB's message
            raise
        finally:
            stop.set()
            conn.close()
            shutil.rmtree(folder, ignore_errors=True)

    def _run(self, ctx: RunContext, conn: Any, folder: Path) -> dict[str, Any]:
        import duckdb
        import pyarrow as pa

        # Every file first, while DuckDB may still read files; then no snippet can read or write another one.
        _load(conn, "input", local_copy(ctx, self.from_, folder), self.input_format, "from")
        joined = {}
        for number, step in enumerate(self.steps, 1):
            if step.join is not None:
                table = f"join_{number}"
                _load(conn, table, local_copy(ctx, step.join.with_, folder), step.join.format, f"step {number} (join)")
                joined[number] = table
        lock(conn)
        current = "input"
        for number, step in enumerate(self.steps, 1):
            where = f"step {number} ({step.kind})"
            columns = _columns(conn, current)
            sql = _step_sql(conn, step, current, columns, joined.get(number), where)
            view = f"step_{number}"
            try:
                conn.execute(f"CREATE TEMP VIEW {view} AS {sql}")
                _columns(conn, view)  # binds the step now, so a wrong column is reported by its step
            except duckdb.Error as exc:
                raise TaskFailed(f"{where}: {_first_line(exc)}") from None
            current = view
            ctx.check()
        fmt = FileFormat(self.format)
        name = self.file_name or f"transform.{fmt.extension}"
        target = folder / f"result.{fmt.extension}"
        try:
            result = conn.sql(f"SELECT * FROM {current}")
            # DuckDB 2 names it to_arrow_reader; 1.x fetch_record_batch (both: batches of at most BATCH_ROWS rows).
            fetch = getattr(result, "to_arrow_reader", None) or result.fetch_record_batch
            reader = fetch(BATCH_ROWS)
            with TableWriter(target, fmt) as writer:
                for batch in reader:
                    writer.write(batch)
                    ctx.check()
                rows = writer.close(reader.schema)
        except (duckdb.Error, pa.ArrowException) as exc:  # an interrupted reader may raise Arrow's error
            raise TaskFailed(f"transform: {_first_line(exc)}") from None
        columns = list(reader.schema.names)
        uri = ctx.store_file(target, name)
        ctx.log("INFO", f"{rows:,} rows, {len(columns)} columns -> {uri}")
        return {"uri": uri, "rows": rows, "format": fmt.value, "columns": columns}


def _interrupt_when_stopped(ctx: RunContext, conn: Any, stop: threading.Event) -> None:
    """Interrupt DuckDB's running query once the execution is killed or the task's time is up (a long join or
    group-by does not wait for its end to notice)."""
    while not stop.wait(0.5):
        if ctx.is_killed() or (ctx.deadline is not None and time.monotonic() > ctx.deadline):
            conn.interrupt()
            return


def lock(conn: Any) -> None:
    """From now on ``conn`` reads and writes no file or URL, loads no extension, and no statement can undo it."""
    for setting in (
        "SET autoinstall_known_extensions = false",
        "SET autoload_known_extensions = false",
        "SET enable_external_access = false",
        "SET lock_configuration = true",
    ):
        conn.execute(setting)


def _first_line(error: Exception) -> str:
    return str(error).strip().split("\n\n", 1)[0][:1000]


def _load(conn: Any, table: str, path: Path, given: FileFormat | None, where: str) -> None:
    """``path``'s rows into the DuckDB table ``table`` (the format given, or the one its name says)."""
    import duckdb

    fmt = FileFormat(given) if given else format_of(path.name)
    if fmt is None:
        raise TaskFailed(f"{where}: '{path.name}' does not say its format (.csv, .jsonl, .parquet): give the format")
    reader = {
        FileFormat.CSV: "read_csv(?, header = true)",
        FileFormat.JSONL: "read_json(?, format = 'newline_delimited')",
        FileFormat.PARQUET: "read_parquet(?)",
    }[fmt]
    try:
        conn.execute(f"CREATE TABLE {table} AS SELECT * FROM {reader}", [str(path)])
    except duckdb.Error as exc:
        raise TaskFailed(f"{where}: the file could not be read as {fmt.value}: {_first_line(exc)}") from None


def _columns(conn: Any, relation: str) -> list[str]:
    return [column[0] for column in conn.execute(f"SELECT * FROM {relation} LIMIT 0").description]


def _need(columns: list[str], wanted: list[str], where: str, side: str = "") -> None:
    missing = [name for name in wanted if name not in columns]
    if missing:
        raise TaskFailed(f"{where}: no column {', '.join(missing)}{side} (the columns are: {', '.join(columns)})")


def _step_sql(conn: Any, step: Step, current: str, columns: list[str], joined: str | None, where: str) -> str:
    """The SELECT that gives the rows after ``step``, reading ``current`` (whose columns are ``columns``)."""
    source = f"FROM {current}"
    if step.filter is not None:
        return f"SELECT * {source} WHERE ({check_expression(conn, step.filter, where)})"
    if step.select is not None:
        _need(columns, step.select, where)
        return f"SELECT {', '.join(quote(c) for c in step.select)} {source}"
    if step.rename is not None:
        _need(columns, list(step.rename), where)
        parts = [f"{quote(c)} AS {quote(step.rename.get(c, c))}" for c in columns]
        return f"SELECT {', '.join(parts)} {source}"
    if step.compute is not None:
        made = {name: check_expression(conn, expr, f"{where} '{name}'") for name, expr in step.compute.items()}
        parts = [f"({made[c]}) AS {quote(c)}" if c in made else quote(c) for c in columns]
        parts += [f"({expr}) AS {quote(name)}" for name, expr in made.items() if name not in columns]
        return f"SELECT {', '.join(parts)} {source}"
    if step.group_by is not None:
        group = step.group_by
        used = [getattr(a, f) for a in group.aggregate.values() for f in FUNCTIONS if getattr(a, f) not in (None, "*")]
        _need(columns, group.by + used, where)
        parts = [quote(c) for c in group.by] + [f"{a.sql()} AS {quote(n)}" for n, a in group.aggregate.items()]
        by = f" GROUP BY {', '.join(quote(c) for c in group.by)}" if group.by else ""
        return f"SELECT {', '.join(parts)} {source}{by}"
    if step.join is not None:
        return _join_sql(conn, step.join, current, columns, joined or "", where)
    if step.sort is not None:
        _need(columns, [c[1:] if c.startswith("-") else c for c in step.sort], where)
        return f"SELECT * {source} ORDER BY {', '.join(_sort_key(c) for c in step.sort)}"
    if step.limit is not None:
        return f"SELECT * {source} LIMIT {int(step.limit)}"
    return f"SELECT {'DISTINCT ' if step.distinct else ''}* {source}"


def _join_sql(conn: Any, join: Join, current: str, columns: list[str], other: str, where: str) -> str:
    pairs = dict(join.on) if isinstance(join.on, dict) else {c: c for c in join.on}
    if not pairs:
        raise TaskFailed(f"{where}: 'on' names no column")
    theirs = _columns(conn, other)
    _need(columns, list(pairs), where)
    _need(theirs, list(pairs.values()), where, " in the joined file")
    brought = join.select if join.select is not None else [c for c in theirs if c not in pairs.values()]
    _need(theirs, brought, where, " in the joined file")
    clash = [c for c in brought if c in columns]
    if clash:
        raise TaskFailed(
            f"{where}: the joined file's {', '.join(clash)} already exist: rename them first or list 'select'"
        )
    condition = " AND ".join(f"a.{quote(mine)} = b.{quote(its)}" for mine, its in pairs.items())
    mine = [f"a.{quote(c)}" for c in columns]
    if join.how in ("right", "full"):  # a row only the other file has gets its join values
        mine = [
            f"coalesce(a.{quote(c)}, b.{quote(pairs[c])}) AS {quote(c)}" if c in pairs else f"a.{quote(c)}"
            for c in columns
        ]
    parts = mine + [f"b.{quote(c)}" for c in brought]
    return f"SELECT {', '.join(parts)} FROM {current} AS a {join.how.upper()} JOIN {other} AS b ON {condition}"
