"""Form widgets written in plain React (``assets/form_widgets.jsx``): maps, lists, records, pane splitter."""

from typing import Any

import reflex as rx

from studio.components.events import payload


class _Widget(rx.Component):
    library = "$/public/form_widgets.jsx"


class KeyValueField(_Widget):
    tag = "KeyValueField"
    name: rx.Var[str]
    value: rx.Var[Any]
    key_label: rx.Var[str]
    value_label: rx.Var[str]
    disabled: rx.Var[bool]  # shown, not editable (a viewer's form)
    label: rx.Var[str]  # the field's name for screen readers: each cell is "<label> <column> <row>"
    on_commit: rx.EventHandler[payload]


class ListField(_Widget):
    tag = "ListField"
    name: rx.Var[str]
    value: rx.Var[Any]
    disabled: rx.Var[bool]  # shown, not editable (a viewer's form)
    label: rx.Var[str]
    on_commit: rx.EventHandler[payload]


class RecordListField(_Widget):
    """Rows of records; ``columns`` are ``{name, label, kind: text|select|switch, options, default}``."""

    tag = "RecordListField"
    name: rx.Var[str]
    value: rx.Var[Any]
    columns: rx.Var[list[dict[str, Any]]]
    disabled: rx.Var[bool]  # shown, not editable (a viewer's form)
    label: rx.Var[str]
    on_commit: rx.EventHandler[payload]


class PaneSplitter(_Widget):
    tag = "PaneSplitter"
    target: rx.Var[str]
    storage_key: rx.Var[str]


key_value_field = KeyValueField.create
list_field = ListField.create
record_list_field = RecordListField.create
pane_splitter = PaneSplitter.create
