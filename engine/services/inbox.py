"""A namespace's inbox in internal storage, as people see and change it (API): files dropped there start the
flows of the namespace that watch it with a ``storage.trigger`` (engine/tasks/files_trigger.py).

Its members read the listing (``Action.READ``); those who may start its flows add and delete files
(``Action.RUN``: a file added starts them). Adding and deleting are audited.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import Engine

from engine.core.errors import Conflict, InvalidInput, NotFound
from engine.identity import audit, authz
from engine.identity.policy import Action, Principal
from engine.services.views import View
from engine.services.workspaces import check_namespace
from engine.storage import FileExists, InvalidAddress, StorageUnavailable, open_storage
from engine.storage.address import check_name
from engine.storage.base import InboxFile
from engine.store.database import session_scope

__all__ = ["InboxFileView", "add", "files", "remove"]
TARGET_KIND = "inbox_file"


class StorageDown(RuntimeError):
    """The internal storage cannot be reached (the API answers 503)."""


class InboxFileView(View):
    name: str
    size: int
    modified: dt.datetime

    @classmethod
    def of(cls, file: InboxFile) -> InboxFileView:
        return cls(name=file.name, size=file.size, modified=dt.datetime.fromtimestamp(file.modified, dt.UTC))


def _name(name: str, what: str = "name") -> str:
    try:
        return check_name(name.strip("/"))
    except InvalidAddress as exc:
        raise InvalidInput(f"inbox {what}: {exc}") from None


def files(principal: Principal, namespace: str, folder: str = "") -> list[InboxFileView]:
    """The namespace's inbox files (under ``folder``), by name."""
    authz.require(principal, Action.READ, namespace, what=f"namespace {namespace}")
    check_namespace(namespace)
    folder = _name(folder, "folder") if folder.strip("/") else ""
    try:
        return [InboxFileView.of(file) for file in open_storage().inbox_files(namespace, folder)]
    except StorageUnavailable as exc:
        raise StorageDown(str(exc)) from None


def add(db: Engine, principal: Principal, namespace: str, name: str, source: Path, *, actor: str) -> InboxFileView:
    """Put the local file ``source`` into the inbox as ``name``: ``Conflict`` when one is there already."""
    authz.require(principal, Action.RUN, namespace, what=f"namespace {namespace}")
    check_namespace(namespace)
    name = _name(name)
    try:
        added = open_storage().inbox_put(namespace, name, source)
    except FileExists:
        raise Conflict(f"the inbox of {namespace} already holds {name} (delete it first)") from None
    except StorageUnavailable as exc:
        raise StorageDown(str(exc)) from None
    with session_scope(db) as session:
        audit.record(session, actor, audit.AuditAction.CREATED, namespace, TARGET_KIND, name, size=added.size)
    return InboxFileView.of(added)


def remove(db: Engine, principal: Principal, namespace: str, name: str, *, actor: str) -> None:
    """Delete an inbox file; ``NotFound`` when there is none."""
    authz.require(principal, Action.RUN, namespace, what=f"namespace {namespace}")
    check_namespace(namespace)
    name = _name(name)
    try:
        deleted = open_storage().inbox_delete(namespace, name)
    except StorageUnavailable as exc:
        raise StorageDown(str(exc)) from None
    if not deleted:
        raise NotFound(f"no file {name} in the inbox of {namespace}")
    with session_scope(db) as session:
        audit.record(session, actor, audit.AuditAction.DELETED, namespace, TARGET_KIND, name)
