"""The editor's forms: the selected task's properties (or the flow's settings), each edit written into the YAML."""

from typing import Any

import reflex as rx

from engine.flows.yaml_edit import EditError
from studio import services
from studio.forms import FormField
from studio.pages.editor.state import EditorState
from studio.services import connection_check, editor_forms, messages
from studio.services.editing import raw_task


class FormsState(EditorState):
    """The form follows the text the base state last handed it (``_form_text``) and the selected task."""

    connection_answer: str = ""  # the last "Test connection" answer, for connection_task
    connection_detail: str = ""  # the raw error behind a rewritten answer ("Details")
    connection_ok: bool = False
    connection_task: str = ""
    field_error: str = ""  # a value the form refused, shown under its field (field_error_for)
    field_error_for: str = ""

    @rx.var
    def is_database_task(self) -> bool:
        return bool(self._form_text and self.selected) and connection_check.is_database_task(
            self._form_text, self.selected
        )

    @rx.event
    def test_connection(self) -> None:
        """Connect with the selected task's url or connection (secrets of the flow's namespace) and show why not."""
        try:
            self.connection_ok, self.connection_answer = connection_check.test_task_connection(
                self.principal(), self._form_text, self.selected
            )
        except ValueError as exc:  # a refusal: no right to test in that namespace, not a database task
            self.connection_ok, self.connection_answer = False, str(exc)
        self.connection_task, self.connection_detail = self.selected, ""
        if not self.connection_ok:
            explained = messages.explain(self.connection_answer, _address(raw_task(self._form_text, self.selected)))
            self.connection_answer = explained.text
            self.connection_detail = explained.raw if explained.rewritten else ""

    @rx.var
    def form(self) -> list[FormField]:
        if not self._form_text:  # no flow loaded (the state is also computed on other pages)
            return []
        if self.selected:
            fields = services.task_form(self._form_text, self.selected)
        else:
            fields = services.flow_form(self._form_text)
        return [FormField(**given) for given in fields]

    @rx.var
    def names(self) -> list[dict[str, str]]:
        """What the code fields complete: inputs, variables, tasks and the outputs of the run followed."""
        return services.expression_names(self._form_text, self.task_outputs) if self._form_text else []

    @rx.event
    def set_field(self, name: str, value: Any) -> None:
        """A form edit: written into the YAML at once, changing only that property's text."""
        kind = next((f.kind for f in self.form if f.name == name), "text")
        task_id = self.selected
        self.field_error = self.field_error_for = ""
        if task_id and name == "id":
            self._rename(task_id, "" if value is None else str(value))
            return

        def change(text: str) -> str:
            if kind == "records" and not task_id:  # inputs, triggers: entry by entry, comments kept
                return editor_forms.set_flow_records(text, name, value)
            value_written = services.form_value(kind, value, name)
            if task_id:
                return services.edit(text, "set_property", task_id=task_id, key=name, value=value_written)
            return services.set_flow_setting(text, name, value_written)

        self._change(change)

    def _rename(self, old_id: str, new_id: str) -> None:
        """Rename the selected task (and every reference to it); a refused id is explained at the id field."""
        if new_id.strip() == old_id:
            return
        if not self.can_edit:
            self.message = self.read_only_note
            return
        try:
            renamed = editor_forms.rename_task(self._draft, old_id, new_id)
        except EditError as exc:
            self.field_error, self.field_error_for = str(exc).removeprefix("id: "), "id"
            return
        self._change(lambda _: renamed)
        new_id = new_id.strip()
        self.selected = new_id
        if old_id in self.positions:
            self.positions = {(new_id if k == old_id else k): v for k, v in self.positions.items()}
        self.message = f"renamed {old_id} to {new_id}"

    @rx.event
    def commit_field(self, payload: dict[str, Any]) -> None:
        """What a code field or a map/list/records widget reports when focus leaves it."""
        self.set_field(payload["name"], payload.get("value"))


def _address(task: dict[str, Any] | None) -> str:
    """Where a database task connects (its url, or its connection block's host and port), to name it in errors."""
    if not task:
        return ""
    if isinstance(task.get("url"), str):
        return task["url"]
    block = task.get("connection")
    if isinstance(block, dict) and isinstance(block.get("host"), str):
        return f"{block['host']}:{block['port']}" if block.get("port") else block["host"]
    return ""
