"""A stored file's address: ``lanner://<namespace>/<flow>/<execution>/<task>/<attempt>/<name>``.

The parts before the name say whose file it is (an execution may only read files of its own namespace); the name
may hold folders (``reports/day.csv``) but never leaves them: no ``..``, no absolute path, no empty part.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SCHEME = "lanner://"
_PART = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")  # namespaces, flow and task ids, execution ids
_NAME_PART = re.compile(r"^[^/\\\x00]+$")
MAX_NAME = 1024


class InvalidAddress(ValueError):
    """Not an address of this storage, or a name that would leave its folder."""


def check_name(name: str) -> str:
    """``name`` when it stays inside its folder, else ``InvalidAddress`` saying why."""
    if not name or len(name) > MAX_NAME:
        raise InvalidAddress(f"file name '{name[:80]}' must have 1 to {MAX_NAME} characters")
    if name.startswith("/") or "\\" in name:
        raise InvalidAddress(f"file name '{name}' must be a relative path with forward slashes")
    for part in name.split("/"):
        if part in ("", ".", "..") or not _NAME_PART.match(part):
            raise InvalidAddress(f"file name '{name}' must stay inside its folder (no '..', '.', or empty part)")
    return name


@dataclass(frozen=True)
class Address:
    namespace: str
    flow_id: str
    execution_id: str
    task_id: str
    attempt: int
    name: str

    def __post_init__(self) -> None:
        for label, part in (
            ("namespace", self.namespace),
            ("flow", self.flow_id),
            ("execution", self.execution_id),
            ("task", self.task_id),
        ):
            if not _PART.match(part or ""):
                raise InvalidAddress(f"address {label} '{part}' is not a name")
        if self.attempt < 0:
            raise InvalidAddress(f"address attempt {self.attempt} is negative")
        check_name(self.name)

    @property
    def key(self) -> str:
        """The path under the storage's root, e.g. ``acme/sales/<execution>/extract/1/orders.parquet``."""
        return "/".join((self.namespace, self.flow_id, self.execution_id, self.task_id, str(self.attempt), self.name))

    def __str__(self) -> str:
        return SCHEME + self.key

    @classmethod
    def parse(cls, text: str) -> Address:
        if not isinstance(text, str) or not text.startswith(SCHEME):
            raise InvalidAddress(f"'{str(text)[:80]}' is not a lanner:// address")
        parts = text[len(SCHEME) :].split("/", 5)
        if len(parts) < 6:
            raise InvalidAddress(f"'{text[:200]}' is not lanner://namespace/flow/execution/task/attempt/name")
        namespace, flow_id, execution_id, task_id, attempt, name = parts
        if not attempt.isdigit():
            raise InvalidAddress(f"'{text[:200]}': the attempt '{attempt}' is not a number")
        return cls(namespace, flow_id, execution_id, task_id, int(attempt), name)


INBOX = ".inbox"  # no namespace starts with a dot: the inbox area never meets an execution's files


def inbox_key(namespace: str, name: str = "") -> str:
    """The key of ``name`` in the namespace's inbox (files dropped there start flows with a ``storage.trigger``);
    with no name, the prefix of the whole inbox (ending in a slash)."""
    if not _PART.match(namespace or ""):
        raise InvalidAddress(f"namespace '{str(namespace)[:80]}' is not a name")
    return f"{INBOX}/{namespace}/" + (check_name(name) if name else "")


def execution_prefix(namespace: str, flow_id: str, execution_id: str) -> str:
    """The key prefix under which every file of one execution lies (deleted with it)."""
    return f"{namespace}/{flow_id}/{execution_id}/"


ADDRESS_PATTERN = re.compile(r"lanner://[A-Za-z0-9_./\-]+")  # an address written inside a text (no spaces, quotes)
