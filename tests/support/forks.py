"""The ``lanner`` command as real processes, started in milliseconds: forked from a fork server that has imported
the engine once per test session, instead of a fresh ``python -m engine`` importing it again (2-3 s of CPU each;
the engine tests start hundreds of executors, workers, API servers and commands).

Each child is a real, separate process in a session of its own, with the environment, folder, input and output it
was given, running ``engine.cli.main`` exactly as ``python -m engine`` would after its imports; it ends through
the interpreter's exit handlers like any process. ``LANNER_TEST_FORK_SERVER=0`` starts fresh interpreters instead
(the studio's tests always do: ``tests/support/studio.py``).

Run as ``python -m tests.support.forks``, this module is the fork server: it reads one JSON request per line on
stdin and answers one JSON line on stdout.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import IO

from engine.runtime.children import ForkedChild
from tests.support import ROOT

ENABLED = os.environ.get("LANNER_TEST_FORK_SERVER", "1") != "0"


class ForkedProcess(ForkedChild):
    """What the tests use of ``subprocess.Popen``, for a child of the fork server (which reaps it when asked)."""

    def __init__(self, server: _ForkServer, pid: int, args: list[str]) -> None:
        super().__init__(pid)
        self._server, self.args = server, args

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self._server.request({"op": "status", "pid": self.pid})["returncode"]
        return self.returncode


class _ForkServer:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._log = tempfile.NamedTemporaryFile(prefix="lanner-fork-server-", suffix=".log", delete=False)  # noqa: SIM115
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.forks"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        self.request({"op": "ready"})  # its imports are done: the first start is as quick as the others
        atexit.register(self.close)

    def request(self, message: dict) -> dict:
        with self._lock:
            self._process.stdin.write(json.dumps(message) + "\n")
            self._process.stdin.flush()
            line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"the fork server stopped: {Path(self._log.name).read_text()[-3000:]}")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(answer["error"])
        return answer

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._process.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(5)
        self._log.close()
        Path(self._log.name).unlink(missing_ok=True)


_server: _ForkServer | None = None
_server_lock = threading.Lock()


def _fork_server() -> _ForkServer:
    global _server
    with _server_lock:
        if _server is None:
            _server = _ForkServer()
        return _server


def start_lanner(
    args: list[str],
    env: dict[str, str],
    *,
    stdout: IO,
    stderr: IO | int = subprocess.STDOUT,
    stdin: IO | None = None,
    cwd: Path | None = None,
) -> ForkedProcess | subprocess.Popen:
    """``lanner ARGS`` in a session of its own, its output to open files (``stderr`` may be ``STDOUT``)."""
    command = [sys.executable, "-m", "engine", *args]
    if not ENABLED:
        return subprocess.Popen(
            command, env=env, cwd=cwd, stdin=stdin or subprocess.DEVNULL, stdout=stdout, stderr=stderr,
            start_new_session=True,
        )  # fmt: skip
    server = _fork_server()
    pid = server.request(
        {
            "op": "start",
            "args": list(args),
            "env": dict(env),
            "cwd": str(cwd or Path.cwd()),
            "stdin": f"/proc/{os.getpid()}/fd/{stdin.fileno()}" if stdin else os.devnull,
            "stdout": f"/proc/{os.getpid()}/fd/{stdout.fileno()}",
            "stderr": None if stderr == subprocess.STDOUT else f"/proc/{os.getpid()}/fd/{stderr.fileno()}",
        }
    )["pid"]
    return ForkedProcess(server, pid, command)


def run_lanner(args: list[str], env: dict[str, str], *, cwd: Path, input: bytes = b"") -> subprocess.CompletedProcess:
    """``lanner ARGS`` to its end, its output captured (``subprocess.run(..., capture_output=True)``)."""
    with tempfile.TemporaryFile() as stdin, tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        stdin.write(input)
        stdin.flush()
        stdin.seek(0)
        process = start_lanner(args, env, stdout=out, stderr=err, stdin=stdin, cwd=cwd)
        returncode = process.wait()
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(process.args, returncode, out.read(), err.read())


# --- the fork server ---------------------------------------------------------------------------------------------


def _child(request: dict, streams: tuple[int, int, int], caches: list) -> None:
    """In the forked child: become the process ``python -m engine ARGS`` would be, run the command, exit."""
    code = 1
    try:
        os.setsid()
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        for cache in caches:  # nothing read before the fork may outlive it (none should have been filled)
            cache.cache_clear()
        for source, target in zip(streams, (0, 1, 2), strict=True):
            os.dup2(source, target)
        # fresh streams on the new descriptors, buffered as a new interpreter's would be
        unbuffered = bool(os.environ.get("PYTHONUNBUFFERED"))
        sys.stdin = io.TextIOWrapper(open(0, "rb", closefd=False))  # noqa: SIM115 - the process's own
        sys.stdout = io.TextIOWrapper(open(1, "wb", closefd=False), write_through=unbuffered)  # noqa: SIM115
        sys.stderr = io.TextIOWrapper(
            open(2, "wb", closefd=False),  # noqa: SIM115
            errors="backslashreplace",
            line_buffering=True,
            write_through=unbuffered,
        )
        sys.argv = [str(ROOT / "engine" / "__main__.py"), *request["args"]]
        from engine.cli import main

        main(args=request["args"], prog_name="python -m engine")
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        if not isinstance(exit_.code, int | None):
            print(exit_.code, file=sys.stderr)
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        try:
            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _open_streams(request: dict) -> tuple[int, int, int]:
    stdin = os.open(request["stdin"], os.O_RDONLY)
    stdout = os.open(request["stdout"], os.O_WRONLY | os.O_APPEND)
    stderr = stdout if request["stderr"] is None else os.open(request["stderr"], os.O_WRONLY | os.O_APPEND)
    return stdin, stdout, stderr


def _serve() -> None:
    import functools
    import gc

    import uvicorn  # noqa: F401

    import engine.api
    import engine.cli
    import engine.runtime.server
    import engine.runtime.worker  # noqa: F401

    caches = [obj for obj in gc.get_objects() if isinstance(obj, functools._lru_cache_wrapper)]
    gc.collect()
    gc.freeze()  # the children share these pages instead of copying them at their first collection
    # reaped only when asked, as Popen.poll does: until then a pid stays taken, so a test that signals a process
    # that has ended cannot hit a newer one given its pid; a new child replaces an ended one of the same pid
    children: dict[int, ForkedChild] = {}
    requests, answers = sys.stdin, sys.stdout
    for line in requests:
        request = json.loads(line)
        try:
            if request["op"] == "start":
                # opened here, while the test that sent them waits: its files are surely still open
                streams = _open_streams(request)
                answers.flush()
                pid = os.fork()
                if pid == 0:
                    _child(request, streams, caches)
                for fd in set(streams):
                    os.close(fd)
                children[pid] = ForkedChild(pid)
                answer = {"pid": pid}
            elif request["op"] == "status":
                child = children.get(request["pid"])
                answer = {"returncode": child.poll() if child else None}
            else:
                answer = {}
        except Exception as exc:
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        answers.write(json.dumps(answer) + "\n")
        answers.flush()


if __name__ == "__main__":
    _serve()
