"""The SQL connector family: ``query``, ``load`` and ``export`` for each database family (connection.py)."""

from engine.tasks.sql import export, load, query, trigger  # noqa: F401 - importing registers the task and trigger types
from engine.tasks.sql.connection import json_safe

__all__ = ["json_safe"]
