"""What the KV page shows: its components (the state they read is in state.py)."""

import reflex as rx

from studio.components.empty_state import empty_state
from studio.components.layout import danger_button, data_table, error_and_notice, page, sidebar
from studio.pages.kv.state import Entry, KvState


def _origin(row: rx.Var[Entry]) -> rx.Component:
    return rx.cond(
        row.own,
        rx.text("this namespace", size="1", color_scheme="gray"),
        rx.text("from " + row.origin, size="1", color_scheme="gray"),
    )


def _entry_row(row: rx.Var[Entry]) -> rx.Component:
    """One key: how flows read it, its type and value, when it expires, where it is set; Edit and Delete for
    those who may (Delete only where it is set: a parent's entry is the parent's)."""
    return rx.table.row(
        rx.table.cell(rx.code("kv('" + row.key + "')")),
        rx.table.cell(rx.badge(row.type, variant="soft")),
        rx.table.cell(rx.text(row.preview, class_name="kv-value")),
        rx.table.cell(rx.text(row.expires, size="1", class_name="kv-expires")),
        rx.table.cell(_origin(row)),
        rx.table.cell(rx.text(row.updated, size="1", color_scheme="gray")),
        rx.table.cell(
            rx.cond(
                KvState.can_manage_kv,
                rx.hstack(
                    rx.button("Edit", on_click=KvState.edit(row.key), size="1", variant="soft", class_name="kv-edit"),
                    rx.cond(row.own, danger_button("Delete", KvState.delete(row.key), class_name="kv-delete")),
                ),
            )
        ),
        class_name="kv-row",
        custom_attrs={"data-key": row.key, "data-origin": row.origin},
    )


def _field(name: str, placeholder: str, **props) -> rx.Component:
    return rx.input(
        placeholder=placeholder,
        aria_label=placeholder,
        value=getattr(KvState, name),
        on_change=lambda v: KvState.set_field(name, v),
        name=name,
        **props,
    )


def kv_page() -> rx.Component:
    return page(
        sidebar(KvState.namespaces, KvState.namespace, KvState.choose),
        rx.heading("KV store of " + KvState.namespace, size="6"),
        rx.text(
            "Flows of this namespace and of the namespaces below it read these with kv('key') (a nearer namespace "
            "wins) and write them with the kv.set and kv.delete tasks. An expired entry reads as absent.",
            size="2",
            color_scheme="gray",
        ),
        *error_and_notice(KvState.error, KvState.notice, "kv"),
        data_table(["Key", "Type", "Value", "Expires", "Set on", "Updated", ""], KvState.entries, _entry_row),
        rx.cond(
            (KvState.entries.length() == 0) & (KvState.namespace != ""),
            empty_state(
                "database",
                "No entries yet",
                rx.cond(
                    KvState.can_manage_kv,
                    "Save one with the fields below (a key and a value), or let a flow write one with a "
                    "\"Set a KV entry\" task; flows read it back with kv('key').",
                    'Flows of this namespace write entries with a "Set a KV entry" task; they show up here.',
                ),
                id="kv-empty",
            ),
        ),
        rx.cond(
            KvState.can_manage_kv,
            rx.hstack(
                _field("new_key", "key"),
                _field("new_value", 'value (text, 42, true, {"a": 1}...)', width="24em"),
                _field("new_ttl", "expires after (1h, P7D; empty: never)"),
                rx.button("Save entry", on_click=KvState.save, id="save-kv"),
                id="kv-controls",
                margin_top="1em",
            ),
        ),
    )
