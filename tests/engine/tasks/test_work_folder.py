"""An attempt's working folder (engine/tasks/context.py ``WorkFolder``) is made only when a task asks for it, once
even when threads ask together, and removed with what the task left in it."""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

from engine.storage import LocalStorage
from engine.tasks import registry
from engine.tasks.context import RunContext, WorkFolder


def context(folder: WorkFolder, tmp_path: Path) -> RunContext:
    return RunContext("task", "execution", folder, LocalStorage(tmp_path / "storage"), lambda: False)


def test_a_return_or_a_log_line_makes_no_folder(tmp_path):
    folder = WorkFolder(prefix="lanner-lazy-")
    ctx = context(folder, tmp_path)
    for properties in ({"type": "return", "value": 3}, {"type": "log", "message": "hello"}):
        registry.get(properties["type"]).model_validate({"id": "t", **properties}).run(ctx)
    assert not folder.made
    assert not list(Path(tempfile.gettempdir()).glob("lanner-lazy-*"))


def test_a_script_works_in_its_folder_which_is_removed_after(tmp_path):
    folder = WorkFolder()
    ctx = context(folder, tmp_path)
    task = registry.get("shell").model_validate({"id": "t", "type": "shell", "commands": ["pwd > here.txt"]})
    task.run(ctx)
    where = ctx.workdir
    assert folder.made and (where / "here.txt").read_text().strip() == str(where)
    folder.remove()
    assert not where.exists() and not folder.made


def test_threads_asking_at_once_share_one_folder(tmp_path):
    folder = WorkFolder()
    seen: list[Path] = []
    threads = [threading.Thread(target=lambda: seen.append(folder.path)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(seen)) == 1 and seen[0].is_dir()
    folder.remove()
    assert not seen[0].exists()


def test_a_given_path_is_used_as_it_is(tmp_path):
    ctx = RunContext("task", "execution", tmp_path, None, lambda: False)
    assert ctx.workdir == tmp_path
