"""The namespace hierarchy: ``acme.sales.eu`` sits under ``acme.sales``, which sits under ``acme``.

The one place that knows how names nest: ancestors and lineage (grants, variables and secrets are inherited
down the tree), whether one namespace is within another (subflow reach), and the SQL condition selecting a
namespace's subtree (listings, authorization). Pure: strings in, strings out, or an SQL expression built from
the column it is given (SQLAlchemy's expression language, no connection).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, or_
from sqlalchemy.sql.elements import ColumnElement

SEPARATOR = "."


def ancestors(namespace: str) -> list[str]:
    """``acme.sales.eu`` -> ``["acme", "acme.sales", "acme.sales.eu"]`` (the namespace itself is the last)."""
    parts = namespace.split(SEPARATOR)
    return [SEPARATOR.join(parts[:depth]) for depth in range(1, len(parts) + 1)]


def lineage(namespace: str) -> list[str]:
    """The namespace and its parents, nearest first: ``a.b.c`` -> ``[a.b.c, a.b, a]`` (a nearer one wins)."""
    return ancestors(namespace)[::-1]


def root(namespace: str) -> str:
    """The top-level namespace: ``acme.sales.eu`` -> ``acme``."""
    return namespace.split(SEPARATOR, 1)[0]


def is_within(namespace: str, top: str) -> bool:
    """Whether ``namespace`` is ``top`` or below it (``acme.salesforce`` is not within ``acme.sales``)."""
    return namespace == top or namespace.startswith(top + SEPARATOR)


def subtree_condition(column: Any, top: str) -> ColumnElement[bool]:
    """An SQL condition on a namespace column: true for ``top`` and every namespace below it.

    "Below ``top``" is the range ``['top.', 'top/')``: exact in byte order, since ``/`` follows ``.``, which is the
    order namespace columns compare in on every database (engine/store/tables.py, migration 0025). The namespace
    indexes answer it, where neither SQLite nor PostgreSQL answers ``LIKE 'top.%'`` from an index on these columns
    (a one-team viewer's executions page at 1,000,000 executions: 137 -> 40 ms on SQLite, 550 -> ... ms on
    PostgreSQL).
    """
    below = and_(column >= top + SEPARATOR, column < top + chr(ord(SEPARATOR) + 1))
    return or_(column == top, below)
