"""Audit page: who created, changed, deployed, ran, killed, deleted or shared what, and when."""

import reflex as rx

from studio import services
from studio.components.layout import page, sidebar
from studio.services import audit_trail
from studio.session import SessionState

ALL = "all namespaces"
PAGE_SIZE = 50


class AuditState(SessionState):
    namespaces: list[str] = [ALL]
    namespace: str = ALL
    rows: list[dict[str, str]] = []
    older: bool = False

    @rx.event
    def load(self) -> None:
        self.namespaces = [ALL, *services.namespaces(self.principal())]
        self.namespace = self.router.page.params.get("namespace") or self.namespace
        self._fetch(None)

    def _fetch(self, before: int | None) -> None:
        chosen = "" if self.namespace == ALL else self.namespace
        found = audit_trail.events(chosen, before=before, limit=PAGE_SIZE)
        self.rows = found if before is None else self.rows + found
        self.older = len(found) == PAGE_SIZE

    @rx.event
    def choose(self, namespace: str) -> None:
        self.namespace = namespace
        self._fetch(None)

    @rx.event
    def more(self) -> None:
        if self.rows:
            self._fetch(int(self.rows[-1]["id"]))


def _row(row: dict) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["at"]),
        rx.table.cell(row["actor"]),
        rx.table.cell(rx.badge(row["action"])),
        rx.table.cell(row["namespace"]),
        rx.table.cell(row["target"]),
        rx.table.cell(rx.text(row["details"], size="1", color_scheme="gray")),
        class_name="audit-row",
        custom_attrs={"data-action": row["action"]},
    )


def audit_page() -> rx.Component:
    return page(
        sidebar(AuditState.namespaces, AuditState.namespace, AuditState.choose),
        rx.heading("Audit trail", size="6"),
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[rx.table.column_header_cell(h) for h in ("When (UTC)", "Who", "Did", "Namespace", "What", "")]
                )
            ),
            rx.table.body(rx.foreach(AuditState.rows, _row)),
            width="100%",
        ),
        rx.cond(AuditState.older, rx.button("Older events", on_click=AuditState.more, variant="soft", id="audit-more")),
    )
