"""A namespace's KV store: the entries its flows read with ``kv('key')`` (own and inherited), for members;
adding, editing and deleting its own entries for those who may (``Action.MANAGE_KV``; the services check again).
"""

import json
from dataclasses import dataclass

import reflex as rx

from engine.identity.policy import Action, can
from engine.services.kv import KvEntryView
from studio import display, services
from studio.services import kv as kv_store
from studio.session import SessionState

_FIELDS = {"new_key", "new_value", "new_ttl"}
PREVIEW_CHARS = 80  # a longer value is cut in the table; Edit shows it whole


def editable_text(value) -> str:
    """A value as the person would type it back (``studio.services.kv.parse_value`` reads it as the same value):
    text as it is unless it would read as JSON (``"42"`` stays a text), anything else as JSON."""
    if isinstance(value, str) and kv_store.parse_value(value) == value:
        return value
    return json.dumps(value)


@dataclass
class Entry:
    """One key as the namespace's flows read it; ``own`` when set here rather than on a namespace above."""

    key: str
    type: str
    preview: str
    text: str  # the whole value, as Edit puts it in the value field
    expires: str
    origin: str
    own: bool
    updated: str

    @classmethod
    def of(cls, view: KvEntryView) -> "Entry":
        text = editable_text(view.value)
        preview = display.scalar(view.value)
        return cls(
            key=view.key,
            type=view.type,
            preview=preview if len(preview) <= PREVIEW_CHARS else preview[: PREVIEW_CHARS - 1] + "…",
            text=text,
            expires=display.when(view.expires_at, missing=display.NEVER),
            origin=view.origin,
            own=view.own,
            updated=display.when(view.updated_at) + (f" by {view.updated_by}" if view.updated_by else ""),
        )


class KvState(SessionState):
    namespaces: list[str] = []
    namespace: str = ""
    entries: list[Entry] = []
    new_key: str = ""
    new_value: str = ""
    new_ttl: str = ""
    error: str = ""
    notice: str = ""
    can_manage_kv: bool = False  # set with each refresh: shows the controls (the services check again)

    @rx.event
    def load(self) -> None:
        self.namespaces = services.namespaces(self.principal())
        wanted = self.router.page.params.get("namespace", "")
        if wanted:
            self.namespace = wanted
        elif self.namespace not in self.namespaces:
            self.namespace = self.namespaces[0] if self.namespaces else ""
        self.error, self.notice = "", ""
        self._refresh()

    def _refresh(self) -> None:
        principal = self.principal()
        self.entries, self.can_manage_kv = [], False
        if not self.namespace:
            return
        self.entries = [Entry.of(view) for view in kv_store.entries(principal, self.namespace)]
        self.can_manage_kv = can(principal, Action.MANAGE_KV, self.namespace)

    def _do(self, action, done: str) -> None:
        """Run ``action(principal)``: a ``ValueError`` is shown on the page; a refusal goes to the app's toast."""
        try:
            action(self.principal())
        except ValueError as exc:
            self.error, self.notice = str(exc), ""
            return
        self.error, self.notice = "", done
        self._refresh()

    @rx.event
    def choose(self, namespace: str) -> None:
        self.namespace = namespace
        self.error = self.notice = ""
        self._refresh()

    @rx.event
    def set_field(self, name: str, value: str) -> None:
        if name in _FIELDS:  # the browser names the field: never let it set anything else (a namespace, a right)
            setattr(self, name, value)

    @rx.event
    def edit(self, key: str) -> None:
        """Put an entry in the fields, to change its value or expiry (saving sets it on this namespace)."""
        for entry in self.entries:
            if entry.key == key:
                self.new_key, self.new_value, self.new_ttl = entry.key, entry.text, ""

    @rx.event
    def save(self) -> None:
        key = self.new_key.strip()
        self._do(lambda who: kv_store.set_entry(who, self.namespace, key, self.new_value, self.new_ttl), f"{key} saved")
        if not self.error:
            self.new_key = self.new_value = self.new_ttl = ""

    @rx.event
    def delete(self, key: str) -> None:
        self._do(lambda who: kv_store.delete_entry(who, self.namespace, key), f"{key} deleted")
