"""What a task's ``run`` method is given: a way to log, to notice a kill, a working folder, file storage."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.core.expressions import map_texts
from engine.core.levels import LEVELS
from engine.storage.address import Address, InvalidAddress
from engine.storage.base import FileExists, Storage, StorageUnavailable
from engine.tasks.metrics import Metrics

# A task's lines are written as they come, a batch at a time: the worker holds at most about one batch, and a
# task that logs faster than the database takes lines waits for it instead of piling them up in memory.
LOG_BATCH_LINES = 5000
LOG_BATCH_CHARS = 1024 * 1024
LOG_LINE_CHARS = 64 * 1024  # a longer line is cut there, with a note saying so
LOG_RETRY_SECONDS = 0.2  # a write that failed (the database away for a moment) is tried again after this


class TaskFailed(Exception):
    """Raised by a task to fail with a message meant for the user (no traceback shown)."""

    def __init__(self, message: str, outputs: dict | None = None) -> None:
        super().__init__(message)
        self.outputs = outputs or {}


class ConfigurationError(TaskFailed):
    """The task cannot work as configured (a secret that is not set, a key that cannot read it): no retry can
    help, so it fails at once whatever its retry policy, saying what to set."""


class TaskKilled(Exception):
    """Raised by a task that stopped because its execution is being killed."""


class TaskTimedOut(Exception):
    pass


def mask_text(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret value in it replaced by ``****``.

    Values shorter than 3 characters are left alone: masking every "1" or "a" would make logs unreadable
    and tell more about the secret than it hides.
    """
    for secret in sorted(secrets, key=len, reverse=True):  # a longer secret may contain a shorter one
        if secret and len(secret) >= 3:
            text = text.replace(secret, "****")
    return text


def mask_value(value: Any, secrets: Iterable[str]) -> Any:
    """``mask_text`` applied to every text inside a value (lists and mappings included)."""
    if not secrets:
        return value
    return map_texts(value, lambda text: mask_text(text, secrets))


def truncate_line(message: str) -> str:
    """``message``, cut at ``LOG_LINE_CHARS`` with a note when longer (one line must not flood memory or logs)."""
    if len(message) <= LOG_LINE_CHARS:
        return message
    return message[:LOG_LINE_CHARS] + f" … [line truncated: more than {LOG_LINE_CHARS:,} characters]"


def output_size(value: Any) -> int:
    """Bytes of ``value`` as JSON (UTF-8), the form in which outputs are stored and sent."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str).encode())


def output_too_big(name: str, size: int, limit: int) -> str:
    return (
        f"output '{name}' is {size:,} bytes; the limit is {limit:,} (LANNER_MAX_OUTPUT_BYTES): "
        "store large data in a file (outputFiles)"
    )


def oversized_output(outputs: dict[str, Any], limit: int, prefix: str = "") -> str | None:
    """The message for the first output larger than ``limit`` (named down to the map key that is too big)."""
    for key, value in outputs.items():
        size = output_size(value)
        if size <= limit:
            continue
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            return oversized_output(value, limit, f"{name}.") or output_too_big(name, size, limit)
        return output_too_big(name, size, limit)
    return None


class WorkFolder:
    """An attempt's working folder, made on first use: most attempts (a `return`, a log line, a query whose rows
    go back as outputs) never touch it, and making and removing a folder was a tenth of such an attempt."""

    def __init__(self, prefix: str = "lanner-") -> None:
        self.prefix = prefix
        self._path: Path | None = None
        self._lock = threading.Lock()  # a task's own threads may ask for it at once

    @property
    def path(self) -> Path:
        with self._lock:
            if self._path is None:
                self._path = Path(tempfile.mkdtemp(prefix=self.prefix))
            return self._path

    @property
    def made(self) -> bool:
        return self._path is not None

    def remove(self) -> None:
        with self._lock:
            if self._path is not None:
                shutil.rmtree(self._path, ignore_errors=True)
                self._path = None


@dataclass
class LogRecord:
    level: str
    message: str
    timestamp: dt.datetime


@dataclass
class RunContext:
    task_id: str
    execution_id: str
    #: The folder a task works in (``workdir``): a path, or the worker's folder made on first use.
    folder: Path | WorkFolder
    #: Where the files tasks pass on are kept (engine/storage); None: this task may not keep or read files.
    storage: Storage | None
    is_killed: Callable[[], bool]
    deadline: float | None = None  # time.monotonic() limit from the task's timeout
    min_level: str = "TRACE"
    secrets: set[str] = field(default_factory=set)
    #: The execution's namespace's KV store (engine/workspace/kv.py ``NamespaceKv``: get, set, delete), given by
    #: the worker; None where tasks run without a database.
    kv: Any = None
    records: list[LogRecord] = field(default_factory=list)
    warned: bool = False
    #: Writes a batch of lines where they are kept (the worker: the database); None keeps them in ``records``.
    sink: Callable[[list[LogRecord]], None] | None = None
    metrics: Metrics = field(default_factory=Metrics)  # what the script reported through engine.sdk counter/timer
    #: Given by the worker to a working-directory group (engine/tasks/working_directory.py): runs one of its tasks
    #: in this same folder, recorded as its own task run, and returns its end state.
    run_child: Callable[[Any], Any] | None = None
    #: What notifications say about the execution (engine/core/expression_context.py ``execution_summary``): flow,
    #: execution id, state, the failed task and its error, duration, link; built by the worker from its snapshot.
    execution_summary: dict[str, Any] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _flushing: threading.Lock = field(default_factory=threading.Lock)
    _buffered_chars: int = 0
    # The parts of this attempt's file addresses: lanner://<namespace>/<flow_id>/<execution_id>/<file_task>/<attempt>/
    namespace: str = "default"
    flow_id: str = "flow"
    file_task: str = ""  # the task id, with ``.<iteration>`` for one iteration of a loop ("" : task_id)
    attempt: int = 1

    @property
    def workdir(self) -> Path:
        return self.folder if isinstance(self.folder, Path) else self.folder.path

    def log(self, level: str, message: str) -> None:
        level = level.upper()
        level = "WARN" if level == "WARNING" else level if level in LEVELS else "INFO"
        if LEVELS.index(level) < LEVELS.index(self.min_level):
            return
        record = LogRecord(level, truncate_line(self.mask(message)), dt.datetime.now(dt.UTC))
        with self._lock:
            self.records.append(record)
            self._buffered_chars += len(record.message)
            batches = max(len(self.records) / LOG_BATCH_LINES, self._buffered_chars / LOG_BATCH_CHARS)
        if batches < 1 or self.sink is None:
            return
        # While one batch is being written the next one fills; past that the task waits for the write.
        if not self._flushing.acquire(blocking=batches >= 2):
            return
        try:
            self._write_batch()
        except Exception:  # the lines stay buffered; wait before the next line tries again
            time.sleep(LOG_RETRY_SECONDS)
        finally:
            self._flushing.release()

    def flush_logs(self) -> None:
        """Write the lines buffered so far, in order, once; lines of a failed write stay for the next try."""
        if self.sink is None:
            return
        with self._flushing:  # one batch at a time: batches land in the order their lines were logged
            self._write_batch()

    def _write_batch(self) -> None:
        taken = self.take_records()
        if not taken:
            return
        try:
            self.sink(taken)
        except Exception:
            with self._lock:
                self.records[:0] = taken
                self._buffered_chars += sum(len(r.message) for r in taken)
            raise

    def warn(self, message: str) -> None:
        """Log a warning and end the task in WARNING instead of SUCCESS."""
        self.warned = True
        self.log("WARN", message)

    def take_records(self) -> list[LogRecord]:
        with self._lock:
            taken, self.records, self._buffered_chars = self.records, [], 0
        return taken

    def mask(self, text: str) -> str:
        return mask_text(text, self.secrets)

    def mask_value(self, value: Any) -> Any:
        """``mask`` applied to every text inside outputs (lists and mappings included)."""
        return mask_value(value, self.secrets)

    def check(self) -> None:
        """Raise if the execution is being killed or the task ran out of time."""
        if self.is_killed():
            raise TaskKilled("killed")
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise TaskTimedOut("timed out")

    def remaining(self) -> float | None:
        return None if self.deadline is None else max(self.deadline - time.monotonic(), 0.0)

    def address(self, name: str) -> Address:
        """The address a file ``name`` this attempt keeps gets (``InvalidAddress`` when the name leaves its folder)."""
        task = self.file_task or self.task_id
        return Address(self.namespace, self.flow_id, self.execution_id, task, self.attempt, name)

    def store_file(self, source: Path, name: str) -> str:
        """Keep a file the task produced; returns the ``lanner://`` address later tasks read it by."""
        if self.storage is None:
            raise TaskFailed(f"output file '{name}': this task has no file storage")
        try:
            address = self.address(name)
            self.storage.put(address, source)
        except InvalidAddress as exc:
            raise TaskFailed(f"output file '{name}': {exc}") from None
        except FileExists:
            raise TaskFailed(f"output file '{name}' was already kept by this attempt") from None
        except StorageUnavailable as exc:
            raise TaskFailed(f"output file '{name}': {exc}") from None
        return str(address)
