"""The Flows list's actions on a flow beside opening and deleting it: run it, duplicate it, export it (or the whole
namespace as a zip), and the recently deleted flows with Restore. Each goes through ``studio.services.flows`` /
``studio.services.runs``, which decide access; the buttons are only shown to those who may."""

from dataclasses import dataclass

import reflex as rx

from engine.core.errors import Conflict, InvalidInput, NotFound
from engine.flows.inputs import InputsInvalid
from engine.flows.problems import FlowInvalid
from engine.identity import authz
from studio import display
from studio.pages.flows.state import ALL, FlowsState
from studio.services import flows as flow_services
from studio.services import runs as run_services


@dataclass
class DeletedRow:
    namespace: str
    id: str
    deleted: str  # when


class FlowActionsState(FlowsState):
    started: str = ""  # the execution the last Run started (the notice links to it)
    duplicate_open: bool = False
    duplicate_of: str = ""  # namespace/id of the flow copied
    duplicate_id: str = ""
    duplicate_namespace: str = ""
    duplicate_error: str = ""
    show_deleted: bool = False
    deleted_rows: list[DeletedRow] = []

    def _refused(self, exc: Exception) -> None:
        self.error, self.notice, self.started = str(exc).strip("'\""), "", ""

    @rx.event
    def run_flow(self, namespace: str, flow_id: str):
        """Start the flow now; one that asks for inputs opens in the editor with its Run dialog."""
        principal = self.principal()
        try:
            if flow_services.flow_has_inputs(principal, namespace, flow_id):
                return rx.redirect(f"/flows/{namespace}/{flow_id}?run=1")
            self.started = run_services.start_run(principal, namespace, flow_id, {})
        except (authz.Forbidden, NotFound, Conflict, InputsInvalid, RuntimeError) as exc:
            self._refused(exc)
            return None
        self.error, self.notice = "", f"started {namespace}/{flow_id}"
        return None

    @rx.event
    def open_duplicate(self, namespace: str, flow_id: str) -> None:
        self.duplicate_of, self.duplicate_namespace = f"{namespace}/{flow_id}", namespace
        self.duplicate_id, self.duplicate_error, self.duplicate_open = f"{flow_id}_copy", "", True

    @rx.event
    def close_duplicate(self) -> None:
        self.duplicate_open = False

    @rx.event
    def set_duplicate_id(self, value: str) -> None:
        self.duplicate_id = value

    @rx.event
    def set_duplicate_namespace(self, value: str) -> None:
        self.duplicate_namespace = value

    @rx.event
    def duplicate(self):
        namespace, _, flow_id = self.duplicate_of.partition("/")
        new_namespace, new_id = self.duplicate_namespace.strip() or namespace, self.duplicate_id.strip()
        try:
            flow_services.duplicate_flow(self.principal(), namespace, flow_id, new_id, new_namespace)
        except FlowInvalid as exc:
            self.duplicate_error = "; ".join(p.message for p in exc.problems)
            return None
        except (authz.Forbidden, NotFound, Conflict, InvalidInput) as exc:
            self.duplicate_error = str(exc).strip("'\"")
            return None
        self.duplicate_open = False
        return rx.redirect(f"/flows/{new_namespace}/{new_id}")

    @rx.event
    def export_flow(self, namespace: str, flow_id: str):
        try:
            filename, source = flow_services.export_flow(self.principal(), namespace, flow_id)
        except NotFound as exc:
            self._refused(exc)
            return None
        return rx.download(data=source, filename=filename)

    @rx.event
    def export_namespace(self):
        """The flows the list shows the namespace of (every readable one under "all namespaces"), as a zip."""
        chosen = None if self.namespace == ALL else self.namespace
        try:
            filename, data = flow_services.export_namespace(self.principal(), chosen)
        except (authz.Forbidden, NotFound) as exc:
            self._refused(exc)
            return None
        return rx.download(data=data, filename=filename)

    @rx.event
    def toggle_deleted(self) -> None:
        self.show_deleted = not self.show_deleted
        self._load_deleted()

    def _load_deleted(self) -> None:
        chosen = None if self.namespace == ALL else self.namespace
        rows = flow_services.deleted_flows(self.principal(), chosen) if self.show_deleted else []
        self.deleted_rows = [
            DeletedRow(r.namespace, r.flow_id, display.when(r.updated_at, seconds=False)) for r in rows
        ]

    @rx.event
    def restore(self, namespace: str, flow_id: str) -> None:
        try:
            self.notice = flow_services.restore_flow(self.principal(), namespace, flow_id)
            self.error = ""
        except (authz.Forbidden, NotFound, Conflict, FlowInvalid) as exc:
            self._refused(exc)
        self.load()
        self._load_deleted()
