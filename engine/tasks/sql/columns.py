"""The SQL side of a table file: a checked table name, and column types from the file's Arrow schema.

The types are SQLAlchemy's generic ones, so each dialect writes its own (BIGINT, DOUBLE PRECISION / DOUBLE / REAL,
NUMERIC(p, s), TIMESTAMP / DATETIME...) and quotes every name itself: no name is ever pasted into SQL as written.
"""

from __future__ import annotations

import re
from typing import Any

from engine.tasks.context import ConfigurationError

TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


def split_table(name: str) -> tuple[str | None, str]:
    """``(schema, table)`` of ``table`` or ``schema.table``; a name with other characters than letters, digits and
    ``_`` (spaces, quotes, semicolons...) is refused rather than quoted, so a computed name cannot smuggle SQL."""
    if not TABLE_NAME.match(name):
        shown = name if len(name) <= 80 else name[:77] + "..."
        raise ConfigurationError(
            f"table '{shown}' is not a table name: use letters, digits and _ (schema.table for another schema)"
        )
    schema, _, table = name.rpartition(".")
    return schema or None, table


def identifier(name: str, dialect: str) -> Any:
    """A name for SQLAlchemy to quote: DuckDB reserves words PostgreSQL does not (at, ...), yet duckdb-engine
    quotes as PostgreSQL does, so there every name is quoted (which keeps its case, as the file wrote it)."""
    from sqlalchemy.sql.elements import quoted_name

    return quoted_name(name, True) if dialect == "duckdb" else name


def sql_type(field: Any, dialect: str, key: bool = False) -> Any:
    """The SQLAlchemy type for an Arrow field (``key``: a column of a unique key, which MySQL cannot index as TEXT)."""
    import pyarrow as pa
    import sqlalchemy as sa

    kind = field.type
    if pa.types.is_boolean(kind):
        return sa.Boolean()
    if pa.types.is_int8(kind) or pa.types.is_int16(kind) or pa.types.is_uint8(kind):
        return sa.SmallInteger()
    if pa.types.is_int32(kind) or pa.types.is_uint16(kind):
        return sa.Integer()
    if pa.types.is_int64(kind) or pa.types.is_uint32(kind):
        return sa.BigInteger()
    if pa.types.is_uint64(kind):
        return sa.Numeric(20, 0)
    if pa.types.is_float16(kind) or pa.types.is_float32(kind):
        return sa.Float()
    if pa.types.is_float64(kind):
        return sa.Double()
    if pa.types.is_decimal(kind):
        return sa.Numeric(kind.precision, kind.scale)
    if pa.types.is_date(kind):
        return sa.Date()
    if pa.types.is_timestamp(kind):
        return sa.DateTime(timezone=kind.tz is not None)
    if pa.types.is_time(kind):
        return sa.Time()
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind) or pa.types.is_fixed_size_binary(kind):
        return sa.LargeBinary()
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind):
        return sa.String(255) if key and dialect in ("mysql", "mariadb") else sa.Text()
    raise ConfigurationError(
        f"column '{field.name}' holds {kind} values: a table loads flat columns (text, numbers, dates, booleans)"
    )


def table_model(name: str, schema: Any, dialect: str, keys: list[str], unique: bool) -> tuple[Any, list[str]]:
    """A SQLAlchemy ``Table`` with the file's columns (a unique key on ``keys`` when ``unique``), and their names."""
    import sqlalchemy as sa

    names = list(schema.names)
    if not names:
        raise ConfigurationError("the file has no columns to load")
    duplicated = sorted({column for column in names if names.count(column) > 1})
    if duplicated:
        raise ConfigurationError(f"the file has column '{duplicated[0]}' more than once")
    missing = [key for key in keys if key not in names]
    if missing:
        raise ConfigurationError(f"key '{missing[0]}' is not a column of the file (its columns: {', '.join(names)})")
    table_schema, table_name = split_table(name)
    columns: list[Any] = [
        sa.Column(
            identifier(field.name, dialect),
            sql_type(field, dialect, key=field.name in keys),
            nullable=field.name not in keys,
        )
        for field in schema
    ]
    if unique and keys:
        columns.append(sa.UniqueConstraint(*(identifier(key, dialect) for key in keys)))
    table = sa.Table(
        identifier(table_name, dialect),
        sa.MetaData(),
        *columns,
        schema=identifier(table_schema, dialect) if table_schema else None,
    )
    return table, names
