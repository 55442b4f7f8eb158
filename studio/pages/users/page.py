"""What the users page shows: its components (the state they read is in state.py)."""

import reflex as rx

from studio.components.layout import danger_button, error_and_notice, page, sidebar
from studio.pages.users.state import UserRow, UsersState
from studio.services import people
from studio.services.people import MembershipRow
from studio.session import ALL_NAMESPACES, SessionState


def _chip(username, membership: MembershipRow) -> rx.Component:
    return rx.badge(
        rx.text(membership.namespace + ": " + membership.role),
        rx.icon(
            "x",
            size=12,
            cursor="pointer",
            on_click=UsersState.remove_membership(username, membership.namespace),
            class_name="remove-membership",
        ),
        variant="soft",
        class_name="membership-chip",
        custom_attrs={"data-namespace": membership.namespace},
    )


def _inline_form(on_submit, username, *fields: rx.Component, label: str, class_name: str) -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.el.input(type="hidden", name="username", value=username),
            *fields,
            rx.button(label, size="1", variant="soft", type="submit"),
            align="center",
        ),
        on_submit=on_submit,
        reset_on_submit=True,
        class_name=class_name,
    )


def _user_card(user: UserRow) -> rx.Component:
    role_select = rx.el.select(
        *[rx.el.option(role, value=role) for role in people.ROLES],
        name="role",
        default_value="viewer",
        aria_label="Role",
        style={"background": "var(--color-panel-solid)", "color": "var(--gray-12)"},
    )
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text(user.username, weight="bold", class_name="username"),
                rx.text(user.display_name, color_scheme="gray"),
                rx.cond(user.is_admin, rx.badge("admin", color_scheme="purple")),
                rx.cond(user.disabled, rx.badge("disabled", color_scheme="red", class_name="disabled-badge")),
                rx.spacer(),
                rx.text("last sign-in: " + user.last_sign_in, size="1", color_scheme="gray"),
                rx.cond(
                    user.disabled,
                    rx.button(
                        "Enable",
                        size="1",
                        on_click=UsersState.set_disabled(user.username, False),
                        class_name="enable-user",
                    ),
                    danger_button("Disable", UsersState.set_disabled(user.username, True), class_name="disable-user"),
                ),
                width="100%",
                align="center",
            ),
            rx.hstack(
                rx.foreach(user.memberships, lambda m: _chip(user.username, m)),
                rx.cond(user.memberships.length() == 0, rx.text("no roles", size="1", color_scheme="gray")),
                wrap="wrap",
            ),
            rx.hstack(
                _inline_form(
                    UsersState.grant,
                    user.username,
                    rx.input(name="namespace", placeholder="namespace", size="1", aria_label="Namespace"),
                    role_select,
                    label="Grant",
                    class_name="grant-form",
                ),
                _inline_form(
                    UsersState.reset_password,
                    user.username,
                    rx.input(
                        name="password",
                        type="password",
                        placeholder="new password",
                        size="1",
                        aria_label="New password",
                    ),
                    label="Reset password",
                    class_name="reset-form",
                ),
                spacing="5",
                wrap="wrap",
            ),
            width="100%",
        ),
        width="100%",
        class_name="user-row",
        custom_attrs={"data-username": user.username},
    )


def _create_form() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.input(name="username", placeholder="username", id="new-username", aria_label="Username"),
            rx.input(
                name="password",
                type="password",
                placeholder="password (10+ characters)",
                id="new-password",
                aria_label="Password",
            ),
            rx.el.label(
                rx.switch(name="is_admin", id="new-is-admin"),
                rx.text("administrator", size="2"),
                html_for="new-is-admin",
                style={"display": "flex", "gap": "8px", "align-items": "center"},
            ),
            rx.button("Create user", type="submit", id="create-user"),
            align="center",
        ),
        on_submit=UsersState.create_user,
        reset_on_submit=True,
    )


def users_page() -> rx.Component:
    return page(
        sidebar(SessionState.reachable, ALL_NAMESPACES, SessionState.open_namespace),
        rx.heading("Users", size="6"),
        rx.cond(
            UsersState.refused != "",
            rx.callout(UsersState.refused, icon="lock", color_scheme="red", id="users-refused"),
            rx.vstack(
                rx.text(
                    "Roles hold on a namespace and every namespace below it; administrators may do everything.",
                    size="2",
                    color_scheme="gray",
                ),
                *error_and_notice(UsersState.error, UsersState.notice, "users"),
                _create_form(),
                rx.foreach(UsersState.users, _user_card),
                width="100%",
                spacing="3",
            ),
        ),
    )
