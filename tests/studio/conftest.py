"""A real studio server (``lanner server``) and a real browser (Debian's Chromium via Playwright)."""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent.parent
ADMIN = ("admin", "admin password 123")
CHROMIUM = os.environ.get("LANNER_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]  # fmt: skip


def _wait_for(url: str, process: subprocess.Popen, log: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the studio exited early:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"the studio did not answer {url} in {seconds:.0f}s:\n{log.read_text()[-4000:]}")


@contextlib.contextmanager
def running_studio(home: Path, *, admin: tuple[str, str] | None) -> Iterator[dict]:
    """``lanner server`` on a free port with its own LANNER_HOME and the examples deployed; with ``admin``, that
    administrator exists (without, the studio starts as on a fresh install: it asks to create one)."""
    if shutil.which("npm") is None:
        pytest.skip("the studio needs Node.js/npm to build")
    env = {**os.environ, "LANNER_HOME": str(home)}
    env.pop("LANNER_DATABASE_URL", None)
    lanner = [sys.executable, "-m", "engine"]
    subprocess.run([*lanner, "flow", "deploy", str(ROOT / "examples")], env=env, check=True, capture_output=True)
    if admin:
        subprocess.run([*lanner, "user", "create", admin[0], "--admin", "--password-stdin"], env=env, check=True,
                       capture_output=True, input=f"{admin[1]}\n", text=True)  # fmt: skip
    port = free_port()
    log = home / "server.log"
    with open(log, "w") as out:
        process = subprocess.Popen([*lanner, "server", "--port", str(port)], env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        _wait_for(f"http://127.0.0.1:{port}/ping", process, log, 400)
        yield {"url": f"http://127.0.0.1:{port}", "home": home, "env": env, "admin": admin}
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(20)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


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


def sign_in(context, url: str, username: str, password: str) -> None:
    """Sign a browser context in through the API (its cookie jar is the context's): pages then open signed in."""
    answer = context.request.post(f"{url}/api/v1/auth/login", data={"username": username, "password": password})
    assert answer.ok, answer.text()


@functools.cache
def _api(url: str, username: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=60)
    answer = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert answer.is_success, answer.text
    return client


def api(studio: dict, username: str = "", password: str = "") -> httpx.Client:
    """An HTTP client of the studio's API signed in (its cookie jar holds the session): the administrator
    unless told; one sign-in per person for the whole run."""
    return _api(studio["url"], *((username, password) if username else studio["admin"]))


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
