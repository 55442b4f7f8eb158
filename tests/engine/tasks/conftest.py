"""Run one task directly, as a worker would, with a real RunContext: no Redis, no executor."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.storage.local import LocalStorage
from engine.tasks import registry
from engine.tasks.context import RunContext
from tests.support.sql_families import FAMILIES, family_database


@pytest.fixture
def context(tmp_path: Path) -> RunContext:
    workdir = tmp_path / "work"
    workdir.mkdir()
    return RunContext(
        task_id="task",
        execution_id="execution",
        folder=workdir,
        storage=LocalStorage(tmp_path / "storage"),
        is_killed=lambda: False,
        namespace="acme",
        flow_id="flow",
    )


@pytest.fixture
def run_task(context: RunContext) -> Callable[..., dict[str, Any]]:
    """Validate a task as the flow loader does (camelCase keys), then run it."""

    def run(type_name: str, **properties: Any) -> dict[str, Any]:
        task = registry.get(type_name).model_validate({"id": "task", "type": type_name, **properties})
        return task.run(context)

    return run


@pytest.fixture(
    scope="module", params=[pytest.param(f, marks=pytest.mark.postgres) if f == "postgresql" else f for f in FAMILIES]
)
def sql_database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """``(family, url)``: a private empty database of each SQL family, shared by a module's tests (which use
    tables of their own); PostgreSQL and MariaDB on this machine's servers, SQLite and DuckDB files."""
    with family_database(request.param, tmp_path_factory.mktemp("db")) as url:
        yield request.param, url
