"""What the namespaces page shows: its components (the state they read is in state.py)."""

import reflex as rx

from studio.components.code_view import code_view
from studio.components.layout import danger_button, data_table, error_and_notice, page, sidebar
from studio.pages.namespaces.state import Member, NamespaceState, Setting
from studio.services import members as membership


def _origin(row: rx.Var[Setting] | rx.Var[Member]) -> rx.Component:
    return rx.cond(
        row.own,
        rx.text("this namespace", size="1", color_scheme="gray"),
        rx.text("from " + row.origin, size="1", color_scheme="gray"),
    )


def _setting_row(row: rx.Var[Setting], reads_as, value, on_delete, may_delete, class_name: str) -> rx.Component:
    """One variable or secret: how flows read it, its value (or a mask), where it is set, Delete if set here."""
    return rx.table.row(
        rx.table.cell(rx.code(reads_as)),
        rx.table.cell(value),
        rx.table.cell(_origin(row)),
        rx.table.cell(
            rx.cond(
                (row.own) & may_delete,
                danger_button("Delete", on_delete),
            )
        ),
        class_name=class_name,
        custom_attrs={"data-name": row.name},
    )


def _variable_row(row: rx.Var[Setting]) -> rx.Component:
    delete = NamespaceState.delete_variable(row.name)
    may = NamespaceState.can_manage_variables
    return _setting_row(row, "vars." + row.name, row.value, delete, may, "variable-row")


def _secret_row(row: rx.Var[Setting]) -> rx.Component:
    masked = rx.text("••••••", color_scheme="gray")
    delete = NamespaceState.delete_secret(row.name)
    may = NamespaceState.can_manage_secrets
    return _setting_row(row, "secret('" + row.name + "')", masked, delete, may, "secret-row")


def _member_row(row: rx.Var[Member]) -> rx.Component:
    """A member: the role (a selector for those who manage members, when granted here), where it is granted."""
    manageable = (row.own) & NamespaceState.can_manage_members
    return rx.table.row(
        rx.table.cell(row.username),
        rx.table.cell(
            rx.cond(
                manageable,
                rx.select(
                    membership.ROLES,
                    value=row.role,
                    on_change=lambda role: NamespaceState.change_role(row.username, role),
                    size="1",
                    name="member-role",
                    custom_attrs={"aria-label": "Role of " + row.username},
                ),
                rx.badge(row.role, class_name="member-role"),
            )
        ),
        rx.table.cell(_origin(row)),
        rx.table.cell(
            rx.cond(
                manageable,
                danger_button("Remove", NamespaceState.remove_member(row.username), class_name="remove-member"),
            )
        ),
        class_name="member-row",
        custom_attrs={"data-name": row.username, "data-origin": row.origin},
    )


def _field(name: str, placeholder: str, label: str, **props) -> rx.Component:
    return rx.input(
        placeholder=placeholder,
        aria_label=label,
        value=getattr(NamespaceState, name),
        on_change=lambda v: NamespaceState.set_field(name, v),
        name=name,
        **props,
    )


def _empty_note(rows: rx.Var, text: str) -> rx.Component:
    """Under an empty table: what would be listed and how to add one (the controls follow it)."""
    return rx.cond(rows.length() == 0, rx.text(text, size="2", color="var(--gray-11)", class_name="empty-note"))


def _section(title: str, note: str, table: rx.Component, may_change: rx.Var, controls: rx.Component) -> rx.Component:
    """A heading, what it holds, its table, and the controls to add to it for those who may."""
    return rx.fragment(
        rx.heading(title, size="4", margin_top="1em"),
        *([rx.text(note, size="2", color_scheme="gray")] if note else []),
        table,
        rx.cond(may_change, controls),
    )


def _members() -> rx.Component:
    return _section(
        "Members",
        "A role here also holds in the namespaces below; roles granted on a parent apply here too.",
        data_table(["User", "Role", "Granted on", ""], NamespaceState.members, _member_row),
        NamespaceState.can_manage_members,
        rx.hstack(
            _field("invite_username", "username", "Username to invite"),
            rx.select(
                membership.ROLES,
                value=NamespaceState.invite_role,
                on_change=lambda v: NamespaceState.set_field("invite_role", v),
                name="invite_role",
                custom_attrs={"aria-label": "Role to give"},
            ),
            rx.button("Invite", on_click=NamespaceState.invite, id="invite-member"),
            id="invite-controls",
        ),
    )


def _variables() -> rx.Component:
    return _section(
        "Variables",
        "",
        rx.fragment(
            data_table(["Name", "Value", "Set on", ""], NamespaceState.variables, _variable_row),
            _empty_note(NamespaceState.variables, "No variables yet. Add one below; flows read it as {{ vars.NAME }}."),
        ),
        NamespaceState.can_manage_variables,
        rx.hstack(
            _field("new_variable", "name", "Variable name"),
            _field("new_value", "value (text, 42, true...)", "Variable value"),
            rx.button("Save variable", on_click=NamespaceState.save_variable, id="save-variable"),
        ),
    )


def _secrets() -> rx.Component:
    return _section(
        "Secrets",
        "Stored encrypted; a value is never shown again, and is masked as **** in logs and outputs.",
        rx.fragment(
            data_table(["Name", "Value", "Set on", ""], NamespaceState.secrets, _secret_row),
            _empty_note(
                NamespaceState.secrets, "No secrets yet. Add one below; flows read it as {{ secret('NAME') }}."
            ),
        ),
        NamespaceState.can_manage_secrets,
        rx.hstack(
            _field("new_secret", "NAME", "Secret name"),
            _field("secret_value", "value", "Secret value", type="password"),
            rx.button("Save secret", on_click=NamespaceState.save_secret, id="save-secret"),
        ),
    )


def _task_defaults() -> rx.Component:
    """The namespace's task defaults as YAML: a box to edit for those who manage variables, read-only otherwise."""
    return rx.fragment(
        rx.heading("Task defaults", size="4", margin_top="1em"),
        rx.text(
            "Property values for a task type (postgresql.query) or a family (postgresql.), e.g. a connection, "
            "given to every task of this namespace and below that does not set them; a flow's own taskDefaults win.",
            size="2",
            color_scheme="gray",
        ),
        rx.text_area(
            value=NamespaceState.task_defaults,
            on_change=lambda v: NamespaceState.set_field("task_defaults", v),
            placeholder="- type: postgresql.\n  values:\n    url: \"{{ secret('SHOP_DSN') }}\"",
            read_only=~NamespaceState.can_manage_variables,
            aria_label="Task defaults (YAML)",
            rows="8",
            font_family="monospace",
            width="100%",
            id="task-defaults",
        ),
        rx.cond(
            NamespaceState.defaults_problems != "",
            rx.text(
                NamespaceState.defaults_problems,
                color_scheme="red",
                size="2",
                white_space="pre-wrap",
                font_family="monospace",
                id="task-defaults-problems",
            ),
        ),
        rx.cond(
            NamespaceState.inherited_defaults != "",
            code_view(NamespaceState.inherited_defaults, id="inherited-task-defaults", language="yaml"),
        ),
        rx.cond(
            NamespaceState.can_manage_variables,
            rx.button("Save task defaults", on_click=NamespaceState.save_task_defaults, id="save-task-defaults"),
        ),
    )


def namespace_page() -> rx.Component:
    return page(
        sidebar(NamespaceState.namespaces, NamespaceState.namespace, NamespaceState.choose),
        rx.heading("Namespace " + NamespaceState.namespace, size="6"),
        rx.text(
            "Flows of this namespace and of the namespaces below it read these; a nearer namespace wins, "
            "and a flow's own variables win over all.",
            size="2",
            color_scheme="gray",
        ),
        *error_and_notice(NamespaceState.error, NamespaceState.notice, "namespace"),
        _members(),
        _variables(),
        _secrets(),
        _task_defaults(),
    )
