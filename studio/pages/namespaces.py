"""Namespace settings: the variables and secrets its flows (and those of the namespaces below) read."""

import reflex as rx

from studio import services
from studio.components.layout import page, sidebar
from studio.services import namespace_settings as settings
from studio.session import SessionState


class NamespaceState(SessionState):
    namespaces: list[str] = []
    namespace: str = ""
    variables: list[dict[str, str]] = []
    secrets: list[dict[str, str]] = []
    new_variable: str = ""
    new_value: str = ""
    new_secret: str = ""
    secret_value: str = ""
    error: str = ""
    notice: str = ""

    @rx.event
    def load(self) -> None:
        self.namespaces = services.namespaces()
        wanted = self.router.page.params.get("namespace", "")
        self.namespace = wanted or self.namespace or (self.namespaces[0] if self.namespaces else "")
        self.error, self.notice = "", ""
        self._refresh()

    def _refresh(self) -> None:
        found = settings.settings(self.namespace) if self.namespace else {"variables": [], "secrets": []}
        self.variables, self.secrets = found["variables"], found["secrets"]

    def _do(self, action, done: str) -> None:
        try:
            action()
        except ValueError as exc:
            self.error, self.notice = str(exc), ""
            return
        self.error, self.notice = "", done
        self._refresh()

    @rx.event
    def choose(self, namespace: str) -> None:
        self.namespace = namespace
        self.error = self.notice = ""
        self._refresh()

    @rx.event
    def set_field(self, name: str, value: str) -> None:
        setattr(self, name, value)

    @rx.event
    def save_variable(self) -> None:
        name = self.new_variable.strip()
        self._do(lambda: settings.set_variable(self.namespace, name, self.new_value), f"variable {name} saved")
        if not self.error:
            self.new_variable = self.new_value = ""

    @rx.event
    def delete_variable(self, name: str) -> None:
        self._do(lambda: settings.delete_variable(self.namespace, name), f"variable {name} deleted")

    @rx.event
    def save_secret(self) -> None:
        name = self.new_secret.strip()
        self._do(lambda: settings.set_secret(self.namespace, name, self.secret_value), f"secret {name} saved")
        self.secret_value = ""  # never kept, never shown again
        if not self.error:
            self.new_secret = ""

    @rx.event
    def delete_secret(self, name: str) -> None:
        self._do(lambda: settings.delete_secret(self.namespace, name), f"secret {name} deleted")


def _origin(row: dict) -> rx.Component:
    return rx.cond(
        row["own"] == "True",
        rx.text("this namespace", size="1", color_scheme="gray"),
        rx.text("from " + row["origin"], size="1", color_scheme="gray"),
    )


def _setting_row(row: dict, reads_as, value, on_delete, class_name: str) -> rx.Component:
    """One variable or secret: how flows read it, its value (or a mask), where it is set, Delete if set here."""
    return rx.table.row(
        rx.table.cell(rx.code(reads_as)),
        rx.table.cell(value),
        rx.table.cell(_origin(row)),
        rx.table.cell(
            rx.cond(
                row["own"] == "True",
                rx.button("Delete", size="1", variant="soft", color_scheme="red", on_click=on_delete),
            )
        ),
        class_name=class_name,
        custom_attrs={"data-name": row["name"]},
    )


def _variable_row(row: dict) -> rx.Component:
    delete = NamespaceState.delete_variable(row["name"])
    return _setting_row(row, "vars." + row["name"], row["value"], delete, "variable-row")


def _secret_row(row: dict) -> rx.Component:
    masked = rx.text("••••••", color_scheme="gray")
    delete = NamespaceState.delete_secret(row["name"])
    return _setting_row(row, "secret('" + row["name"] + "')", masked, delete, "secret-row")


def _table(headers: list[str], rows, render) -> rx.Component:
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
        rx.table.body(rx.foreach(rows, render)),
        width="100%",
    )


def namespace_page() -> rx.Component:
    def field(name: str, placeholder: str, **props) -> rx.Component:
        return rx.input(
            placeholder=placeholder,
            value=getattr(NamespaceState, name),
            on_change=lambda v: NamespaceState.set_field(name, v),
            name=name,
            **props,
        )

    return page(
        sidebar(NamespaceState.namespaces, NamespaceState.namespace, NamespaceState.choose),
        rx.heading("Namespace " + NamespaceState.namespace, size="6"),
        rx.text(
            "Flows of this namespace and of the namespaces below it read these; a nearer namespace wins, "
            "and a flow's own variables win over all.",
            size="2",
            color_scheme="gray",
        ),
        rx.cond(NamespaceState.error != "", rx.callout(NamespaceState.error, color_scheme="red", id="namespace-error")),
        rx.cond(NamespaceState.notice != "", rx.callout(NamespaceState.notice, id="namespace-notice")),
        rx.heading("Variables", size="4", margin_top="1em"),
        _table(["Name", "Value", "Set on", ""], NamespaceState.variables, _variable_row),
        rx.hstack(
            field("new_variable", "name"),
            field("new_value", "value (text, 42, true...)"),
            rx.button("Save variable", on_click=NamespaceState.save_variable, id="save-variable"),
        ),
        rx.heading("Secrets", size="4", margin_top="1em"),
        rx.text(
            "Stored encrypted; a value is never shown again, and is masked as **** in logs and outputs.",
            size="2",
            color_scheme="gray",
        ),
        _table(["Name", "Value", "Set on", ""], NamespaceState.secrets, _secret_row),
        rx.hstack(
            field("new_secret", "NAME"),
            field("secret_value", "value", type="password"),
            rx.button("Save secret", on_click=NamespaceState.save_secret, id="save-secret"),
        ),
    )
