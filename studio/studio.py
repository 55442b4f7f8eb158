"""The Lanner studio app: pages are registered here; each page lives in its own module."""

import reflex as rx

from engine.api import create_app
from engine.core.palette import css_variables
from studio.pages import (
    account,
    audit,
    dashboard,
    editor,
    execution,
    executions,
    flows,
    namespaces,
    share,
    sign_in,
    triggers,
    users,
)
from studio.session import ForgetOtherSignIns, SessionState, on_backend_error

# The REST API (engine/api) is served by the studio's backend under /api/v1. Refused access raised by any event
# handler (engine.identity.authz) becomes a redirect to the sign-in page or a message, in one place.
# The state and level colours (engine/core/palette.py) reach the canvas' JSX as CSS variables on :root.
app = rx.App(
    api_transformer=create_app(),
    backend_exception_handler=on_backend_error,
    head_components=[rx.el.style(css_variables())],
)
app.add_middleware(ForgetOtherSignIns())  # one person's page states are never shown to the next


def signed_in_page(component, route: str, title: str, load) -> None:
    """A page for signed-in people: ``SessionState.enter`` runs first and sends anyone else away."""
    app.add_page(component, route=route, title=f"{title} · Lanner", on_load=[SessionState.enter, load])


app.add_page(sign_in.login_page, route="/login", title="Sign in · Lanner", on_load=sign_in.SignInState.load_login)
app.add_page(sign_in.setup_page, route="/setup", title="Welcome · Lanner", on_load=sign_in.SignInState.load_setup)
signed_in_page(flows.flows_page, "/", "Flows", flows.FlowsState.open_page)
signed_in_page(flows.flows_page, "/flows", "Flows", flows.FlowsState.open_page)
signed_in_page(editor.editor_page, "/flows/[namespace]/[flow_id]", "Editor", editor.EditorState.load)
signed_in_page(executions.executions_page, "/executions", "Executions", executions.ExecutionsState.load)
signed_in_page(execution.execution_page, "/executions/[execution_id]", "Execution", execution.ExecutionState.load)
signed_in_page(dashboard.dashboard_page, "/dashboard", "Dashboard", dashboard.DashboardState.load)
signed_in_page(triggers.triggers_page, "/triggers", "Triggers", triggers.TriggersState.load)
signed_in_page(namespaces.namespace_page, "/namespace", "Namespace", namespaces.NamespaceState.load)
signed_in_page(audit.audit_page, "/audit", "Audit", audit.AuditState.load)
signed_in_page(users.users_page, "/users", "Users", users.UsersState.load)
signed_in_page(account.account_page, "/account", "Account", account.AccountState.load)
# A share link's page: public, read-only, and showing only the link's target.
app.add_page(share.share_page, route="/share/[token]", title="Shared · Lanner", on_load=share.SharedState.load)
