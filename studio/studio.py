"""The Lanner studio app: pages are registered here; each page lives in its own module."""

import reflex as rx

from engine.api import create_app
from studio.pages import editor, flows

# The REST API (engine/api) is served by the studio's backend under /api/v1.
app = rx.App(api_transformer=create_app())
app.add_page(flows.flows_page, route="/", title="Flows · Lanner", on_load=flows.FlowsState.load)
app.add_page(flows.flows_page, route="/flows", title="Flows · Lanner", on_load=flows.FlowsState.load)
app.add_page(
    editor.editor_page, route="/flows/[namespace]/[flow_id]", title="Editor · Lanner", on_load=editor.EditorState.load
)
