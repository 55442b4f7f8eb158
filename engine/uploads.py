"""Where the files of FILE inputs sent to the API are kept: ``LANNER_HOME/uploads/<namespace>/<flow>/<random>``.

A request's namespace and flow come from its URL, so they are checked as a namespace name and a flow id (no
``..``, no ``/``) and the folder is resolved and checked to stay under the uploads folder. Nothing is written
until the request is known to be valid, and a request refused afterwards leaves no file behind (``discard``).
"""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path

from engine.spec import FLOW_ID_PATTERN, NAMESPACE_PATTERN


class UploadRefused(ValueError):
    """The files cannot be stored there (a bad namespace, flow id or file name)."""


def upload_folder(home: Path, namespace: str, flow_id: str) -> Path:
    """A new, not yet created, folder for one request's files."""
    if not re.match(NAMESPACE_PATTERN, namespace) or not re.match(FLOW_ID_PATTERN, flow_id):
        raise UploadRefused(f"'{namespace}/{flow_id}' is not a namespace and a flow id")
    root = (home / "uploads").resolve()
    folder = (root / namespace / flow_id / uuid.uuid4().hex).resolve()
    if not folder.is_relative_to(root):  # a symlink under uploads pointing elsewhere
        raise UploadRefused(f"uploads for {namespace}/{flow_id} would leave {root}")
    return folder


def stored_name(filename: str | None, field: str) -> str:
    """The name a sent file is kept under: its base name (never a path), or the field's name."""
    name = Path((filename or "").replace("\\", "/")).name.replace("\x00", "")
    if name in ("", ".", ".."):
        name = field
    return name[:200] or "file"


def target(folder: Path, filename: str | None, field: str) -> Path:
    path = (folder / stored_name(filename, field)).resolve()
    if path.parent != folder:  # the field name itself held a path
        raise UploadRefused(f"the file of '{field}' cannot be stored under the name {filename!r}")
    return path


def discard(folder: Path | None) -> None:
    """Remove a refused request's files (and its folder)."""
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
