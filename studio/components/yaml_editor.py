"""The CodeMirror 6 YAML editor (``assets/yaml_editor.jsx``), with its npm packages pinned."""

from typing import Any

import reflex as rx


def _text(value: rx.Var[str]) -> tuple[rx.Var[str]]:
    return (value,)


class YamlEditor(rx.Component):
    library = "$/public/yaml_editor.jsx"
    tag = "YamlEditor"
    lib_dependencies: list[str] = [
        "@uiw/react-codemirror@4.25.2",
        "@codemirror/lang-yaml@6.1.2",
        "@codemirror/lint@6.8.5",
        "@codemirror/autocomplete@6.18.6",
    ]

    value: rx.Var[str]
    problems: rx.Var[list[dict[str, Any]]]
    height: rx.Var[str]
    dirty: rx.Var[bool]
    completions: rx.Var[list[dict[str, str]]]

    on_change: rx.EventHandler[_text]


yaml_editor = YamlEditor.create
