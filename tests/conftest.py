"""Shared fixtures: a real database per test, on SQLite and (when reachable) on PostgreSQL, and a real Redis.

Helpers the tests import are in ``tests/support/``; this file and the other ``conftest.py`` files hold fixtures only.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from engine.config import reset_settings
from engine.runtime.connection import embedded_redis
from engine.store.database import open_database
from tests.support.postgres import POSTGRES_URL, postgres_admin, throwaway_database


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Engine]:
    admin = postgres_admin()
    if admin is None:
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL} (set LANNER_TEST_POSTGRES_URL)")
    yield admin
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a new PostgreSQL database dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'lanner.db'}"
        return
    with throwaway_database(request.getfixturevalue("postgres_server")) as url:
        yield url


@pytest.fixture
def database(database_url: str) -> Iterator[Engine]:
    engine = open_database(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """LANNER_TEST_REDIS_URL when set (CI may point at the machine's server), else an embedded Redis. Tests empty
    their Redis database: with several pytest workers, each takes the next database number of the given URL."""
    if os.environ.get("LANNER_TEST_REDIS_URL"):
        url = urllib.parse.urlsplit(os.environ["LANNER_TEST_REDIS_URL"])
        worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
        number = int(url.path.strip("/") or 0) + worker
        yield url._replace(path=f"/{number}").geturl()
        return
    with embedded_redis(tmp_path_factory.mktemp("redis")) as url:
        yield url


class _SettingsMonkeyPatch(pytest.MonkeyPatch):
    """``monkeypatch`` that makes the process read its settings again whenever a test changes the environment:
    engine/config.py reads ``LANNER_*`` once per process, and a test's ``setenv`` must still take effect."""

    def setenv(self, name: str, value: str, prepend: str | None = None) -> None:
        super().setenv(name, value, prepend)
        reset_settings()

    def delenv(self, name: str, raising: bool = True) -> None:
        super().delenv(name, raising)
        reset_settings()

    def undo(self) -> None:
        super().undo()
        reset_settings()


@pytest.fixture
def monkeypatch() -> Iterator[pytest.MonkeyPatch]:
    patch = _SettingsMonkeyPatch()
    yield patch
    patch.undo()


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    """Every test starts from the settings its environment gives, whatever an earlier test read."""
    reset_settings()
    yield
    reset_settings()
