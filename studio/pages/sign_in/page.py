"""What the sign-in page shows: its components (the state they read is in state.py)."""

import reflex as rx

from studio.components.plain_form import plain_form
from studio.pages.sign_in.state import SignInState


def _field(label: str, name: str, kind: str = "text", **props) -> rx.Component:
    return rx.vstack(
        rx.el.label(rx.text(label, size="2", weight="medium"), html_for=f"{name}-field"),
        rx.el.input(
            name=name,
            type=kind,
            required=True,
            id=f"{name}-field",
            style={"width": "100%", "padding": "0.5em", "border": "1px solid var(--gray-7)", "border-radius": "6px"},
            **props,
        ),
        width="100%",
        spacing="1",
    )


def _card(title: str, intro: str, form: rx.Component) -> rx.Component:
    return rx.center(
        rx.card(
            rx.vstack(
                rx.hstack(rx.icon("bird", size=24), rx.heading("Lanner", size="6"), align="center"),
                rx.heading(title, size="4"),
                rx.text(intro, size="2", color_scheme="gray"),
                rx.cond(
                    SignInState.error != "",
                    rx.callout(SignInState.error, icon="triangle-alert", color_scheme="red", id="sign-in-error"),
                ),
                form,
                spacing="3",
            ),
            width="380px",
        ),
        min_height="100vh",
    )


def _submit(label: str) -> rx.Component:
    return rx.el.button(
        label,
        type="submit",
        id="sign-in-submit",
        style={
            "width": "100%",
            "padding": "0.6em",
            "background": "var(--accent-9)",
            "color": "white",
            "border-radius": "6px",
            "cursor": "pointer",
        },
    )


def login_page() -> rx.Component:
    return _card(
        "Sign in",
        "Use the account an administrator gave you.",
        plain_form(
            rx.vstack(
                _field("Username", "username", auto_complete="username", auto_focus=True),
                _field("Password", "password", "password", auto_complete="current-password"),
                rx.el.input(type="hidden", name="next", value=SignInState.next_path),
                _submit("Sign in"),
                spacing="3",
            ),
            action="/api/v1/auth/login",
            method="post",
        ),
    )


def setup_page() -> rx.Component:
    return _card(
        "Create the administrator",
        "This is a new Lanner: its first account manages users and every namespace. Until it exists, nobody "
        "can sign in.",
        plain_form(
            rx.vstack(
                _field("Username", "username", auto_complete="username", auto_focus=True),
                _field("Password (10 characters or more)", "password", "password", auto_complete="new-password"),
                _field("Password again", "confirm", "password", auto_complete="new-password"),
                _submit("Create and sign in"),
                spacing="3",
            ),
            action="/api/v1/auth/setup",
            method="post",
        ),
    )
