"""The editor's "Docs" section: the documentation of the selected task's type, beside its form."""

import reflex as rx

from engine.flows.yaml_source import parse_yaml
from studio.components.task_docs import DocOutput, DocProperty, TaskDoc, task_docs
from studio.pages.editor.state import EditorState
from studio.services.task_docs import task_doc, task_type_of


class DocsState(EditorState):
    docs_shown: bool = False  # kept from task to task: someone reading the docs wants them for the next one too

    @rx.event
    def toggle_docs(self) -> None:
        self.docs_shown = not self.docs_shown

    @rx.var
    def selected_doc(self) -> TaskDoc:
        type_name = task_type_of(parse_yaml(self._form_text).data, self.selected) if self._form_text else ""
        try:
            doc = task_doc(type_name) if type_name else None
        except LookupError:  # a type the YAML names but no one registered: the form says so already
            doc = None
        if doc is None:
            return TaskDoc()
        return TaskDoc(
            **{k: v for k, v in doc.items() if k not in ("properties", "outputs")},
            properties=[DocProperty(**p) for p in doc["properties"]],
            outputs=[DocOutput(**o) for o in doc["outputs"]],
        )


def docs_section() -> rx.Component:
    return task_docs(DocsState.selected_doc, DocsState.docs_shown, DocsState.toggle_docs)
