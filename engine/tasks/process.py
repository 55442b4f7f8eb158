"""Run a child process for a task: its output becomes log lines, a kill or timeout stops it at once."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.config import load_settings
from engine.runtime.children import popen_dying_with_parent
from engine.sdk import MARKER, parse_marker
from engine.tasks.context import RunContext, TaskFailed, TaskKilled, TaskTimedOut, output_too_big

CHECK_SECONDS = 0.05  # how often a running child's task is asked whether it was killed or timed out


def wait_checking(process: subprocess.Popen, check: Callable[[], None] | None = None) -> int:
    """``process``' exit code once it ends, with ``check`` (which raises on a kill or a timeout) called every
    CHECK_SECONDS meanwhile. It returns as soon as the process ends (``Popen.wait`` looks from half a millisecond
    on), not at the next check: sleeping between checks made every command, even a 3 ms ``echo``, last 50 ms."""
    while True:
        try:
            return process.wait(CHECK_SECONDS)
        except subprocess.TimeoutExpired:
            if check is not None:
                check()


def run_process(argv: list[str], ctx: RunContext, *, env: dict[str, str], cwd: Path) -> tuple[int, dict[str, Any]]:
    """Run ``argv``; stdout lines log as INFO and stderr as WARN; returns (exit code, emitted outputs)."""
    outputs: dict[str, Any] = {}
    process = popen_dying_with_parent(
        argv,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )

    # An engine.sdk line carrying one output under the size limit always fits (JSON escapes at most triple it).
    longest = 3 * load_settings().max_output_bytes + 64 * 1024
    too_big: list[str] = []

    def pump(stream, level: str) -> None:
        while True:
            raw, size = _read_line(stream, longest)
            if not raw:
                break
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if size > len(raw):  # the rest of the line was read and dropped
                if line.startswith(MARKER):
                    too_big.append(_oversized_marker(line, size))
                else:
                    ctx.log(level, line)  # cut to LOG_LINE_CHARS, with a note
                continue
            payload = parse_marker(line)
            if payload is None:
                ctx.log(level, line)
            elif isinstance(payload.get("outputs"), dict):
                outputs.update(payload["outputs"])
            elif isinstance(payload.get("log"), dict):
                ctx.log(str(payload["log"].get("level", "INFO")), str(payload["log"].get("message", "")))
            elif isinstance(payload.get("metric"), dict):
                refused = ctx.metrics.record(payload["metric"])
                if refused:
                    ctx.log("WARN", f"metric ignored: {refused}")
        stream.close()

    readers = [
        threading.Thread(target=pump, args=(process.stdout, "INFO"), daemon=True),
        threading.Thread(target=pump, args=(process.stderr, "WARN"), daemon=True),
    ]
    for reader in readers:
        reader.start()
    try:
        wait_checking(process, ctx.check)
    except (TaskKilled, TaskTimedOut):
        _stop(process)
        raise
    for reader in readers:
        reader.join(5)
    if too_big:
        raise TaskFailed(too_big[0])
    return process.returncode, outputs


def run_before_commands(commands: list[str], ctx: RunContext, *, env: dict[str, str], cwd: Path) -> None:
    """Run a task's ``beforeCommands`` in ``cwd`` (one shell, stopping at the first that fails); their output is
    logged like the task's own. A failure fails the task before its script starts."""
    if not commands:
        return
    code, _ = run_process(["/bin/sh", "-c", "\n".join(["set -e", *commands])], ctx, env=env, cwd=cwd)
    if code != 0:
        raise TaskFailed(f"beforeCommands failed with exit code {code} (their output is in the logs)")


def _read_line(stream, longest: int) -> tuple[bytes, int]:
    """The next line's first ``longest`` bytes and its whole length (the rest is read and dropped)."""
    head = stream.readline(longest)
    size = len(head)
    if size == longest and not head.endswith(b"\n"):
        while more := stream.readline(longest):
            size += len(more)
            if more.endswith(b"\n"):
                break
    return head, size


_OUTPUT_KEY = re.compile(r'\{"outputs": ?\{"((?:[^"\\]|\\.)*)": ?')


def _oversized_marker(line: str, size: int) -> str:
    """The failure for an engine.sdk line too long to read: which output, and about how big it is."""
    found = _OUTPUT_KEY.match(line, len(MARKER))
    if found is None:
        return f"an engine.sdk line of {size:,} bytes is too long to read; store large data in a file (outputFiles)"
    name = json.loads(f'"{found.group(1)}"')
    value_size = size - found.end() - len("}}\n")
    return output_too_big(f"vars.{name}", value_size, load_settings().max_output_bytes)


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
