"""Where the files of FILE inputs sent to the API are kept: ``LANNER_HOME/uploads/<namespace>/<flow>/<random>``.

A request's namespace and flow come from its URL, so they are checked as a namespace name and a flow id (no
``..``, no ``/``) and the folder is resolved and checked to stay under the uploads folder. Nothing is written
until the request is known to be valid, and a request refused afterwards leaves no file behind (``discard``).

A FILE input's value is accepted only when it is such a stored file of the flow being run (``accept_uploads``):
a path given as text (JSON, a form field, a trigger's inputs) is refused, so nobody can make a flow read a
server file. The local CLI copies the files it is given into this folder first (``store_local``).
"""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path

from engine.flows.inputs import NOT_UPLOADED
from engine.flows.spec import FLOW_ID_PATTERN, NAMESPACE_PATTERN

MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # a multipart body to the API, a file sent from the studio


class UploadRefused(ValueError):
    """The files cannot be stored there (a bad namespace, flow id or file name)."""


def check_names(namespace: str, flow_id: str) -> None:
    """Refuse a request whose URL names no possible namespace and flow id (no file system call: every trigger
    call asks, the folder is made only for a request that sends files)."""
    if not re.match(NAMESPACE_PATTERN, namespace) or not re.match(FLOW_ID_PATTERN, flow_id):
        raise UploadRefused(f"'{namespace}/{flow_id}' is not a namespace and a flow id")


def upload_folder(home: Path, namespace: str, flow_id: str) -> Path:
    """A new, not yet created, folder for one request's files."""
    check_names(namespace, flow_id)
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


def save(folder: Path, filename: str | None, field: str, data: bytes) -> str:
    """Keep one sent file (the API's multipart part, the studio's upload) in ``folder``: its stored path."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadRefused(f"the file of '{field}' is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB")
    folder.mkdir(parents=True, exist_ok=True)
    path = target(folder, filename, field)
    path.write_bytes(data)
    return str(path)


def discard(folder: Path | None) -> None:
    """Remove a refused request's files (and its folder)."""
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def accept_uploads(home: Path, namespace: str, flow_id: str, inherited: Iterable[str] = ()) -> Callable[[str], str]:
    """The check ``resolve_inputs`` applies to a FILE value: a file stored for this flow, or one of ``inherited``
    (the FILE values of the run that starts this one as a subflow, themselves checked when it started)."""
    passed_on = set(inherited)

    def uploaded(value: str) -> str:
        root = (home / "uploads" / namespace / flow_id).resolve()  # only for a FILE input: not on every run
        path = Path(value).resolve()  # `..` and symlinks resolved before asking where it is
        if (path.is_relative_to(root) or value in passed_on) and path.is_file():
            return str(path)
        raise ValueError(NOT_UPLOADED)

    return uploaded


def store_local(home: Path, namespace: str, flow_id: str, files: dict[str, Path]) -> tuple[Path, dict[str, str]]:
    """Copy local files (the CLI's ``-i data=./file.csv``) into a new upload folder: (folder, input -> path)."""
    folder = upload_folder(home, namespace, flow_id)
    stored: dict[str, str] = {}
    for field, source in files.items():
        if not source.is_file():
            discard(folder)
            raise UploadRefused(f"input '{field}': {source} is not a file")
        folder.mkdir(parents=True, exist_ok=True)
        copy = target(folder, source.name, field)
        if copy.exists():  # two inputs given files of the same name
            copy = target(folder, f"{field}-{source.name}", field)
        shutil.copyfile(source, copy)
        stored[field] = str(copy)
    return folder, stored
