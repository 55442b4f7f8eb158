"""Children that never outlive their parent (engine/runtime/children.py): a task's command, an installer, the
embedded Redis. Real processes, a real SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.runtime.children import popen_dying_with_parent

PARENT = """
import sys, time
from engine.runtime.children import popen_dying_with_parent
child = popen_dying_with_parent(["sleep", "60"], start_new_session=True)
print(child.pid, flush=True)
time.sleep(60)
"""


def _gone(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status  # ended, not yet reaped by whoever adopted it


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the kernel's parent-death signal is Linux's")
def test_a_child_is_stopped_when_its_parent_is_killed():
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True, cwd=os.getcwd())
    try:
        child = int(parent.stdout.readline())
        assert not _gone(child)
        parent.send_signal(signal.SIGKILL)  # no clean-up of its own: only the kernel can stop the child
        parent.wait()
        deadline = time.monotonic() + 10
        while not _gone(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _gone(child), "the child outlived its killed parent"
    finally:
        parent.kill()


def test_the_child_is_the_program_itself_with_its_exit_code_and_output(tmp_path):
    child = popen_dying_with_parent(
        ["sh", "-c", 'echo "$$ $PWD"; exit 7'], cwd=tmp_path, stdout=subprocess.PIPE, text=True
    )
    said, _ = child.communicate()
    assert child.returncode == 7
    assert said.split() == [str(child.pid), str(tmp_path)]  # the same process: a kill of its group reaches it


def test_a_program_that_cannot_be_run_is_refused_as_popen_would(tmp_path):
    with pytest.raises(FileNotFoundError):
        popen_dying_with_parent(["no-such-program-anywhere"])
    with pytest.raises(FileNotFoundError):
        popen_dying_with_parent(["./missing.sh"], cwd=tmp_path)
    (tmp_path / "plain.sh").write_text("echo hi\n")
    with pytest.raises(PermissionError):
        popen_dying_with_parent(["./plain.sh"], cwd=tmp_path)
    (tmp_path / "plain.sh").chmod(0o755)
    ran = popen_dying_with_parent(["./plain.sh"], cwd=tmp_path, stdout=subprocess.PIPE, text=True)
    assert ran.communicate()[0] == "hi\n" and ran.returncode == 0
