"""Audit page: who created, changed, deployed, ran, killed, deleted or shared what, and when.

A namespace's administrators read its trail; "all namespaces" is offered to global administrators only. Anyone
else is offered exactly the namespaces they administer, and sees nothing when there are none."""

import reflex as rx

from engine.identity.policy import Principal
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
        principal = self.principal()
        own = audit_trail.audit_namespaces(principal)
        self.namespaces = [ALL, *own] if audit_trail.sees_everything(principal) else own
        wanted = self.router.page.params.get("namespace") or self.namespace
        self.namespace = wanted if wanted in self.namespaces else (self.namespaces or [""])[0]
        self._fetch(principal, None)

    def _fetch(self, principal: Principal, before: int | None) -> None:
        if not self.namespace:  # administers no namespace: nothing to show
            self.rows, self.older = [], False
            return
        chosen = "" if self.namespace == ALL else self.namespace
        found = audit_trail.events(principal, chosen, before=before, limit=PAGE_SIZE)
        self.rows = found if before is None else self.rows + found
        self.older = len(found) == PAGE_SIZE

    @rx.event
    def choose(self, namespace: str) -> None:
        principal = self.principal()  # the services refuse a namespace the person may not audit
        self.rows, self.namespace = [], namespace
        self._fetch(principal, None)

    @rx.event
    def more(self) -> None:
        if self.rows:
            self._fetch(self.principal(), int(self.rows[-1]["id"]))


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
        rx.cond(
            AuditState.namespaces.length() == 0,
            rx.callout("The audit trail of a namespace is for its administrators.", icon="info", id="audit-none"),
        ),
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
