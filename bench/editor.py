"""Editor performance with a 200-task flow, in a real browser against a real ``lanner server``; prints JSON.

Run: .venv/bin/python bench/editor.py   (needs Debian's chromium at /usr/bin/chromium)
Measures: time until the editor is interactive, a canvas edit reaching the YAML, a YAML edit reaching
the canvas after the typing pause, and websocket frames sent while a node is dragged (should be 0).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEBOUNCE_MS = 350
TASKS = int(os.environ.get("LANNER_BENCH_TASKS", "200"))


def big_flow(count: int) -> str:
    lines = ["id: big", "namespace: bench", "tasks:"]
    for index in range(count):
        depends = f"[t{index - 1}, t{index // 2}]" if index > 1 else "[]"
        lines += [f"  - id: t{index}", "    type: log", f"    dependsOn: {depends}", f"    message: step {index}"]
    return "\n".join(lines) + "\n"


def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="lanner-editor-bench-"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "LANNER_HOME": str(home)}
    env.pop("LANNER_DATABASE_URL", None)
    env.pop("LANNER_REDIS_URL", None)
    (home / "big.yml").write_text(big_flow(TASKS))
    subprocess.run(
        [sys.executable, "-m", "engine", "flow", "deploy", str(home / "big.yml")],
        env=env,
        check=True,
        capture_output=True,
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "engine", "server", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        results = measure(f"http://127.0.0.1:{port}")
        print(json.dumps(results, indent=2))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)


def measure(url: str) -> dict:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 950})
        page.goto(url + "/flows")  # warm the bundle once, as a returning user would
        page.wait_for_load_state("networkidle")
        started = time.perf_counter()
        page.goto(url + "/flows/bench/big")
        page.wait_for_function(f"document.querySelectorAll('.lanner-node').length === {TASKS}", timeout=60_000)
        page.locator("#yaml-editor .cm-content").wait_for()
        interactive = time.perf_counter() - started

        frames: list[str] = []
        page.on("websocket", lambda ws: ws.on("framesent", lambda payload: frames.append(str(payload))))
        page.reload()
        page.wait_for_function(f"document.querySelectorAll('.lanner-node').length === {TASKS}", timeout=60_000)
        page.wait_for_timeout(500)
        node = page.locator(".react-flow__node[data-id='t0']").bounding_box()
        frames.clear()
        page.mouse.move(node["x"] + 20, node["y"] + 10)
        page.mouse.down()
        for step in range(30):
            page.mouse.move(node["x"] + 20 + step * 4, node["y"] + 10 + step * 2)
        sent_while_dragging = len(frames)
        page.mouse.up()

        received: list[float] = []
        page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: received.append(time.perf_counter())))
        started = time.perf_counter()
        page.drag_and_drop(
            ".palette-item[data-type='log']", ".react-flow__pane", target_position={"x": 30, "y": 30}, force=True
        )
        # The YAML text and the canvas come in one state update; CodeMirror only renders visible lines,
        # so the new node is the signal, and the YAML is checked after scrolling to its end.
        page.wait_for_function(f"document.querySelectorAll('.lanner-node').length === {TASKS + 1}", timeout=30_000)
        canvas_to_yaml = time.perf_counter() - started
        times = page.evaluate("window.__lannerTimes")
        in_page = times["nodes"] - times["drop"]
        page.locator("#yaml-editor .cm-content").click()
        page.keyboard.press("Control+End")
        page.wait_for_function(
            "document.querySelector('#yaml-editor .cm-content').innerText.includes('id: log_1')", timeout=10_000
        )

        page.keyboard.insert_text("  - {id: typed, type: log, message: hi}\n")
        started = time.perf_counter()
        page.wait_for_function(
            "document.querySelector(\".react-flow__node[data-id='typed']\") !== null", timeout=30_000
        )
        yaml_to_canvas = time.perf_counter() - started
        browser.close()
    return {
        "tasks": TASKS,
        "interactive_s": round(interactive, 3),
        # From the drop event in the page to the new YAML and nodes there (the text and the canvas come in
        # one state update); the second figure adds Playwright's own drag-and-drop steps.
        "canvas_edit_to_yaml_in_page_ms": round(in_page),
        "canvas_edit_to_yaml_with_drag_ms": round(canvas_to_yaml * 1000),
        "yaml_edit_to_canvas_after_pause_ms": round(yaml_to_canvas * 1000 - DEBOUNCE_MS),
        "websocket_frames_while_dragging": sent_while_dragging,
    }


if __name__ == "__main__":
    main()
