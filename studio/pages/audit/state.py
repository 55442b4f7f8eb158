"""Audit page: who created, changed, deployed, ran, killed, deleted or shared what, and when.

A namespace's administrators read its trail; "all namespaces" is offered to global administrators only. Anyone
else is offered exactly the namespaces they administer, and sees nothing when there are none."""

from dataclasses import dataclass
from typing import Any

import reflex as rx

from engine.identity.policy import Principal
from studio import display
from studio.services import audit_trail
from studio.session import SessionState

ALL = "all namespaces"
PAGE_SIZE = 50


@dataclass
class AuditRow:
    """One event of the trail, as the table shows it."""

    id: str
    at: str
    actor: str
    action: str
    namespace: str
    target: str
    details: str

    @classmethod
    def of(cls, event: dict[str, Any]) -> "AuditRow":
        """From ``audit_trail.events`` (typed): the moment to the second, the details as one JSON line."""
        return cls(
            id=str(event["id"]),
            at=display.when(event["at"]),
            actor=event["actor"],
            action=event["action"],
            namespace=event["namespace"],
            target=f"{event['target_kind']} {event['target_id']}".strip(),  # "flow acme/etl", "user ann"
            details=display.json_line(event["details"]),
        )


class AuditState(SessionState):
    namespaces: list[str] = [ALL]
    namespace: str = ALL
    rows: list[AuditRow] = []
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
        found = [AuditRow.of(event) for event in audit_trail.events(principal, chosen, before=before, limit=PAGE_SIZE)]
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
            self._fetch(self.principal(), int(self.rows[-1].id))
