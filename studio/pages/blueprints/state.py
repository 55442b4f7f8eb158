"""Blueprints page: the gallery's cards, the open blueprint's YAML, and the "Use this blueprint" dialog."""

from dataclasses import dataclass

import reflex as rx

from engine.core.errors import Forbidden
from engine.flows.problems import FlowInvalid
from studio.services import blueprints as service
from studio.session import SessionState

ALL = "All"
CATEGORIES = [ALL, "Getting started", "Databases", "Data", "Notifications", "HTTP", "Files", "Messaging"]


@dataclass
class BlueprintCard:
    id: str
    title: str
    summary: str
    category: str
    task_types: list[str]
    secrets: str  # "Needs the secrets A, B" or ""


class BlueprintsState(SessionState):
    cards: list[BlueprintCard] = []
    category: str = ALL
    search: str = ""
    opened: str = ""  # the blueprint whose YAML is shown
    opened_title: str = ""
    source: str = ""
    # The "use" dialog.
    dialog_open: bool = False
    namespaces: list[str] = []  # where the person may create a flow
    namespace: str = ""
    flow_id: str = ""
    error: str = ""

    @rx.event
    def load(self) -> None:
        self.namespaces = service.editable_namespaces(self.principal())
        if self.namespace not in self.namespaces:
            self.namespace = self.namespaces[0] if self.namespaces else ""
        self.refresh()
        wanted = self.router.page.params.get("use", "")  # "Use" from the Flows page's empty state
        if wanted in {card.id for card in self.cards}:
            self.start_use(wanted)

    def refresh(self) -> None:
        found = service.gallery(None if self.category == ALL else self.category, self.search)
        self.cards = [
            BlueprintCard(
                id=b.id,
                title=b.title,
                summary=b.summary,
                category=b.category,
                task_types=b.task_types,
                secrets="Needs the secrets " + ", ".join(b.secrets) if b.secrets else "",
            )
            for b in found
        ]

    @rx.event
    def set_category(self, value: str) -> None:
        self.category = value
        self.refresh()

    @rx.event
    def set_search(self, value: str) -> None:
        self.search = value
        self.refresh()

    @rx.event
    def open_blueprint(self, blueprint_id: str) -> None:
        found = service.blueprint(blueprint_id)
        self.opened, self.opened_title, self.source = found.id, found.title, found.source or ""

    @rx.event
    def start_use(self, blueprint_id: str) -> None:
        """Open the dialog for ``blueprint_id``, the flow id prefilled with the blueprint's."""
        self.open_blueprint(blueprint_id)
        self.flow_id, self.error, self.dialog_open = blueprint_id, "", True

    @rx.event
    def set_dialog_open(self, value: bool) -> None:
        self.dialog_open = value

    @rx.event
    def set_namespace(self, value: str) -> None:
        self.namespace = value

    @rx.event
    def set_flow_id(self, value: str) -> None:
        self.flow_id = value

    @rx.event
    def use(self):
        """Create the flow and open it in the editor; a refusal stays in the dialog, in words."""
        try:
            made = service.use_blueprint(self.principal(), self.opened, self.namespace, self.flow_id.strip())
        except FlowInvalid as exc:
            self.error = "; ".join(p.message for p in exc.problems)
            return None
        except (ValueError, Forbidden) as exc:
            self.error = str(exc)
            return None
        self.dialog_open, self.error = False, ""
        return rx.redirect(f"/flows/{made.namespace}/{made.id}")
