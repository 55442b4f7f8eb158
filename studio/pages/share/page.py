"""What the share page shows: its components (the state they read is in state.py)."""

import reflex as rx

from studio.components.canvas import read_only_canvas
from studio.components.code_view import code_view
from studio.components.layout import callout_if, fact
from studio.components.logs import log_box
from studio.components.output_files import files_panel
from studio.pages.share.state import INVALID, SharedState


def _canvas() -> rx.Component:
    flow_key = SharedState.info.namespace + "/" + SharedState.info.flow
    return read_only_canvas(SharedState.nodes, SharedState.edges, flow_key, width="100%")


def _flow() -> rx.Component:
    return rx.vstack(
        rx.heading("Flow " + SharedState.info.namespace + "/" + SharedState.info.flow, size="5"),
        rx.text("revision " + SharedState.info.revision, size="2", color_scheme="gray"),
        _canvas(),
        code_view(SharedState.source, language="yaml", width="100%", id="shared-yaml"),
        width="100%",
    )


def _execution() -> rx.Component:
    info = SharedState.info
    return rx.vstack(
        rx.hstack(
            rx.heading("Execution of " + info.namespace + "/" + info.flow, size="5"),
            rx.badge(info.state, id="execution-state", size="2"),
            align="center",
        ),
        rx.hstack(
            fact("Revision", info.revision),
            fact("Created", info.created),
            fact("Duration", info.duration, id="execution-duration"),
            spacing="5",
        ),
        callout_if(info.error, "execution-error", color_scheme="red", width="100%"),
        rx.tabs.root(
            rx.tabs.list(
                rx.tabs.trigger("Topology", value="topology", id="tab-topology"),
                rx.tabs.trigger("Gantt", value="gantt", id="tab-gantt"),
                rx.tabs.trigger("Logs", value="logs", id="tab-logs"),
                rx.tabs.trigger("Outputs", value="outputs", id="tab-outputs"),
            ),
            rx.tabs.content(_canvas(), value="topology"),
            rx.tabs.content(rx.plotly.basic(data=SharedState.gantt, id="gantt"), value="gantt"),
            rx.tabs.content(
                log_box(SharedState.log_lines, "60vh"),
                value="logs",
            ),
            rx.tabs.content(
                files_panel(SharedState.files, SharedState.preview, SharedState.files_message, SharedState.show_file),
                value="outputs",
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
