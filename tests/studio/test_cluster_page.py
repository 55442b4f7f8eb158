"""The Cluster page in a real browser against a real ``lanner server``, with a worker started on its own beside it:
the processes alive, the task run a worker holds, a killed worker leaving within its heartbeat timeout, and
nothing of it for people who are not administrators (page and API)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from studio.pages.cluster.state import REFRESH_SECONDS
from tests.support.studio import api, sign_in

pytestmark = pytest.mark.slow

HEARTBEAT_TIMEOUT = 2.0  # the separate worker's own: its heartbeat expires this long after its death
OPERATOR = ("opal", "opal password 123")
SLEEPER = """\
id: sleeper
namespace: cluster.checks
tasks:
  - {id: nap, type: shell, commands: ['sleep 4']}
"""


@pytest.fixture
def lone_worker(studio):
    """``lanner worker`` started on its own on the studio's Redis, beating every 0.3 s."""
    env = {**studio["env"], "LANNER_HEARTBEAT_INTERVAL": "0.3", "LANNER_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT)}
    with open(studio["home"] / "lone-worker.log", "ab") as log:
        process = subprocess.Popen([sys.executable, "-m", "engine", "worker"], env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    yield process
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def test_the_cluster_page_shows_the_processes_alive_and_drops_a_killed_worker(studio, page, lone_worker):
    url = studio["url"]
    page.goto(f"{url}/cluster")
    mine = page.locator(f".cluster-process[data-pid='{lone_worker.pid}']")
    mine.wait_for(timeout=60_000)
    assert page.locator(".cluster-process[data-kind='executor']").count() >= 1
    assert page.locator(".cluster-process[data-kind='scheduler']").count() >= 1
    assert mine.get_attribute("data-kind") == "worker"
    assert page.locator("#cluster-database").inner_text().strip().endswith("answers")
    assert page.locator("#cluster-redis").inner_text().strip().endswith("answers")
    assert page.locator("#cluster-metrics-url").get_attribute("href").endswith("/metrics")
    assert page.locator("a.nav-link[href='/cluster']").count() == 1  # offered to administrators

    # A worker running a task shows it, linking to its execution (the studio's workers or the lone one take it).
    client = api(studio)
    assert client.post("/api/v1/flows", content=SLEEPER, headers={"content-type": "application/x-yaml"}).is_success
    started = client.post("/api/v1/executions/trigger/cluster.checks/sleeper", json={})
    assert started.is_success, started.text
    held = page.locator(".cluster-run", has_text="cluster.checks/sleeper · nap")
    held.wait_for(timeout=30_000)
    assert held.get_attribute("href") == f"/executions/{started.json()['id']}"

    os.killpg(lone_worker.pid, signal.SIGKILL)  # no goodbye: only the expiry of its heartbeat tells
    lone_worker.wait(10)
    killed_at = time.monotonic()
    mine.wait_for(state="detached", timeout=30_000)
    gone_after = time.monotonic() - killed_at
    # its heartbeat timeout, plus the page's refresh and a loaded machine's round trip to the browser
    assert gone_after < HEARTBEAT_TIMEOUT + REFRESH_SECONDS + 2, f"still shown {gone_after:.1f}s after it died"
    assert page.locator(".cluster-process[data-kind='executor']").count() >= 1


def test_people_who_are_not_administrators_see_no_cluster(studio, browser):
    admin = api(studio)
    created = admin.post("/api/v1/users", json={"username": OPERATOR[0], "password": OPERATOR[1]})
    assert created.is_success or created.status_code == 409, created.text
    assert admin.get("/api/v1/cluster").json()["processes"]  # the administrator's answer, for contrast

    theirs = api(studio, *OPERATOR)
    refused = theirs.get("/api/v1/cluster")
    assert refused.status_code == 403 and "administrators" in refused.text

    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        sign_in(context, studio["url"], *OPERATOR)
        page = context.new_page()
        page.goto(f"{studio['url']}/cluster")
        page.locator("#cluster-refused").wait_for(timeout=60_000)
        assert "administrators" in page.locator("#cluster-refused").inner_text()
        assert page.locator(".cluster-process").count() == 0
        assert page.locator("a.nav-link[href='/cluster']").count() == 0
    finally:
        context.close()
