"""Child processes that never outlive their parent."""

from __future__ import annotations

import signal
import subprocess
import sys


def die_with_parent() -> None:
    """Between fork and exec: ask the kernel to SIGTERM this child when its parent dies (Linux)."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def spawn(argv: list[str], env: dict[str, str]) -> subprocess.Popen:
    """A part of Lanner in its own session (a terminal's Ctrl-C reaches only the parent, which stops it
    cleanly), that the kernel stops if the parent dies without doing so (even from SIGKILL)."""
    return subprocess.Popen(argv, env=env, start_new_session=True, preexec_fn=die_with_parent)
