"""The Lanner studio app: pages are registered here; each page lives in its own module."""

import reflex as rx

from studio.pages import flows

app = rx.App()
app.add_page(flows.flows_page, route="/", title="Flows · Lanner", on_load=flows.FlowsState.load)
app.add_page(flows.flows_page, route="/flows", title="Flows · Lanner", on_load=flows.FlowsState.load)
