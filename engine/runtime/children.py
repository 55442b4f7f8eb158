"""Child processes that never outlive their parent."""

from __future__ import annotations

import errno
import functools
import os
import shutil
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any


def die_with_parent() -> None:
    """Between fork and exec: ask the kernel to SIGTERM this child when its parent dies (Linux)."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@functools.cache
def _setpriv() -> str | None:
    found = shutil.which("setpriv") if sys.platform.startswith("linux") else None
    return os.path.realpath(found) if found else None  # as /proc/PID/exe names it


def _check_runnable(program: str, env: Mapping[str, str] | None, cwd: str | os.PathLike | None) -> None:
    """Raise what ``subprocess.Popen`` would for a program that cannot be run (one started through ``setpriv``
    would instead fail in the child, with exit code 127)."""
    if os.sep in program:
        path = Path(cwd or ".") / program  # exec looks for it in the child's folder
        if path.is_file() and os.access(path, os.X_OK):
            return
        if path.exists():
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), program)
    elif shutil.which(program, path=os.pathsep.join(os.get_exec_path(env))):
        return
    raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), program)


def popen_dying_with_parent(argv: list[str], **options: Any) -> subprocess.Popen:
    """``subprocess.Popen(argv, **options)`` for a child the kernel stops (SIGTERM) when this process dies, even
    from SIGKILL (Linux). Through util-linux's ``setpriv --pdeathsig``, which then execs the program (same pid)
    where there is one: a Python function run between fork and exec (``die_with_parent``, the other way) makes
    Python fork the whole worker, 14 ms for a 150 MB process under no load, against 2 ms this way; a shell
    task of three ``echo`` spent three quarters of its time there."""
    if setpriv := _setpriv():
        _check_runnable(argv[0], options.get("env"), options.get("cwd"))
        process = subprocess.Popen([setpriv, "--pdeathsig", "TERM", "--", *argv], **options)
        _wait_armed(process, setpriv)
        return process
    return subprocess.Popen(argv, preexec_fn=die_with_parent, **options)


def _wait_armed(process: subprocess.Popen, setpriv: str) -> None:
    """Until ``setpriv`` has set the signal and become the program (a fraction of a millisecond): a parent killed
    before that would leave the program running, which ``die_with_parent`` never did."""
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        try:
            if os.readlink(f"/proc/{process.pid}/exe") != setpriv:
                return
        except OSError:
            return  # ended already, or no /proc to look at
        time.sleep(0.0002)


def spawn(argv: list[str], env: dict[str, str]) -> subprocess.Popen:
    """A part of Lanner in its own session (a terminal's Ctrl-C reaches only the parent, which stops it
    cleanly), that the kernel stops if the parent dies without doing so (even from SIGKILL)."""
    return popen_dying_with_parent(argv, env=env, start_new_session=True)


def terminate(process: subprocess.Popen, grace: float = 10.0) -> None:
    """Ask a child to stop (SIGTERM), and kill it if it has not within ``grace`` seconds."""
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class ForkedChild:
    """A child made by ``fork_child``, watched as ``subprocess.Popen`` watches one (poll, wait, signals)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # already reaped
                self.returncode = -1
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout or 0)
            time.sleep(0.05)
        return self.returncode  # type: ignore[return-value]

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def fork_child(run: Callable[[], None]) -> ForkedChild:
    """Run ``run`` in a forked copy of this process, in its own session, stopped by the kernel with its parent.

    A worker pool forks its workers instead of starting new interpreters: the engine is already imported here,
    and importing it again costs each worker seconds of CPU at start. Only a parent that holds no connection,
    thread or open transaction may fork (the worker pool's supervisor holds none)."""
    parent = os.getpid()
    pid = os.fork()
    if pid:
        return ForkedChild(pid)
    code = 1
    try:
        os.setsid()
        die_with_parent()
        if os.getppid() != parent:  # the parent died before the kernel was asked to stop this child
            os._exit(1)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_DFL)
        run()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
