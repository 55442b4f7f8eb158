"""KV store tasks: kv.set, kv.get, kv.delete, on the execution's own namespace (engine/workspace/kv.py).

A task reads what ``kv('key')`` reads (the namespace's entry, else the nearest parent's) but writes and deletes
only in its execution's namespace: the worker gives it no other (``RunContext.kv``).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from engine.core.durations import Duration
from engine.core.errors import Conflict
from engine.flows.spec import Computed
from engine.tasks.base import Group, Task, registry
from engine.tasks.context import ConfigurationError, RunContext, TaskFailed

Key = Annotated[str, Field(min_length=1, max_length=100)]


def _store(ctx: RunContext) -> Any:
    if ctx.kv is None:
        raise ConfigurationError("the KV store is not available here (kv tasks run on a worker)")
    return ctx.kv


def _refused(exc: ValueError) -> TaskFailed:
    """A bad key, value or ttl: no retry makes it right. ``overwrite: false`` on a set key: a retry may."""
    return TaskFailed(str(exc)) if isinstance(exc, Conflict) else ConfigurationError(str(exc))


@registry.register
class KvSet(Task):
    type: Literal["kv.set"]
    key: Key
    """The key to set in this flow's namespace (letters, digits, '_', '.', '-')."""
    value: Any
    """Any JSON value: text, number, boolean, object or list; expressions are evaluated."""
    ttl: Computed[Duration] | None = None
    """How long the entry lives (e.g. 1h, PT30M, 7d); by default it never expires."""
    overwrite: Computed[bool] = True
    """Replace a value already set in this namespace; when false, a key already set fails the task."""

    title: ClassVar[str] = "Set a KV entry"
    summary: ClassVar[str] = "Store a value in the namespace's key-value store, read later with kv('key')."
    group: ClassVar[Group] = Group.CORE
    icon: ClassVar[str] = "key-round"
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {"key": "last_run_day", "value": "{{ inputs.day }}"},
        {"key": "token", "value": "{{ outputs.login.json.token }}", "ttl": "1h"},
    )
    output_fields: ClassVar[dict[str, str]] = {
        "key": "The key written.",
        "expiresAt": "When the entry expires (ISO date and time), or null without ttl.",
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        try:
            expires = _store(ctx).set(self.key, self.value, ttl=self.ttl, overwrite=self.overwrite)
        except ValueError as exc:
            raise _refused(exc) from None
        ctx.log("INFO", f"kv {self.key} set" + (f" until {expires.isoformat()}" if expires else ""))
        return {"key": self.key, "expiresAt": expires.isoformat() if expires else None}


@registry.register
class KvGet(Task):
    type: Literal["kv.get"]
    key: Key
    """The key to read, in this flow's namespace or, when it has none, the nearest namespace above."""
    error_on_missing: Computed[bool] = False
    """Fail when the key is not set (or expired); by default the output value is null."""

    title: ClassVar[str] = "Get a KV entry"
    summary: ClassVar[str] = "Read a value of the namespace's key-value store as outputs.<id>.value."
    group: ClassVar[Group] = Group.CORE
    icon: ClassVar[str] = "key-round"
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {"key": "last_run_day"},
        {"key": "settings", "errorOnMissing": True},
    )
    output_fields: ClassVar[dict[str, str]] = {
        "value": "The value stored under the key (null when missing).",
        "found": "True when the key was there.",
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        try:
            found, value = _store(ctx).get(self.key)
        except ValueError as exc:
            raise _refused(exc) from None
        if not found and self.error_on_missing:
            raise TaskFailed(f"kv key '{self.key}' is not set in this namespace or its parents (or it expired)")
        return {"value": value, "found": found}


@registry.register
class KvDelete(Task):
    type: Literal["kv.delete"]
    key: Key
    """The key to delete from this flow's namespace (a parent's entry of the same key then shows through)."""
    error_on_missing: Computed[bool] = False
    """Fail when this namespace does not hold the key; by default nothing happens."""

    title: ClassVar[str] = "Delete a KV entry"
    summary: ClassVar[str] = "Remove a key from the namespace's key-value store."
    group: ClassVar[Group] = Group.CORE
    icon: ClassVar[str] = "key-round"
    examples: ClassVar[tuple[dict[str, Any], ...]] = ({"key": "token"},)
    output_fields: ClassVar[dict[str, str]] = {"deleted": "True when the key was there and is now removed."}

    def run(self, ctx: RunContext) -> dict[str, Any]:
        try:
            deleted = _store(ctx).delete(self.key)
        except ValueError as exc:
            raise _refused(exc) from None
        if not deleted and self.error_on_missing:
            raise TaskFailed(f"kv key '{self.key}' is not set in this namespace")
        return {"deleted": deleted}
