"""CodeMirror 6 (``assets/code_editor.jsx``): the YAML editor and the forms' code fields, npm packages pinned."""

import reflex as rx

from engine.flows.problems import Problem
from studio.components.events import payload, text


class _CodeMirror(rx.Component):
    library = "$/public/code_editor.jsx"
    # The versions already in the lock file: one copy of @codemirror/state, or extensions stop matching.
    lib_dependencies: list[str] = [
        "@uiw/react-codemirror@4.25.2",
        "@codemirror/lang-yaml@6.1.2",
        "@codemirror/lang-python@6.2.1",
        "@codemirror/lang-sql@6.10.0",
        "@codemirror/legacy-modes@6.5.5",
        "@codemirror/language@6.13.1",
        "@codemirror/state@6.7.6",
        "@codemirror/view@6.43.15",
        "@codemirror/lint@6.8.5",
        "@codemirror/autocomplete@6.18.6",
        "@lezer/highlight@1.2.5",  # the token tags of the dark theme's colours
    ]


class YamlEditor(_CodeMirror):
    tag = "YamlEditor"

    value: rx.Var[str]
    problems: rx.Var[list[Problem]]
    height: rx.Var[str]
    completions: rx.Var[list[dict[str, str]]]
    names: rx.Var[list[dict[str, str]]]  # what {{ }} completes: inputs, variables, tasks' output fields
    read_only: rx.Var[bool]  # for people who may read the flow but not change it
    label: rx.Var[str]  # the editor's accessible name ("Flow YAML" unless told)

    on_change: rx.EventHandler[text]
    on_save: rx.EventHandler[payload]  # Ctrl+S inside the editor: ``{text}`` as typed


class CodeField(_CodeMirror):
    """Python, shell, SQL or YAML with highlighting, or one line of text; reports ``{name, value}`` on blur."""

    tag = "CodeField"

    name: rx.Var[str]
    value: rx.Var[str]
    language: rx.Var[str]
    single_line: rx.Var[bool]
    names: rx.Var[list[dict[str, str]]]
    height: rx.Var[str]
    read_only: rx.Var[bool]
    label: rx.Var[str]  # the field's accessible name (its name unless told)

    on_commit: rx.EventHandler[payload]


yaml_editor = YamlEditor.create
code_field = CodeField.create
