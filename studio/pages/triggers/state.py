"""Triggers page: every trigger with its next and last fire, the enable switch, and schedule backfills
(started from a dialog, followed live, paused, resumed or cancelled).

Only triggers of namespaces the signed-in person may read are listed; the switch and the backfill buttons
show for editors (the services check again on every click, and the live refresh asks who is watching)."""

import datetime as dt

import reflex as rx

from engine.identity import authz
from studio import display
from studio.services import access
from studio.services import triggers as trigger_service
from studio.session import SessionState

ALL = "all namespaces"
POLL_SECONDS = 0.5


def backfill_progress(backfill: trigger_service.Backfill) -> str:
    """``fired/total``, counting skipped slots as done and saying how many were skipped."""
    skipped = f" ({backfill.skipped} skipped)" if backfill.skipped else ""
    return f"{backfill.fired + backfill.skipped}/{backfill.total}{skipped}"


def trigger_row(t: trigger_service.TriggerRow) -> dict[str, str]:
    """A trigger of ``trigger_service.list_triggers`` (typed) as the table's texts."""
    backfill = t.backfill
    on_its_own_clock = t.next_fire is not None and t.timezone not in ("", "UTC")  # a UTC clock says it once
    return {
        "key": f"{t.namespace}/{t.flow_id}/{t.trigger_id}",
        "namespace": t.namespace,
        "flow_id": t.flow_id,
        "trigger_id": t.trigger_id,
        "type": t.type,
        "description": t.description,
        "words": t.schedule_words,
        "enabled": display.yes(t.enabled_by_person),
        "yaml_disabled": display.yes(t.disabled_in_yaml),
        "state": "enabled" if t.enabled else "disabled",
        "next_utc": display.minute_utc(t.next_fire, missing=display.NONE),
        "next_local": display.wall_clock(t.next_fire, t.timezone) if on_its_own_clock else "",
        "last_fire": display.minute_utc(t.last_fire_at, missing=display.NONE),
        "last_execution_id": t.last_execution_id,
        "progress": backfill_progress(backfill) if backfill else "",
        "backfill": backfill.status if backfill else "",
        "inputs": ",".join(t.inputs),
        "secret_inputs": ",".join(t.secret_inputs),
        "may_edit": display.yes(t.may_edit),
        "may_backfill": display.yes(t.may_backfill),
        **listener_texts(t),
    }


def listener_texts(t: trigger_service.TriggerRow) -> dict[str, str]:
    """A realtime trigger's listener in words: ``listener`` (connected or not, counts, last message) and
    ``listener_error`` (its last error); empty for the other triggers."""
    if not t.realtime:
        return {"listener": "", "listener_state": "", "listener_error": ""}
    health = t.health
    if health is None:
        return {"listener": "no listener has run it yet", "listener_state": "waiting", "listener_error": ""}
    last = dt.datetime.fromisoformat(health.last_message_at) if health.last_message_at else None
    counts = f"{health.received} received, {health.started} started, {health.duplicates} duplicates"
    words = f"{'connected' if health.connected else 'not connected'}; {counts}"
    if last:
        words += f"; last message {display.when(last)}"
    error = (
        f"{health.last_error} ({display.when(dt.datetime.fromisoformat(health.last_error_at))})"
        if (health.last_error and health.last_error_at)
        else (health.last_error or "")
    )
    return {"listener": words, "listener_state": "connected" if health.connected else "down", "listener_error": error}


class TriggersState(SessionState):
    rows: list[dict[str, str]] = []
    namespaces: list[str] = [ALL]
    namespace: str = ALL
    error: str = ""
    # the backfill dialog
    dialog_open: bool = False
    target: dict[str, str] = {}
    start: str = ""
    end: str = ""
    inputs: list[dict[str, str]] = []
    dialog_error: str = ""
    _watching: bool = False

    def _refresh(self) -> bool:
        """Reload the rows; True while some backfill still has slots to fire, or a realtime trigger is listed."""
        chosen = None if self.namespace == ALL else self.namespace
        found = trigger_service.list_triggers(self.principal(), chosen)
        self.rows = [trigger_row(t) for t in found]
        # Realtime triggers' counts move with every message: followed while any is listed.
        return any((t.backfill and t.backfill.running) or t.realtime for t in found)

    @rx.event
    def load(self):
        self.namespaces = [ALL, *access.reachable_namespaces(self.principal())]
        if self.namespace not in self.namespaces:
            self.namespace = ALL
        return TriggersState.watch if self._refresh() else None

    @rx.event
    def set_namespace(self, value: str):
        self.namespace = value
        return self.load()

    @rx.event
    def toggle(self, namespace: str, flow_id: str, trigger_id: str, enabled: bool) -> None:
        try:
            trigger_service.set_enabled(self.principal(), namespace, flow_id, trigger_id, enabled)
            self.error = ""
        except (LookupError, ValueError) as exc:
            self.error = str(exc).strip("'\"")
        self._refresh()

    @rx.event
    def open_backfill(self, namespace: str, flow_id: str, trigger_id: str, inputs: str, secret_inputs: str) -> None:
        self.target = {"namespace": namespace, "flow_id": flow_id, "trigger_id": trigger_id}
        secret = set(secret_inputs.split(","))
        self.inputs = [
            {"id": name, "value": "", "type": "password" if name in secret else "text"}
            for name in inputs.split(",")
            if name
        ]
        self.dialog_error = ""
        self.dialog_open = True

    @rx.event
    def set_dialog_open(self, value: bool) -> None:
        self.dialog_open = value

    @rx.event
    def set_start(self, value: str) -> None:
        self.start = value

    @rx.event
    def set_end(self, value: str) -> None:
        self.end = value

    @rx.event
    def set_input(self, name: str, value: str) -> None:
        self.inputs = [{**i, "value": value} if i["id"] == name else i for i in self.inputs]

    @rx.event
    def start_backfill(self):
        try:
            trigger_service.start_backfill(
                self.principal(),
                self.target["namespace"],
                self.target["flow_id"],
                self.target["trigger_id"],
                self.start,
                self.end,
                {i["id"]: i["value"] for i in self.inputs},
            )
        except (LookupError, ValueError) as exc:
            self.dialog_error = str(exc).strip("'\"")
            return None
        self.dialog_error, self.dialog_open = "", False
        self.inputs = [{**i, "value": ""} for i in self.inputs]  # a SECRET value typed is not kept in the page's state
        return TriggersState.watch if self._refresh() else None

    @rx.event
    def backfill_action(self, namespace: str, flow_id: str, trigger_id: str, action: str):
        try:
            trigger_service.backfill_action(self.principal(), namespace, flow_id, trigger_id, action)
            self.error = ""
        except (LookupError, ValueError) as exc:
            self.error = str(exc).strip("'\"")
        return TriggersState.watch if self._refresh() else None

    @rx.event(background=True)
    async def watch(self):
        """Refresh the rows while a backfill runs, when the process hears that an execution changed (a backfill's
        fires), at most every POLL_SECONDS, and every few quiet seconds; one such loop per page at most."""
        from studio.live import list_changes  # one change feed per process, shared by every open list

        async with self:
            if self._watching:
                return
            self._watching = True
        try:
            async with list_changes(every=POLL_SECONDS) as changes:
                async for _ in changes:
                    async with self:
                        try:
                            # Lists only what the watcher may still read: a lost role drops the rows and ends this.
                            if not self._refresh():
                                return
                        except authz.Unauthenticated:
                            self.rows = []
                            return
        finally:
            async with self:
                self._watching = False
