"""The processes' own logs (not the tasks' logs, which are kept in the database): with LANNER_LOG_FORMAT=json,
one JSON object per line on stderr, for log collectors, with the execution and task run being worked on when
there is one (``log_context``)."""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import logging
import sys
from collections.abc import Iterator

_execution: contextvars.ContextVar[str | None] = contextvars.ContextVar("lanner_execution", default=None)
_task_run: contextvars.ContextVar[str | None] = contextvars.ContextVar("lanner_task_run", default=None)


@contextlib.contextmanager
def log_context(execution_id: str | None = None, task_run_id: str | None = None) -> Iterator[None]:
    """Log lines written inside the block name this execution and task run."""
    tokens = (_execution.set(execution_id), _task_run.set(task_run_id))
    try:
        yield
    finally:
        _task_run.reset(tokens[1])
        _execution.reset(tokens[0])


def bind_log_context(execution_id: str | None, task_run_id: str | None = None) -> None:
    """Name this execution and task run in the log lines that follow (a worker: until its next job)."""
    _execution.set(execution_id)
    _task_run.set(task_run_id)


class JsonFormatter(logging.Formatter):
    def __init__(self, process: str) -> None:
        super().__init__()
        self.process = process

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "process": self.process,
            "pid": record.process,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if execution_id := _execution.get():
            line["execution_id"] = execution_id
        if task_run_id := _task_run.get():
            line["task_run_id"] = task_run_id
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure_logs(process: str, log_format: str) -> None:
    """JSON lines on stderr for ``json``; ``text`` leaves Python's default (warnings and errors as text)."""
    if log_format != "json":
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(process))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
