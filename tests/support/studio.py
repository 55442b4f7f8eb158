"""A real studio server (``lanner server``) with its own home, and clients signed in to it (HTTP and browser)."""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import ROOT
from tests.support.ports import free_port, wait_for_http

ADMIN = ("admin", "admin password 123")
CHROMIUM = os.environ.get("LANNER_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]  # fmt: skip


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
        wait_for_http(f"http://127.0.0.1:{port}/ping", process, log, 400, name="the studio")
        yield {"url": f"http://127.0.0.1:{port}", "home": home, "env": env, "admin": admin}
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(20)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


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


def open_flow(studio, page, source: str, flow_id: str) -> None:
    # Deployed through the API with the page's own sign-in (its context's cookies).
    answer = page.request.post(
        f"{studio['url']}/api/v1/flows", data=source, headers={"content-type": "application/x-yaml"}
    )
    assert answer.ok, answer.text()
    page.goto(f"{studio['url']}/flows/studio.tests/{flow_id}")
    page.locator(".lanner-node").first.wait_for(timeout=60_000)
