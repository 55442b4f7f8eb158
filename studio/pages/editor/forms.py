"""The editor's forms: the selected task's properties (or the flow's settings), each edit written into the YAML."""

from typing import Any

import reflex as rx

from studio import services
from studio.forms import FormField
from studio.pages.editor.state import EditorState
from studio.services import connection_check


class FormsState(EditorState):
    """The form follows the text the base state last handed it (``form_text``) and the selected task."""

    connection_answer: str = ""  # the last "Test connection" answer, for connection_task
    connection_ok: bool = False
    connection_task: str = ""

    @rx.var
    def is_database_task(self) -> bool:
        return bool(self.form_text and self.selected) and connection_check.is_database_task(
            self.form_text, self.selected
        )

    @rx.event
    def test_connection(self) -> None:
        """Connect with the selected task's url or connection (secrets of the flow's namespace) and show why not."""
        try:
            self.connection_ok, self.connection_answer = connection_check.test_task_connection(
                self.principal(), self.form_text, self.selected
            )
        except ValueError as exc:  # a refusal: no right to test in that namespace, not a database task
            self.connection_ok, self.connection_answer = False, str(exc)
        self.connection_task = self.selected

    @rx.var
    def form(self) -> list[FormField]:
        if not self.form_text:  # no flow loaded (the state is also computed on other pages)
            return []
        if self.selected:
            fields = services.task_form(self.form_text, self.selected)
        else:
            fields = services.flow_form(self.form_text)
        return [FormField(**given) for given in fields]

    @rx.var
    def names(self) -> list[dict[str, str]]:
        """What the code fields complete: inputs, variables, tasks and the outputs of the run followed."""
        return services.expression_names(self.form_text, self.task_outputs) if self.form_text else []

    @rx.event
    def set_field(self, name: str, value: Any) -> None:
        """A form edit: written into the YAML at once, changing only that property's text."""
        kind = next((f.kind for f in self.form if f.name == name), "text")
        task_id = self.selected

        def change(text: str) -> str:
            value_written = services.form_value(kind, value, name)
            if task_id:
                return services.edit(text, "set_property", task_id=task_id, key=name, value=value_written)
            return services.set_flow_setting(text, name, value_written)

        self._change(change)

    @rx.event
    def commit_field(self, payload: dict[str, Any]) -> None:
        """What a code field or a map/list/records widget reports when focus leaves it."""
        self.set_field(payload["name"], payload.get("value"))
