"""The folder the processes of one ``lanner server`` (or of one ``lanner worker -n N``) share their metrics in
(prometheus_client's multiprocess mode), so one scrape of one port reads them all. One per run: created empty
at start, removed at the end, so a restart never adds up the counts of processes long gone.

Kept apart from the metrics themselves: it must be chosen before any of them is created."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator

from engine.config import load_settings, reset_settings


@contextlib.contextmanager
def shared_metrics_folder() -> Iterator[None]:
    """A fresh LANNER_METRICS_DIR for this process and the ones it starts, for the block (none with
    LANNER_METRICS=0; the one set by a parent command is kept)."""
    settings = load_settings()
    if not settings.metrics or settings.metrics_dir is not None:
        yield
        return
    folder = tempfile.mkdtemp(prefix="lanner-metrics-")
    os.environ["LANNER_METRICS_DIR"] = folder
    reset_settings()
    try:
        yield
    finally:
        shutil.rmtree(folder, ignore_errors=True)
