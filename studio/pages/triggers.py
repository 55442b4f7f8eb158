"""Triggers page: every trigger with its next and last fire, the enable switch, and schedule backfills
(started from a dialog, followed live, paused, resumed or cancelled).

Only triggers of namespaces the signed-in person may read are listed; the switch and the backfill buttons
show for editors (the services check again on every click, and the live refresh asks who is watching)."""

import reflex as rx

from engine.identity import authz
from studio.components.layout import page, sidebar
from studio.services import access
from studio.services import triggers as trigger_service
from studio.session import SessionState

ALL = "all namespaces"
POLL_SECONDS = 0.5


def _row(t: trigger_service.TriggerRow) -> dict[str, str]:
    backfill = t.backfill
    return {
        "key": f"{t.namespace}/{t.flow_id}/{t.trigger_id}",
        "namespace": t.namespace,
        "flow_id": t.flow_id,
        "trigger_id": t.trigger_id,
        "type": t.type,
        "description": t.description,
        "enabled": "yes" if t.enabled_by_person else "",
        "yaml_disabled": "yes" if t.disabled_in_yaml else "",
        "state": "enabled" if t.enabled else "disabled",
        "next_utc": t.next_fire_utc or "-",
        "next_local": t.next_fire_local if t.next_fire_local and not t.next_fire_local.endswith(" UTC") else "",
        "last_fire": t.last_fire or "-",
        "last_execution_id": t.last_execution_id,
        "progress": backfill.progress if backfill else "",
        "backfill": backfill.status if backfill else "",
        "inputs": ",".join(t.inputs),
        "secret_inputs": ",".join(t.secret_inputs),
        "may_edit": "yes" if t.may_edit else "",
        "may_backfill": "yes" if t.may_backfill else "",
    }


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
        """Reload the rows; True while some backfill still has slots to fire."""
        chosen = None if self.namespace == ALL else self.namespace
        found = trigger_service.list_triggers(self.principal(), chosen)
        self.rows = [_row(t) for t in found]
        return any(t.backfill and t.backfill.running for t in found)

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


def _switch(row: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.switch(
            checked=row["enabled"] == "yes",
            disabled=row["may_edit"] != "yes",
            on_change=lambda value: TriggersState.toggle(row["namespace"], row["flow_id"], row["trigger_id"], value),
            class_name="trigger-switch",
        ),
        rx.cond(
            row["yaml_disabled"] == "yes",
            rx.tooltip(
                rx.badge("disabled in YAML", color_scheme="orange", class_name="yaml-disabled"),
                content="The flow or the trigger says disabled: true; the switch cannot override it.",
            ),
        ),
        align="center",
    )


def _backfill_cell(row: rx.Var) -> rx.Component:
    def action(label: str, name: str, color: str) -> rx.Component:
        return rx.button(
            label,
            size="1",
            variant="soft",
            color_scheme=color,
            class_name=f"backfill-{name}",
            on_click=TriggersState.backfill_action(row["namespace"], row["flow_id"], row["trigger_id"], name),
        )

    return rx.vstack(
        rx.cond(
            row["backfill"] != "",
            rx.hstack(
                rx.text(row["progress"], class_name="backfill-progress", size="2", weight="medium"),
                rx.badge(row["backfill"], class_name="backfill-status"),
                rx.cond(
                    row["may_backfill"] == "yes",
                    rx.hstack(
                        rx.cond(row["backfill"] == "running", action("Pause", "pause", "gray")),
                        rx.cond(row["backfill"] == "paused", action("Resume", "resume", "green")),
                        rx.cond(
                            (row["backfill"] == "running") | (row["backfill"] == "paused"),
                            action("Cancel", "cancel", "red"),
                        ),
                    ),
                ),
                align="center",
            ),
        ),
        rx.cond(
            (row["type"] == "schedule") & (row["may_backfill"] == "yes"),
            rx.button(
                rx.icon("history", size=14),
                "Backfill",
                size="1",
                variant="outline",
                class_name="backfill-button",
                on_click=TriggersState.open_backfill(
                    row["namespace"], row["flow_id"], row["trigger_id"], row["inputs"], row["secret_inputs"]
                ),
            ),
        ),
        spacing="1",
    )


def _row_view(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["namespace"]),
        rx.table.cell(
            rx.link(row["flow_id"], href="/flows/" + row["namespace"] + "/" + row["flow_id"]), class_name="flow-id"
        ),
        rx.table.cell(rx.text(row["trigger_id"], weight="medium"), class_name="trigger-id"),
        rx.table.cell(rx.badge(row["type"], variant="surface")),
        rx.table.cell(rx.code(row["description"], variant="ghost", size="1"), class_name="trigger-description"),
        rx.table.cell(_switch(row)),
        rx.table.cell(
            rx.vstack(
                rx.text(row["next_utc"], size="2", white_space="nowrap"),
                rx.cond(
                    row["next_local"] != "",
                    rx.text(row["next_local"], size="1", color_scheme="gray", white_space="nowrap"),
                ),
                spacing="0",
            ),
            class_name="next-fire",
        ),
        rx.table.cell(
            rx.cond(
                row["last_execution_id"] != "",
                rx.link(row["last_fire"], href="/executions/" + row["last_execution_id"], white_space="nowrap"),
                rx.text(row["last_fire"]),
            ),
            class_name="last-fire",
        ),
        rx.table.cell(_backfill_cell(row)),
        class_name="trigger-row",
        custom_attrs={
            "data-namespace": row["namespace"],
            "data-flow": row["flow_id"],
            "data-trigger": row["trigger_id"],
            "data-state": row["state"],
        },
    )


def _backfill_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Backfill ", TriggersState.target["flow_id"], " · ", TriggersState.target["trigger_id"]),
            rx.dialog.description(
                "Runs every slot of the schedule between the two times (UTC, both included); "
                "slots that already ran are skipped.",
                size="2",
                margin_bottom="1em",
            ),
            rx.vstack(
                rx.text("From (UTC)", size="2", weight="medium"),
                rx.input(
                    type="datetime-local",
                    value=TriggersState.start,
                    on_change=TriggersState.set_start,
                    id="backfill-start",
                ),
                rx.text("To (UTC)", size="2", weight="medium"),
                rx.input(
                    type="datetime-local", value=TriggersState.end, on_change=TriggersState.set_end, id="backfill-end"
                ),
                rx.cond(
                    TriggersState.inputs.length() > 0,
                    rx.text("Inputs (empty: the trigger's or the flow's default)", size="2", weight="medium"),
                ),
                rx.foreach(
                    TriggersState.inputs,
                    lambda item: rx.hstack(
                        rx.text(item["id"], size="2", width="120px"),
                        rx.input(
                            value=item["value"],
                            type=item["type"],
                            on_change=lambda value: TriggersState.set_input(item["id"], value),
                            name="backfill-input-" + item["id"],
                            class_name="backfill-input",
                            flex="1",
                        ),
                        align="center",
                        width="100%",
                    ),
                ),
                rx.cond(
                    TriggersState.dialog_error != "",
                    rx.callout(TriggersState.dialog_error, color_scheme="red", id="backfill-error", width="100%"),
                ),
                rx.hstack(
                    rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")),
                    rx.button("Start", on_click=TriggersState.start_backfill, id="backfill-submit"),
                    justify="end",
                    width="100%",
                ),
                width="100%",
            ),
            id="backfill-dialog",
        ),
        open=TriggersState.dialog_open,
        on_open_change=TriggersState.set_dialog_open,
    )


def triggers_page() -> rx.Component:
    return page(
        sidebar(TriggersState.namespaces, TriggersState.namespace, TriggersState.set_namespace),
        rx.heading("Triggers", size="6", margin_bottom="1em"),
        rx.cond(TriggersState.error != "", rx.callout(TriggersState.error, color_scheme="red", id="triggers-error")),
        rx.cond(
            TriggersState.rows.length() > 0,
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[
                            rx.table.column_header_cell(h)
                            for h in (
                                "Namespace",
                                "Flow",
                                "Trigger",
                                "Type",
                                "When",
                                "Enabled",
                                "Next fire",
                                "Last fire",
                                "Backfill",
                            )
                        ]
                    )
                ),
                rx.table.body(rx.foreach(TriggersState.rows, _row_view)),
                width="100%",
            ),
            rx.callout("No triggers here. Add one to a flow under triggers: (schedule, webhook or flow).", icon="info"),
        ),
        _backfill_dialog(),
    )
