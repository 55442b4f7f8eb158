"""Two ``lanner server`` from one checkout on two ports (issue 12, item 15): each builds into its own folder, so
the pages of each reach their own server, whichever started last."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from urllib.parse import urlsplit

import pytest

from engine.runtime import launcher
from tests.support.studio import ADMIN, ROOT, running_studio, sign_in


def test_each_running_studio_of_a_checkout_gets_its_own_build_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("REFLEX_WEB_WORKDIR", raising=False)
    monkeypatch.setattr(launcher, "TOOLS", tmp_path)
    with launcher.own_build_folder() as first, launcher.own_build_folder() as second:
        assert first == {}  # Reflex's own .web: a single server works as it always did
        assert second == {"REFLEX_WEB_WORKDIR": ".web-2", "REFLEX_STATES_WORKDIR": ".states-2"}
        # Another process (another `lanner server`) sees both taken, and gets the third.
        script = textwrap.dedent(f"""
            from pathlib import Path
            from engine.runtime import launcher
            launcher.TOOLS = Path({str(tmp_path)!r})
            with launcher.own_build_folder() as third:
                print(third["REFLEX_WEB_WORKDIR"])
        """)
        other = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
        assert other.stdout.strip() == ".web-3"
    with launcher.own_build_folder() as again:  # released when a server stops: the next one reuses it
        assert again == {}


def test_all_build_folders_taken_is_a_clear_refusal(tmp_path, monkeypatch):
    monkeypatch.delenv("REFLEX_WEB_WORKDIR", raising=False)
    monkeypatch.setattr(launcher, "TOOLS", tmp_path)
    monkeypatch.setattr(launcher, "BUILD_FOLDERS", 1)
    with launcher.own_build_folder():
        refused = launcher.own_build_folder()
        with pytest.raises(SystemExit, match="1 studios already run from"):
            refused.__enter__()


@pytest.mark.slow
def test_two_servers_from_one_checkout_each_serve_pages_that_reach_their_own_backend(studio, browser, tmp_path_factory):
    with running_studio(tmp_path_factory.mktemp("second-studio"), admin=ADMIN) as second:
        for server in (studio, second):  # the first one's pages are opened after the second was built
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            try:
                sign_in(context, server["url"], *ADMIN)
                page = context.new_page()
                sockets: list[str] = []
                page.on("websocket", lambda ws, sockets=sockets: sockets.append(ws.url))
                page.goto(f"{server['url']}/flows")
                page.wait_for_function("document.querySelector('#signed-in-as')?.innerText === 'admin'", timeout=60_000)
                page.locator("tr.flow-row").first.wait_for(timeout=30_000)
                port = urlsplit(server["url"]).port
                assert sockets and all(urlsplit(url).port == port for url in sockets), (server["url"], sockets)
            finally:
                context.close()
