"""What the triggers page shows: its components (the state they read is in state.py)."""

import reflex as rx

from studio.components.cron_builder import cron_words
from studio.components.empty_state import empty_state
from studio.components.layout import callout_if, data_table, page, sidebar
from studio.pages.triggers.state import TriggersState


def _switch(row: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.switch(
            checked=row["enabled"] == "yes",
            disabled=row["may_edit"] != "yes",
            on_change=lambda value: TriggersState.toggle(row["namespace"], row["flow_id"], row["trigger_id"], value),
            class_name="trigger-switch",
            aria_label="Enabled: " + row["flow_id"] + " " + row["trigger_id"],
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


def _listener(row: rx.Var) -> rx.Component:
    """A realtime trigger's listener: connected or not, its counts, its last error."""
    return rx.cond(
        row["listener"] != "",
        rx.vstack(
            rx.text(
                row["listener"],
                size="1",
                color_scheme=rx.match(row["listener_state"], ("connected", "grass"), ("down", "red"), "gray"),
                class_name="trigger-listener",
            ),
            rx.cond(
                row["listener_error"] != "",
                rx.text(row["listener_error"], size="1", color_scheme="red", class_name="trigger-listener-error"),
            ),
            spacing="0",
        ),
    )


def _row_view(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["namespace"]),
        rx.table.cell(
            rx.link(row["flow_id"], href="/flows/" + row["namespace"] + "/" + row["flow_id"]), class_name="flow-id"
        ),
        rx.table.cell(rx.text(row["trigger_id"], weight="medium"), class_name="trigger-id"),
        rx.table.cell(rx.badge(row["type"], variant="surface")),
        rx.table.cell(
            rx.code(row["description"], variant="ghost", size="1"),
            cron_words(row["words"]),  # a schedule in plain words
            _listener(row),
            class_name="trigger-description",
        ),
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
                    aria_label="From (UTC)",
                ),
                rx.text("To (UTC)", size="2", weight="medium"),
                rx.input(
                    type="datetime-local",
                    value=TriggersState.end,
                    on_change=TriggersState.set_end,
                    id="backfill-end",
                    aria_label="To (UTC)",
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
                            aria_label=item["id"],
                            flex="1",
                        ),
                        align="center",
                        width="100%",
                    ),
                ),
                callout_if(TriggersState.dialog_error, "backfill-error", color_scheme="red", width="100%"),
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
        callout_if(TriggersState.error, "triggers-error", color_scheme="red"),
        rx.cond(
            TriggersState.rows.length() > 0,
            data_table(
                ("Namespace", "Flow", "Trigger", "Type", "When", "Enabled", "Next fire", "Last fire", "Backfill"),
                TriggersState.rows,
                _row_view,
            ),
            empty_state(
                "alarm-clock",
                "No triggers yet",
                "A trigger starts a flow on its own: on a schedule, when a web address is called (webhook), or when "
                "another flow ends. Open a flow, choose Form, then Flow settings, and add one under Triggers: "
                '"Add a schedule" writes the timing for you.',
                rx.link(
                    rx.button(rx.icon("workflow", size=14), "Open the flows"), href="/flows", id="empty-open-flows"
                ),
                id="triggers-empty",
            ),
        ),
        _backfill_dialog(),
    )
