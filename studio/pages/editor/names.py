"""What ``{{ }}`` completes, with the namespace's own names: its variables and the names of its secrets (never their
values), besides the flow's inputs, variables and task outputs (``FormsState.names``)."""

import reflex as rx

from studio.pages.editor.forms import FormsState
from studio.services.namespace_settings import settings


class NamesState(FormsState):
    namespace_names: list[dict[str, str]] = []  # loaded when the editor shows (load_namespace_names)

    @rx.event
    def load_namespace_names(self) -> None:
        try:
            seen = settings(self.principal(), self.namespace) if self.namespace else {}
        except (LookupError, ValueError, PermissionError):  # not a member: only the flow's own names complete
            seen = {}
        where = lambda item: "" if item.get("own") else f" (from {item.get('origin')})"  # noqa: E731
        self.namespace_names = [
            {"label": f"vars.{v['name']}", "detail": "namespace variable" + where(v)} for v in seen.get("variables", [])
        ] + [{"label": f"secret('{s['name']}')", "detail": "secret" + where(s)} for s in seen.get("secrets", [])]

    @rx.var
    def all_names(self) -> list[dict[str, str]]:
        """The flow's names, then the namespace's it does not already offer."""
        names = self.names
        offered = {n["label"] for n in names}
        return names + [n for n in self.namespace_names if n["label"] not in offered]
