"""A namespace's key-value store as people see and change it (API, CLI, studio).

Access is decided once per call (``engine.identity.authz``): members of a namespace read its entries and those it
inherits (``Action.READ_KV``), its editors set and delete its own (``Action.MANAGE_KV``; see the policy table).
Changes are audited by ``engine.workspace.kv`` in the same transaction. ``actor`` is the name the audit trail
records: the caller's name unless the adapter says otherwise.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine

from engine.core.errors import InvalidInput, NotFound
from engine.identity import authz
from engine.identity.policy import Action, Principal
from engine.services.views import View
from engine.services.workspaces import check_namespace
from engine.store.database import session_scope
from engine.store.tables import KvEntry
from engine.workspace import kv

__all__ = ["KvEntryView", "delete_entry", "entries", "entry", "set_entry"]


class KvEntryView(View):
    """An entry as the namespace's flows read it: set on the namespace itself (``own``) or inherited from
    ``origin``, the nearest namespace above that sets the key."""

    key: str
    value: Any = None
    type: str
    origin: str
    own: bool
    expires_at: dt.datetime | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    updated_by: str | None = None

    @classmethod
    def of(cls, row: KvEntry, namespace: str) -> KvEntryView:
        return cls(
            key=row.key,
            value=row.value,
            type=row.type,
            origin=row.namespace,
            own=row.namespace == namespace,
            expires_at=row.expires_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
            updated_by=row.updated_by,
        )


def _key(key: str) -> str:
    try:
        return kv.check_key(key)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def entries(db: Engine, principal: Principal, namespace: str) -> list[KvEntryView]:
    """Every live entry the namespace's flows read, own and inherited, by key.

    Inherited ones come from namespaces above, which the reader may not be a member of: a flow of this namespace
    reads them anyway, so its members are shown what their flows get (as with variables)."""
    authz.require(principal, Action.READ_KV, namespace, what=f"namespace {namespace}")
    check_namespace(namespace)
    with session_scope(db) as session:
        return [KvEntryView.of(row, namespace) for row in kv.entries(session, namespace)]


def entry(db: Engine, principal: Principal, namespace: str, key: str) -> KvEntryView:
    """The entry ``kv(key)`` reads in the namespace; ``NotFound`` when none (or expired)."""
    authz.require(principal, Action.READ_KV, namespace, what=f"namespace {namespace}")
    check_namespace(namespace)
    _key(key)
    with session_scope(db) as session:
        row = kv.get_entry(session, namespace, key)
    if row is None:
        raise NotFound(f"no kv key {key} in {namespace} or its parents")
    return KvEntryView.of(row, namespace)


def set_entry(
    db: Engine,
    principal: Principal,
    namespace: str,
    key: str,
    value: Any,
    *,
    ttl: str | None = None,
    expires_at: str | dt.datetime | None = None,
    overwrite: bool = True,
    actor: str | None = None,
) -> KvEntryView:
    """Set ``key`` on the namespace itself. ``InvalidInput`` for a bad key, value, ttl or date; ``Conflict`` when
    ``overwrite`` is false and the key is set."""
    authz.require(principal, Action.MANAGE_KV, namespace, what=f"namespace {namespace}")
    check_namespace(namespace)
    _key(key)
    try:
        with session_scope(db) as session:
            row = kv.set_entry(
                session, namespace, key, value, ttl=ttl, expires_at=expires_at, overwrite=overwrite,
                actor=actor or principal.name,
            )  # fmt: skip
            return KvEntryView.of(row, namespace)
    except kv.KvExists:
        raise
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def delete_entry(db: Engine, principal: Principal, namespace: str, key: str, *, actor: str | None = None) -> bool:
    """Whether the namespace itself held the key (an inherited one is not deleted from here: it is its parent's)."""
    authz.require(principal, Action.MANAGE_KV, namespace, what=f"namespace {namespace}")
    check_namespace(namespace)
    _key(key)
    with session_scope(db) as session:
        return kv.delete_entry(session, namespace, key, actor=actor or principal.name)


def drop_expired(db: Engine) -> int:
    """Delete every expired entry of every namespace (they already read as absent: this only frees their rows); the
    executor's periodic purge calls it. How many went."""
    with session_scope(db) as session:
        return kv.sweep_expired(session)
