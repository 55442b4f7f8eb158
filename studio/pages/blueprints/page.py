"""What the blueprints page shows: category filter, search, cards, the open blueprint's YAML, the use dialog."""

import reflex as rx

from studio.components.layout import callout_if, page, sidebar
from studio.pages.blueprints.state import CATEGORIES, BlueprintCard, BlueprintsState


def _card(card: rx.Var[BlueprintCard]) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.heading(card.title, size="3"), rx.spacer(), rx.badge(card.category, variant="soft")),
            rx.text(card.summary, size="2"),
            rx.flex(
                rx.foreach(card.task_types, lambda name: rx.badge(name, color_scheme="gray", class_name="task-chip")),
                wrap="wrap",
                gap="1",
            ),
            rx.cond(card.secrets != "", rx.text(card.secrets, size="1", color_scheme="gray")),
            rx.hstack(
                rx.button("Preview", variant="soft", size="1", on_click=BlueprintsState.open_blueprint(card.id)),
                rx.button(
                    "Use this blueprint",
                    size="1",
                    on_click=BlueprintsState.start_use(card.id),
                    class_name="use-blueprint",
                ),
            ),
            spacing="2",
            height="100%",
        ),
        id="blueprint-" + card.id,
        class_name="blueprint-card",
    )


def _use_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Use " + BlueprintsState.opened_title),
            rx.dialog.description("The new flow is saved as revision 1 and opens in the editor.", size="2"),
            rx.vstack(
                rx.text("Namespace", size="2"),
                rx.select(
                    BlueprintsState.namespaces,
                    value=BlueprintsState.namespace,
                    on_change=BlueprintsState.set_namespace,
                    width="100%",
                    id="use-namespace",
                    custom_attrs={"aria-label": "Namespace"},
                ),
                rx.text("Flow id", size="2"),
                rx.input(
                    value=BlueprintsState.flow_id,
                    on_change=BlueprintsState.set_flow_id,
                    id="use-flow-id",
                    aria_label="Flow id",
                ),
                callout_if(BlueprintsState.error, "use-error", color_scheme="red", white_space="pre-wrap"),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft")),
                    rx.button("Create flow", on_click=BlueprintsState.use, id="use-create"),
                    justify="end",
                    width="100%",
                ),
                width="100%",
            ),
            max_width="480px",
        ),
        open=BlueprintsState.dialog_open,
        on_open_change=BlueprintsState.set_dialog_open,
    )


def blueprints_page() -> rx.Component:
    return page(
        sidebar(BlueprintsState.namespaces, BlueprintsState.namespace, BlueprintsState.set_namespace),
        rx.heading("Blueprints", size="6"),
        rx.text("Ready flows to start from: pick one, choose where it goes, and edit it.", color_scheme="gray"),
        rx.hstack(
            rx.select(
                CATEGORIES,
                value=BlueprintsState.category,
                on_change=BlueprintsState.set_category,
                id="category",
                custom_attrs={"aria-label": "Category"},
            ),
            rx.input(
                placeholder="Search blueprints",
                value=BlueprintsState.search,
                on_change=BlueprintsState.set_search.debounce(250),
                width="320px",
                id="blueprint-search",
                aria_label="Search blueprints",
            ),
            margin_y="1em",
        ),
        rx.grid(rx.foreach(BlueprintsState.cards, _card), columns="3", spacing="3", width="100%"),
        rx.cond(
            BlueprintsState.opened != "",
            rx.vstack(
                rx.heading(BlueprintsState.opened_title, size="4", margin_top="1.5em"),
                rx.code_block(BlueprintsState.source, language="yaml", width="100%", id="blueprint-source"),
                width="100%",
            ),
        ),
        _use_dialog(),
    )
