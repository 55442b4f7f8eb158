"""What the audit page shows: its components (the state they read is in state.py)."""

import reflex as rx

from studio.components.layout import data_table, page, sidebar
from studio.pages.audit.state import AuditRow, AuditState


def _row(row: rx.Var[AuditRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.at),
        rx.table.cell(row.actor),
        rx.table.cell(rx.badge(row.action)),
        rx.table.cell(row.namespace),
        rx.table.cell(row.target),
        rx.table.cell(rx.text(row.details, size="1", color_scheme="gray")),
        class_name="audit-row",
        custom_attrs={"data-action": row.action},
    )


def audit_page() -> rx.Component:
    return page(
        sidebar(AuditState.namespaces, AuditState.namespace, AuditState.choose),
        rx.heading("Audit trail", size="6"),
        rx.cond(
            AuditState.namespaces.length() == 0,
            rx.callout("The audit trail of a namespace is for its administrators.", icon="info", id="audit-none"),
        ),
        data_table(("When (UTC)", "Who", "Did", "Namespace", "What", ""), AuditState.rows, _row),
        rx.cond(AuditState.older, rx.button("Older events", on_click=AuditState.more, variant="soft", id="audit-more")),
    )
