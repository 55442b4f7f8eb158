"""The frame every page shares: a sidebar with the namespace selector, and the page body."""

from collections.abc import Callable, Sequence

import reflex as rx

from studio.components.plain_form import plain_form
from studio.components.shortcuts import shortcut_help
from studio.components.theme import theme_switch
from studio.session import SessionState

NAVIGATION = [
    ("workflow", "Flows", "/flows"),
    ("layout-template", "Blueprints", "/blueprints"),
    ("list-checks", "Executions", "/executions"),
    ("chart-column", "Dashboard", "/dashboard"),
    ("alarm-clock", "Triggers", "/triggers"),
    ("key-round", "Variables & secrets", "/namespace"),
    ("database", "KV store", "/kv"),
    ("scroll-text", "Audit", "/audit"),
    ("circle-user", "Account", "/account"),
]


def _link(icon: str, label: str, href: str) -> rx.Component:
    return rx.link(rx.hstack(rx.icon(icon, size=16), rx.text(label)), href=href, class_name="nav-link")


def _icon_link(icon: str, label: str, href: str) -> rx.Component:
    return rx.tooltip(
        rx.link(rx.icon(icon, size=18), href=href, class_name="nav-link", aria_label=label), content=label, side="right"
    )


def sidebar(
    namespaces: rx.Var, selected: rx.Var, on_select, collapsed: rx.Var[bool] | bool = False, on_toggle=None
) -> rx.Component:
    """The app's navigation. With ``on_toggle`` (the editor, where the canvas needs the room) it can be collapsed
    to a narrow column of icons, ``collapsed`` saying which is shown."""
    full = _full_sidebar(namespaces, selected, on_select, on_toggle)
    if on_toggle is None:
        return full
    return rx.cond(collapsed, _narrow_sidebar(namespaces, selected, on_select, on_toggle), full)


def _toggle(on_toggle, icon: str, label: str) -> rx.Component:
    return rx.icon_button(
        rx.icon(icon, size=16), on_click=on_toggle, variant="ghost", id="sidebar-toggle", aria_label=label, title=label
    )


def _narrow_sidebar(namespaces: rx.Var, selected: rx.Var, on_select, on_toggle) -> rx.Component:
    """Icons, a small namespace selector and who is signed in: what the full sidebar offers, in 52 px."""
    return rx.vstack(
        rx.icon("bird", size=22),
        _toggle(on_toggle, "panel-left-open", "Show the navigation"),
        rx.select(
            namespaces,
            value=selected,
            on_change=on_select,
            placeholder="all",
            size="1",
            width="44px",
            id="namespace-select",
            custom_attrs={"aria-label": "Namespace"},
        ),
        *[_icon_link(icon, label, href) for icon, label, href in NAVIGATION],
        rx.cond(SessionState.signed_in_admin, _icon_link("users", "Users", "/users")),
        rx.cond(SessionState.signed_in_admin, _icon_link("server", "Cluster", "/cluster")),
        rx.spacer(),
        rx.text(
            SessionState.signed_in_as,
            id="signed-in-as",
            size="1",
            max_width="48px",
            overflow="hidden",
            text_overflow="ellipsis",
            white_space="nowrap",
            title=SessionState.signed_in_as,
        ),
        shortcut_help(compact=True),
        sign_out_form(rx.icon("log-out", size=16), aria_label="Sign out", title="Sign out"),
        width="52px",
        flex="none",
        min_height="100vh",
        padding="1em 0",
        border_right="1px solid var(--gray-5)",
        spacing="3",
        align="center",
        id="app-sidebar",
        data_collapsed="true",
    )


def _full_sidebar(namespaces: rx.Var, selected: rx.Var, on_select, on_toggle) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.icon("bird", size=22),
            rx.heading("Lanner", size="5"),
            *([rx.spacer(), _toggle(on_toggle, "panel-left-close", "Collapse the navigation")] if on_toggle else []),
            align="center",
            width="100%",
        ),
        rx.text("Namespace", size="1", color_scheme="gray", margin_top="1em"),
        rx.select(
            namespaces,
            value=selected,
            on_change=on_select,
            placeholder="all namespaces",
            width="100%",
            id="namespace-select",
            custom_attrs={"aria-label": "Namespace"},
        ),
        *[_link(icon, label, href) for icon, label, href in NAVIGATION],
        rx.cond(SessionState.signed_in_admin, _link("users", "Users", "/users")),  # the page refuses others anyway
        rx.cond(SessionState.signed_in_admin, _link("server", "Cluster", "/cluster")),
        rx.spacer(),
        account_box(),
        width="220px",
        flex="none",
        min_height="100vh",
        padding="1em",
        border_right="1px solid var(--gray-5)",
        spacing="3",
        id="app-sidebar",
    )


# Signing out also drops the tab's Reflex token: the next page starts from fresh states, on a new token.
FORGET_TAB = rx.Var("() => window.sessionStorage.removeItem('token')")


def sign_out_form(*content: rx.Component, **props) -> rx.Component:
    """The way out: a plain form, so the server clears the HttpOnly cookie itself."""
    return plain_form(
        rx.el.button(*content, type="submit", id="sign-out", style={"cursor": "pointer"}, **props),
        action="/api/v1/auth/logout",
        method="post",
        custom_attrs={"onSubmit": FORGET_TAB},
    )


def account_box() -> rx.Component:
    """Who is signed in, their theme, the shortcut help (``?``), and the way out: a plain form, so the server
    clears the HttpOnly cookie itself."""
    return rx.vstack(
        rx.hstack(
            rx.icon("circle-user", size=16),
            rx.text(SessionState.signed_in_as, id="signed-in-as", weight="medium"),
            rx.cond(SessionState.signed_in_admin, rx.badge("admin", color_scheme="purple")),
            align="center",
        ),
        theme_switch(),
        shortcut_help(),
        sign_out_form(rx.hstack(rx.icon("log-out", size=14), rx.text("Sign out", size="2"))),
        spacing="2",
        padding_top="1em",
        border_top="1px solid var(--gray-5)",
        width="100%",
    )


def page(sidebar_component: rx.Component, *body: rx.Component) -> rx.Component:
    """The body shows once the page's ``on_load`` handlers (access checks first) are done: never what the state
    held before this load."""
    return rx.hstack(
        sidebar_component,
        rx.box(
            rx.cond(rx.State.is_hydrated, rx.fragment(*body), rx.center(rx.spinner(size="3"), padding="4em")),
            padding="1.5em",
            flex="1",
            min_width="0",
        ),
        spacing="0",
        align="start",
    )


def labelled(label: str, field_id: str, control: rx.Component, size: str = "var(--font-size-1)") -> rx.Component:
    """A control under its visible label, tied to it (``for``/``id``) so a screen reader names the control."""
    return rx.vstack(
        rx.el.label(label, html_for=field_id, style={"font_size": size}), control, spacing="1", width="100%"
    )


def fact(label: str, value, **props) -> rx.Component:
    """A small grey label above its value: the facts in an execution's header."""
    return rx.vstack(rx.text(label, size="1", color_scheme="gray"), rx.text(value, size="2", **props), spacing="0")


def choice_button(label, chosen: rx.Var[bool], on_click, id: str) -> rx.Component:
    """One of a row of buttons picking a value (a window, a pane): solid when it is the one picked."""
    return rx.button(label, on_click=on_click, variant=rx.cond(chosen, "solid", "soft"), size="1", id=id)


def data_table(headers: Sequence[str], rows: rx.Var, render: Callable[[rx.Var], rx.Component], **props) -> rx.Component:
    """A full-width table: a header row of column names, then one row per item of ``rows`` drawn by ``render``."""
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
        rx.table.body(rx.foreach(rows, render)),
        width="100%",
        **props,
    )


def danger_button(label: str, on_click, **props) -> rx.Component:
    """The small red button of a row that takes away what the row shows (revoke, remove, delete, disable)."""
    return rx.button(label, size="1", variant="soft", color_scheme="red", on_click=on_click, **props)


def confirmed_danger_button(label: str, question: rx.Var[str] | str, on_confirm, **props) -> rx.Component:
    """A danger button that asks first: ``question`` in a dialog, Cancel or ``label`` (``.confirm-action``)."""
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(rx.button(label, size="1", variant="soft", color_scheme="red", **props)),
        rx.alert_dialog.content(
            rx.alert_dialog.title(label + "?"),
            rx.alert_dialog.description(question, size="2"),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray", class_name="cancel")),
                rx.alert_dialog.action(
                    rx.button(label, color_scheme="red", on_click=on_confirm, class_name="confirm-action")
                ),
                spacing="3",
                justify="end",
                margin_top="16px",
            ),
            max_width="440px",
        ),
    )


def callout_if(message: rx.Var[str], id: str, **props) -> rx.Component:
    """A callout showing ``message`` while it is not empty (an error, a notice)."""
    return rx.cond(message != "", rx.callout(message, id=id, **props))


def error_and_notice(error: rx.Var[str], notice: rx.Var[str], name: str) -> tuple[rx.Component, rx.Component]:
    """A page's red error and plain notice callouts, ``<name>-error`` and ``<name>-notice``, each while set."""
    return callout_if(error, name + "-error", color_scheme="red"), callout_if(notice, name + "-notice")
