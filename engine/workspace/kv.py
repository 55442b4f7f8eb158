"""The key-value store of a namespace: JSON values flows read with ``kv('key')`` and write with ``kv.set``.

Like variables, entries are inherited: a flow of ``acme.sales.eu`` reads ``acme.sales.eu``'s entry for a key,
else ``acme.sales``'s, else ``acme``'s (the nearest namespace that sets the key wins). Unlike variables, flows
write them at run time (``kv.set``/``kv.delete``, only in their own execution's namespace), values may be any
JSON (text, number, boolean, object, list) up to ``LANNER_MAX_OUTPUT_BYTES``, and an entry may expire: from then
on it reads as absent everywhere (and does not hide a parent's entry); the row itself goes when its namespace is
next written, or by ``sweep_expired``.

People's changes (API, studio, CLI) are audited; a task's are not (one event per run would drown the trail), but
the row keeps who wrote it last (``execution <id>``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from engine.config import load_settings
from engine.core.durations import parse_duration
from engine.core.errors import Conflict
from engine.core.namespaces import lineage
from engine.identity import audit
from engine.store import kv as store
from engine.store.database import session_scope
from engine.store.tables import KvEntry, utcnow

# Read as kv('key'), never as an attribute: dots and dashes are allowed (``daily.last-run``), as in Kestra.
KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$")
_MISSING = object()


class KvMissing(LookupError):
    """``kv('key')`` for a key no namespace of the lineage holds (or only expired)."""


class KvExists(Conflict):
    """``overwrite: false`` and the namespace already holds the key."""


def check_key(key: str) -> str:
    """Raises ``ValueError`` for a key that is not letters, digits, '_', '.', '-' (at most 100)."""
    if not isinstance(key, str) or not KEY.match(key):
        raise ValueError(
            f"'{key}' is not a key: letters, digits, '_', '.' and '-', at most 100, not starting with '.' or '-'"
        )
    return key


def value_type(value: Any) -> str:
    """The JSON type of a value: string, number, boolean, object, array or null."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list | tuple):
        return "array"
    raise ValueError(f"a value is JSON (text, number, boolean, object or list), not {type(value).__name__}")


def check_value(value: Any) -> str:
    """The value's type; ``ValueError`` for one that is not JSON or larger than ``LANNER_MAX_OUTPUT_BYTES``."""
    kind = value_type(value)
    try:
        size = len(json.dumps(value, allow_nan=False).encode())
    except (TypeError, ValueError) as exc:
        raise ValueError(f"a value is JSON (text, number, boolean, object or list): {exc}") from None
    limit = load_settings().max_output_bytes
    if size > limit:
        raise ValueError(
            f"the value takes {size} bytes as JSON, more than the {limit} allowed (LANNER_MAX_OUTPUT_BYTES)"
        )
    return kind


def expiry(ttl: Any = None, expires_at: Any = None, now: dt.datetime | None = None) -> dt.datetime | None:
    """When an entry set ``now`` expires: after ``ttl`` (``PT1H``, ``1h``, a timedelta), or at ``expires_at``
    (ISO-8601; without a zone, UTC); None for never. ``ValueError`` for both, a ttl not above zero, a past date."""
    now = now or utcnow()
    if ttl not in (None, "") and expires_at not in (None, ""):
        raise ValueError("give a ttl or an expiry date, not both")
    if ttl not in (None, ""):
        length = ttl if isinstance(ttl, dt.timedelta) else parse_duration(str(ttl))
        if length <= dt.timedelta(0):
            raise ValueError(f"a ttl must be longer than zero, not {ttl}")
        return now + length
    if expires_at not in (None, ""):
        if isinstance(expires_at, dt.datetime):
            moment = expires_at
        else:
            try:
                moment = dt.datetime.fromisoformat(str(expires_at).replace("Z", "+00:00"))
            except ValueError:
                raise ValueError(f"'{expires_at}' is not an ISO-8601 date and time (2026-12-31T23:00:00Z)") from None
        moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
        if moment <= now:
            raise ValueError(f"the expiry date {moment.isoformat()} is already past")
        return moment
    return None


def is_live(row: KvEntry, now: dt.datetime) -> bool:
    return row.expires_at is None or row.expires_at > now


def nearest(rows: list[KvEntry], namespace: str, now: dt.datetime) -> dict[str, KvEntry]:
    """The live rows of ``namespace``'s lineage, one per key: the nearest namespace's."""
    depth = {ns: index for index, ns in enumerate(lineage(namespace))}
    found: dict[str, KvEntry] = {}
    for row in sorted(rows, key=lambda r: depth[r.namespace]):  # nearest first
        if is_live(row, now):
            found.setdefault(row.key, row)
    return found


def set_entry(
    session: Session,
    namespace: str,
    key: str,
    value: Any,
    *,
    ttl: Any = None,
    expires_at: Any = None,
    overwrite: bool = True,
    actor: str | None = None,
    audited: bool = True,
) -> KvEntry:
    """Set ``key`` on ``namespace`` itself. ``ValueError`` for a bad key, value or expiry; ``KvExists`` when
    ``overwrite`` is false and the namespace holds a live entry for it."""
    now = utcnow()
    check_key(key)
    kind = check_value(value)
    until = expiry(ttl, expires_at, now)
    store.remove_expired(session, now, namespace=namespace)  # the lazy cleanup: where rows are written anyway
    if not overwrite:
        row = store.entry(session, namespace, key)
        if row is not None and is_live(row, now):
            raise KvExists(f"key '{key}' is already set in {namespace} (overwrite is false)")
    row = store.put_entry(session, namespace, key, value, kind, until, actor)
    if audited:
        details = {"expiresAt": until.isoformat()} if until else {}
        audit.record(session, actor or audit.SYSTEM, audit.AuditAction.CHANGED, namespace, "kv", key, **details)
    return row


def delete_entry(session: Session, namespace: str, key: str, *, actor: str | None = None, audited: bool = True) -> bool:
    """Remove ``key`` from ``namespace`` itself (a parent's entry then shows through); whether a live one was
    there."""
    row = store.entry(session, namespace, key)
    if row is None:
        return False
    live = is_live(row, utcnow())
    store.remove_entry(session, namespace, key)
    if live and audited:
        audit.record(session, actor or audit.SYSTEM, audit.AuditAction.DELETED, namespace, "kv", key)
    return live


def get_entry(session: Session, namespace: str, key: str) -> KvEntry | None:
    """The live entry ``namespace``'s flows read for ``key`` (its own or the nearest parent's), or None."""
    return nearest(store.entries_in(session, lineage(namespace), key), namespace, utcnow()).get(key)


def entries(session: Session, namespace: str) -> list[KvEntry]:
    """Every live entry ``namespace``'s flows read, own and inherited, by key."""
    found = nearest(store.entries_in(session, lineage(namespace)), namespace, utcnow())
    return [found[key] for key in sorted(found)]


def sweep_expired(session: Session, now: dt.datetime | None = None) -> int:
    """Delete every expired entry (they already read as absent); how many went."""
    return store.remove_expired(session, now or utcnow())


# --- for running flows ----------------------------------------------------------------------------------------


class KvReader:
    """``kv('key')`` / ``kv('key', default)`` for the flows of one namespace: each key is read once, on first use,
    in a session of its own (the snapshot's is closed by then); most task runs never ask, so never query."""

    def __init__(self, namespace: str, read: Callable[[str], KvEntry | None]) -> None:
        self.namespace = namespace
        self._read = read
        self._found: dict[str, KvEntry | None] = {}

    def __call__(self, key: Any, default: Any = _MISSING) -> Any:
        key = str(key)
        if key not in self._found:
            self._found[key] = self._read(key)
        row = self._found[key]
        if row is not None:
            return row.value
        if default is not _MISSING:
            return default
        raise KvMissing(
            f"kv key '{key}' is not set in namespace {self.namespace} or its parents (or it expired): "
            f"set it with a kv.set task or the KV page, or give a default: kv('{key}', default)"
        )


def kv_reader(session: Session, namespace: str) -> KvReader:
    bind = session.get_bind()

    def read(key: str) -> KvEntry | None:
        with Session(bind, expire_on_commit=False) as own:
            return get_entry(own, namespace, key)

    return KvReader(namespace, read)


class NamespaceKv:
    """What a task of an execution may do with the KV store: read its namespace's lineage, write and delete in its
    namespace only. The worker gives one to each task run (``RunContext.kv``)."""

    def __init__(self, db: Engine, namespace: str, actor: str) -> None:
        self.db, self.namespace, self.actor = db, namespace, actor

    def get(self, key: str) -> tuple[bool, Any]:
        """``(found, value)``: a missing or expired key is ``(False, None)``."""
        check_key(key)
        with session_scope(self.db) as session:
            row = get_entry(session, self.namespace, key)
        return (row is not None, row.value if row is not None else None)

    def set(self, key: str, value: Any, *, ttl: Any = None, overwrite: bool = True) -> dt.datetime | None:
        """Set the key on the namespace; when it expires (None: never)."""
        with session_scope(self.db) as session:
            row = set_entry(
                session, self.namespace, key, value, ttl=ttl, overwrite=overwrite, actor=self.actor, audited=False
            )
            return row.expires_at

    def delete(self, key: str) -> bool:
        check_key(key)
        with session_scope(self.db) as session:
            return delete_entry(session, self.namespace, key, actor=self.actor, audited=False)
