"""Flows page: every deployed flow of the selected namespace, searchable (ids, descriptions and YAML text), with its
YAML source. Its actions on a flow (run, duplicate, export, restore) are in actions.py."""

from dataclasses import dataclass

import reflex as rx

from engine.identity import authz
from engine.identity.policy import Action, can
from studio import display, services
from studio.session import SessionState

ALL = "all namespaces"


@dataclass
class FlowRow:
    """A deployed flow as the list shows it; ``editable`` when the person may change it."""

    namespace: str
    id: str
    revision: str
    description: str
    updated: str
    editable: bool
    runnable: bool


class FlowsState(SessionState):
    rows: list[FlowRow] = []
    namespaces: list[str] = [ALL]
    namespace: str = ALL
    search: str = ""
    source: str = ""
    opened: str = ""
    new_namespace: str = ""
    new_id: str = ""
    error: str = ""
    notice: str = ""
    can_create: bool = False  # New flow and Import: editor somewhere (the namespace typed is checked on save)

    @rx.event
    def open_page(self) -> None:
        """The page's ``on_load``: ``?namespace=`` (the sidebar of other pages) chooses the namespace."""
        self.namespace = self.router.page.params.get("namespace") or self.namespace
        self.load()
        if self.opened:  # the flow shown last time is read again, as whoever is signed in now
            namespace, _, flow_id = self.opened.partition("/")
            try:
                self.open_flow(namespace, flow_id)
            except LookupError:
                self.opened, self.source = "", ""

    @rx.event
    def load(self) -> None:
        principal = self.principal()
        reachable = services.namespaces(principal)
        self.namespaces = [ALL, *reachable]
        if self.namespace not in self.namespaces:
            self.namespace = ALL
        chosen = None if self.namespace == ALL else self.namespace
        granted = principal.memberships
        self.can_create = principal.is_admin or any(can(principal, Action.EDIT_FLOW, name) for name in granted)
        self.rows = [
            FlowRow(
                namespace=f.namespace,
                id=f.flow_id,
                revision=str(f.revision),
                description=display.first_line(f.description),
                updated=display.when(f.updated_at, seconds=False),
                editable=can(principal, Action.EDIT_FLOW, f.namespace),
                runnable=can(principal, Action.RUN, f.namespace),
            )
            for f in services.list_flows(principal, chosen, self.search)
        ]

    @rx.event
    def set_namespace(self, value: str) -> None:
        self.namespace = value
        self.load()

    @rx.event
    def set_search(self, value: str) -> None:
        self.search = value
        self.load()

    @rx.event
    def set_new_namespace(self, value: str) -> None:
        self.new_namespace = value

    @rx.event
    def set_new_id(self, value: str) -> None:
        self.new_id = value

    @rx.event
    def create_flow(self):
        from engine.flows.problems import FlowInvalid

        try:
            services.create_flow(self.principal(), self.new_namespace.strip(), self.new_id.strip())
        except FlowInvalid as exc:
            self.error = "; ".join(p.message for p in exc.problems)
            return None
        except ValueError as exc:
            self.error = str(exc)
            return None
        self.error = ""
        return rx.redirect(f"/flows/{self.new_namespace.strip()}/{self.new_id.strip()}")

    @rx.event
    async def import_files(self, files: list[rx.UploadFile]):
        """Each YAML file becomes a flow (or the newest revision of it); one file opens in the editor."""
        from engine.flows.problems import FlowInvalid

        principal = self.principal()
        errors, imported = [], []
        for upload in files:
            name = (upload.name or "flow.yml").rsplit("/", 1)[-1]
            try:
                imported.append(services.import_flow(principal, await upload.read(), name))
            except FlowInvalid as exc:
                errors += [str(problem) for problem in exc.problems]
            except ValueError as exc:
                errors.append(str(exc))
            except (authz.Forbidden, authz.NotVisible) as exc:  # one refused file: the others still go in
                errors.append(f"{name}: {exc}")
        self.error = "\n".join(errors)
        self.notice = "; ".join(what for _, _, what in imported)
        self.load()
        if len(imported) == 1 and not errors:
            namespace, flow_id, _ = imported[0]
            return rx.redirect(f"/flows/{namespace}/{flow_id}")
        return None

    @rx.event
    def delete_flow(self, namespace: str, flow_id: str) -> None:
        services.delete_flow(self.principal(), namespace, flow_id)
        if self.opened == f"{namespace}/{flow_id}":
            self.opened, self.source = "", ""
        self.load()

    @rx.event
    def open_flow(self, namespace: str, flow_id: str) -> None:
        self.source = services.flow_source(self.principal(), namespace, flow_id)
        self.opened = f"{namespace}/{flow_id}"
