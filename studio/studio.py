"""The Lanner studio app: pages are registered here; each page lives in its own module."""

import reflex as rx

from engine.api import create_app
from studio.pages import audit, dashboard, editor, execution, executions, flows, namespaces, share, triggers

# The REST API (engine/api) is served by the studio's backend under /api/v1.
app = rx.App(api_transformer=create_app())
app.add_page(flows.flows_page, route="/", title="Flows · Lanner", on_load=flows.FlowsState.load)
app.add_page(flows.flows_page, route="/flows", title="Flows · Lanner", on_load=flows.FlowsState.load)
app.add_page(
    editor.editor_page, route="/flows/[namespace]/[flow_id]", title="Editor · Lanner", on_load=editor.EditorState.load
)
app.add_page(
    executions.executions_page,
    route="/executions",
    title="Executions · Lanner",
    on_load=executions.ExecutionsState.load,
)
app.add_page(
    execution.execution_page,
    route="/executions/[execution_id]",
    title="Execution · Lanner",
    on_load=execution.ExecutionState.load,
)
app.add_page(
    dashboard.dashboard_page, route="/dashboard", title="Dashboard · Lanner", on_load=dashboard.DashboardState.load
)
app.add_page(triggers.triggers_page, route="/triggers", title="Triggers · Lanner", on_load=triggers.TriggersState.load)
app.add_page(
    namespaces.namespace_page, route="/namespace", title="Namespace · Lanner", on_load=namespaces.NamespaceState.load
)
# A share link's page: public, read-only, and showing only the link's target.
app.add_page(share.share_page, route="/share/[token]", title="Shared · Lanner", on_load=share.SharedState.load)
app.add_page(audit.audit_page, route="/audit", title="Audit · Lanner", on_load=audit.AuditState.load)
