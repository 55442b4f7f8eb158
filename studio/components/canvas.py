"""The React Flow canvas (``assets/flow_canvas.jsx``), with its npm packages pinned."""

from typing import Any

import reflex as rx

from studio.components.events import payload


class FlowCanvas(rx.Component):
    library = "$/public/flow_canvas.jsx"
    tag = "FlowCanvas"
    lib_dependencies: list[str] = ["@xyflow/react@12.10.1", "@dagrejs/dagre@1.1.4"]

    nodes: rx.Var[list[dict[str, Any]]]
    edges: rx.Var[list[dict[str, Any]]]
    positions: rx.Var[dict[str, Any]]
    read_only: rx.Var[bool]
    flow_key: rx.Var[str]

    on_drop_task: rx.EventHandler[payload]
    on_connect_tasks: rx.EventHandler[payload]
    on_delete_tasks: rx.EventHandler[payload]
    on_delete_edge: rx.EventHandler[payload]
    on_move_task: rx.EventHandler[payload]
    on_select_task: rx.EventHandler[payload]
    on_focus_task: rx.EventHandler[payload]  # the keyboard moved the selection to a node
    on_open_task: rx.EventHandler[payload]  # Enter on a node: its form
    on_undo: rx.EventHandler[payload]
    on_redo: rx.EventHandler[payload]


flow_canvas = FlowCanvas.create


def read_only_canvas(nodes: rx.Var, edges: rx.Var, flow_key: rx.Var, **props: Any) -> rx.Component:
    """A flow drawn without editing (an execution's, a shared one); ``on_select_task`` goes to the canvas."""
    events = {name: props.pop(name) for name in ("on_select_task", "on_focus_task") if name in props}
    return rx.box(
        flow_canvas(nodes=nodes, edges=edges, positions={}, read_only=True, flow_key=flow_key, **events),
        height="60vh",
        border="1px solid var(--gray-5)",
        border_radius="8px",
        id="canvas",
        **props,
    )


class TaskPalette(rx.Component):
    """Palette items dragged with HTML5 drag and drop onto the canvas (same file as the canvas)."""

    library = "$/public/flow_canvas.jsx"
    tag = "TaskPalette"
    lib_dependencies: list[str] = ["@xyflow/react@12.10.1", "@dagrejs/dagre@1.1.4"]

    items: rx.Var[list[dict[str, str]]]
    collapsed: rx.Var[bool]  # icons only
    on_add_task: rx.EventHandler[payload]  # Enter on an item: the task added after the selected node


task_palette = TaskPalette.create
