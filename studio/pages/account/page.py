"""What the account page shows: its components (the state they read is in state.py)."""

import reflex as rx

from studio.components.layout import danger_button, data_table, error_and_notice, page, sidebar
from studio.pages.account.state import AccountState, TokenRow
from studio.services.people import MembershipRow
from studio.session import ALL_NAMESPACES, SessionState


def _chip(membership: MembershipRow) -> rx.Component:
    return rx.badge(membership.namespace + ": " + membership.role, variant="soft", class_name="membership-chip")


def _token_row(token: TokenRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(token.name),
        rx.table.cell(rx.code(token.prefix)),
        rx.table.cell(token.created),
        rx.table.cell(token.last_used),
        rx.table.cell(token.expires),
        rx.table.cell(token.revoked),
        rx.table.cell(
            rx.cond(
                token.active,
                danger_button("Revoke", AccountState.revoke_token(token.id), class_name="revoke-token"),
            )
        ),
        class_name="token-row",
        custom_attrs={"data-name": token.name},
    )


def _new_token_callout() -> rx.Component:
    return rx.callout.root(
        rx.vstack(
            rx.text("Copy this token now: it will not be shown again.", weight="medium"),
            rx.hstack(
                rx.code(AccountState.new_token, id="new-token"),
                rx.button("Copy", size="1", variant="soft", on_click=rx.set_clipboard(AccountState.new_token)),
                rx.button("Done", size="1", variant="ghost", on_click=AccountState.dismiss_token),
                align="center",
            ),
        ),
        color_scheme="green",
        id="new-token-callout",
    )


def _password(name: str, placeholder: str, complete: str) -> rx.Component:
    return rx.input(
        name=name,
        type="password",
        placeholder=placeholder,
        auto_complete=complete,
        id=f"{name}-password",
        aria_label=placeholder,
    )


def account_page() -> rx.Component:
    headers = ["Name", "Starts with", "Created", "Last used", "Expires", "Revoked", ""]
    return page(
        sidebar(SessionState.reachable, ALL_NAMESPACES, SessionState.open_namespace),
        rx.heading("Account " + AccountState.username, size="6", id="account-heading"),
        *error_and_notice(AccountState.error, AccountState.notice, "account"),
        rx.heading("Roles", size="4", margin_top="1em"),
        rx.cond(SessionState.signed_in_admin, rx.text("Administrator: every action in every namespace.", size="2")),
        rx.hstack(rx.foreach(AccountState.memberships, _chip), wrap="wrap"),
        rx.heading("API tokens", size="4", margin_top="1em"),
        rx.text(
            "Programs send a token as 'Authorization: Bearer lnr_…'; it acts as you.", size="2", color_scheme="gray"
        ),
        rx.cond(AccountState.new_token != "", _new_token_callout()),
        rx.form(
            rx.hstack(
                rx.input(name="name", placeholder="name", id="token-name", aria_label="Token name"),
                rx.input(
                    name="days",
                    type="number",
                    min=1,
                    placeholder="expires in days (optional)",
                    id="token-days",
                    aria_label="Expires in days (optional)",
                ),
                rx.button("Create token", type="submit", id="create-token"),
            ),
            on_submit=AccountState.create_token,
            reset_on_submit=True,
        ),
        data_table(headers, AccountState.tokens, _token_row),
        rx.heading("Password", size="4", margin_top="1em"),
        rx.form(
            rx.hstack(
                _password("current", "current password", "current-password"),
                _password("new", "new password (10+ characters)", "new-password"),
                _password("again", "new password again", "new-password"),
                rx.button("Change password", type="submit", id="change-password"),
            ),
            on_submit=AccountState.change_password,
            reset_on_submit=True,
        ),
    )
