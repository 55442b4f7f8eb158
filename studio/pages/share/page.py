"""What the share page shows: its components (the state they read is in state.py)."""

import reflex as rx

from studio.components.canvas import flow_canvas
from studio.pages.share.state import INVALID, SharedState


def _canvas() -> rx.Component:
    return rx.box(
        flow_canvas(
            nodes=SharedState.nodes,
            edges=SharedState.edges,
            positions={},
            read_only=True,
            flow_key=SharedState.info.namespace + "/" + SharedState.info.flow,
        ),
        height="60vh",
        width="100%",
        border="1px solid var(--gray-5)",
        border_radius="8px",
        id="canvas",
    )


def _flow() -> rx.Component:
    return rx.vstack(
        rx.heading("Flow " + SharedState.info.namespace + "/" + SharedState.info.flow, size="5"),
        rx.text("revision " + SharedState.info.revision, size="2", color_scheme="gray"),
        _canvas(),
        rx.code_block(SharedState.source, language="yaml", width="100%", id="shared-yaml"),
        width="100%",
    )


def _fact(label: str, value, **props) -> rx.Component:
    return rx.vstack(rx.text(label, size="1", color_scheme="gray"), rx.text(value, size="2", **props), spacing="0")


def _execution() -> rx.Component:
    info = SharedState.info
    return rx.vstack(
        rx.hstack(
            rx.heading("Execution of " + info.namespace + "/" + info.flow, size="5"),
            rx.badge(info.state, id="execution-state", size="2"),
            align="center",
        ),
        rx.hstack(
            _fact("Revision", info.revision),
            _fact("Created", info.created),
            _fact("Duration", info.duration, id="execution-duration"),
            spacing="5",
        ),
        rx.cond(
            info.error != "",
            rx.callout(info.error, color_scheme="red", id="execution-error", width="100%"),
        ),
        rx.tabs.root(
            rx.tabs.list(
                rx.tabs.trigger("Topology", value="topology", id="tab-topology"),
                rx.tabs.trigger("Gantt", value="gantt", id="tab-gantt"),
                rx.tabs.trigger("Logs", value="logs", id="tab-logs"),
            ),
            rx.tabs.content(_canvas(), value="topology"),
            rx.tabs.content(rx.plotly.basic(data=SharedState.gantt, id="gantt"), value="gantt"),
            rx.tabs.content(
                rx.box(
                    rx.foreach(
                        SharedState.log_lines,
                        lambda line: rx.text(
                            line, white_space="pre-wrap", font_family="monospace", size="1", class_name="log-line"
                        ),
                    ),
                    max_height="60vh",
                    overflow_y="auto",
                    width="100%",
                    id="log-panel",
                ),
                value="logs",
            ),
            default_value="topology",
            width="100%",
        ),
        width="100%",
    )


def share_page() -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.icon("bird", size=22),
            rx.heading("Lanner", size="5"),
            rx.badge("shared, read-only", color_scheme="gray"),
            align="center",
            margin_bottom="1em",
        ),
        rx.cond(
            SharedState.loaded,
            rx.match(
                SharedState.kind,
                ("flow", _flow()),
                ("execution", _execution()),
                rx.callout(INVALID, color_scheme="orange", id="share-invalid"),
            ),
            rx.spinner(),
        ),
        padding="1.5em",
    )
