"""Fixtures of the studio tests: a real studio server (``lanner server``) and a real browser (Debian's Chromium via
Playwright) for the page tests; a real database behind the studio's services for the service tests (``db``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from studio import services
from tests.support.studio import ADMIN, CHROMIUM, CHROMIUM_ARGS, api, running_studio, sign_in


@pytest.fixture
def db(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The studio services' database (``services.database()``), fresh and empty, on SQLite and PostgreSQL: the
    test's module seeds it (flows, users...) in a fixture of its own. No Redis is configured, so an action that
    skipped its access check would fail another way than the test expects; a test that starts runs asks for one."""
    monkeypatch.setenv("LANNER_HOME", str(tmp_path))
    monkeypatch.setenv("LANNER_DATABASE_URL", database_url)
    monkeypatch.delenv("LANNER_REDIS_URL", raising=False)
    services.database.cache_clear()
    engine = services.database()
    yield engine
    services.database.cache_clear()
    engine.dispose()


@pytest.fixture(scope="session")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The studio most browser tests share, with the administrator the ``page`` fixture signs in as."""
    with running_studio(tmp_path_factory.mktemp("studio-home"), admin=ADMIN) as running:
        yield running


@pytest.fixture
def admin_api(studio) -> Iterator[httpx.Client]:
    """The studio's API under /api/v1, signed in as the administrator."""
    with httpx.Client(base_url=f"{studio['url']}/api/v1", timeout=60, cookies=api(studio).cookies) as client:
        yield client


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (make test installs Debian's chromium when it can)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request):
    """A browser tab signed in as the administrator (when the test uses the ``studio`` fixture)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    if "studio" in request.fixturenames:
        studio = request.getfixturevalue("studio")
        sign_in(context, studio["url"], *studio["admin"])
    page = context.new_page()
    yield page
    context.close()
