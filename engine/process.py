"""Run a child process for a task: its output becomes log lines, a kill or timeout stops it at once."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from engine.children import die_with_parent
from engine.runtime import RunContext, TaskKilled, TaskTimedOut
from engine.sdk import parse_marker

POLL = 0.05


def run_process(argv: list[str], ctx: RunContext, *, env: dict[str, str], cwd: Path) -> tuple[int, dict[str, Any]]:
    """Run ``argv``; stdout lines log as INFO and stderr as WARN; returns (exit code, emitted outputs)."""
    outputs: dict[str, Any] = {}
    process = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=die_with_parent,
    )

    def pump(stream, level: str) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            payload = parse_marker(line)
            if payload is None:
                ctx.log(level, line)
            elif isinstance(payload.get("outputs"), dict):
                outputs.update(payload["outputs"])
            elif isinstance(payload.get("log"), dict):
                ctx.log(str(payload["log"].get("level", "INFO")), str(payload["log"].get("message", "")))
        stream.close()

    readers = [
        threading.Thread(target=pump, args=(process.stdout, "INFO"), daemon=True),
        threading.Thread(target=pump, args=(process.stderr, "WARN"), daemon=True),
    ]
    for reader in readers:
        reader.start()
    try:
        while process.poll() is None:
            ctx.check()
            time.sleep(POLL)
    except (TaskKilled, TaskTimedOut):
        _stop(process)
        raise
    for reader in readers:
        reader.join(5)
    return process.returncode, outputs


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM the whole process group, then SIGKILL what is left after a grace period."""
    for sig, wait in ((signal.SIGTERM, 1.5), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue
