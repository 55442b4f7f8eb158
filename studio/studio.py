"""The Lanner studio app: pages are registered here; each page lives in its own module."""

import asyncio

import reflex as rx

from engine.api import create_app
from engine.core.palette import css_variables
from engine.runtime.memory import collect_less
from studio.components.theme import ThemeState
from studio.pages.account.page import account_page
from studio.pages.account.state import AccountState
from studio.pages.audit.page import audit_page
from studio.pages.audit.state import AuditState
from studio.pages.blueprints.page import blueprints_page
from studio.pages.blueprints.state import BlueprintsState
from studio.pages.cluster.page import cluster_page
from studio.pages.cluster.state import ClusterState
from studio.pages.dashboard.page import dashboard_page
from studio.pages.dashboard.state import DashboardState
from studio.pages.editor.page import editor_page
from studio.pages.editor.state import EditorState
from studio.pages.execution.page import execution_page
from studio.pages.execution.state import ExecutionState
from studio.pages.executions.page import executions_page
from studio.pages.executions.state import ExecutionsState
from studio.pages.flows.page import flows_page
from studio.pages.flows.state import FlowsState
from studio.pages.kv.page import kv_page
from studio.pages.kv.state import KvState
from studio.pages.namespaces.page import namespace_page
from studio.pages.namespaces.state import NamespaceState
from studio.pages.share.page import share_page
from studio.pages.share.state import SharedState
from studio.pages.sign_in.page import login_page, setup_page
from studio.pages.sign_in.state import SignInState
from studio.pages.triggers.page import triggers_page
from studio.pages.triggers.state import TriggersState
from studio.pages.users.page import users_page
from studio.pages.users.state import UsersState
from studio.services.editor_warm_up import warm_up
from studio.session import ForgetOtherSignIns, SessionState, on_backend_error

# The REST API (engine/api) is served by the studio's backend under /api/v1. Refused access raised by any event
# handler (engine.identity.authz) becomes a redirect to the sign-in page or a message, in one place.
# The state and level colours (engine/core/palette.py) reach the canvas' JSX as CSS variables on :root.
app = rx.App(
    api_transformer=create_app(),
    backend_exception_handler=on_backend_error,
    head_components=[rx.el.style(css_variables())],
    stylesheets=["/themes.css"],  # the dark theme of widgets that paint their own colours (the canvas)
)
app.add_middleware(ForgetOtherSignIns())  # one person's page states are never shown to the next


async def warm_up_editor() -> None:
    """The editor's first open finds the task schemas and its code paths ready (studio.services.editor_warm_up);
    then the garbage collector leaves what the studio holds for good alone (``collect_less``)."""
    await asyncio.to_thread(warm_up)
    await asyncio.to_thread(collect_less)


app.register_lifespan_task(warm_up_editor)


def signed_in_page(component, route: str, title: str, load) -> None:
    """A page for signed-in people: ``SessionState.enter`` runs first and sends anyone else away; then the person's
    saved theme is applied."""
    on_load = [SessionState.enter, ThemeState.load, load]
    app.add_page(component, route=route, title=f"{title} · Lanner", on_load=on_load)


app.add_page(login_page, route="/login", title="Sign in · Lanner", on_load=SignInState.load_login)
app.add_page(setup_page, route="/setup", title="Welcome · Lanner", on_load=SignInState.load_setup)
signed_in_page(flows_page, "/", "Flows", FlowsState.open_page)
signed_in_page(flows_page, "/flows", "Flows", FlowsState.open_page)
signed_in_page(blueprints_page, "/blueprints", "Blueprints", BlueprintsState.load)
signed_in_page(editor_page, "/flows/[namespace]/[flow_id]", "Editor", EditorState.load)
signed_in_page(executions_page, "/executions", "Executions", ExecutionsState.load)
signed_in_page(execution_page, "/executions/[execution_id]", "Execution", ExecutionState.load)
signed_in_page(dashboard_page, "/dashboard", "Dashboard", DashboardState.load)
signed_in_page(triggers_page, "/triggers", "Triggers", TriggersState.load)
signed_in_page(namespace_page, "/namespace", "Namespace", NamespaceState.load)
signed_in_page(kv_page, "/kv", "KV store", KvState.load)
signed_in_page(audit_page, "/audit", "Audit", AuditState.load)
signed_in_page(users_page, "/users", "Users", UsersState.load)
signed_in_page(cluster_page, "/cluster", "Cluster", ClusterState.load)
signed_in_page(account_page, "/account", "Account", AccountState.load)
# A share link's page: public, read-only, and showing only the link's target.
app.add_page(share_page, route="/share/[token]", title="Shared · Lanner", on_load=SharedState.load)
