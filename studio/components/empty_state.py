"""Empty states that give a business user something to do, instead of telling them to use a command line.

``empty_state`` is the one frame (icon, title, a sentence, actions). ``flows_empty_state`` is the Flows page's: a new
flow, an import of YAML files, and the blueprint gallery (built in, so listed when the page is built). The other
list pages use ``empty_state`` with their own words and actions."""

from typing import Any

import reflex as rx

from studio.services.blueprints import gallery

GALLERY_SIZE = 6  # blueprints shown in the Flows page's empty state; the rest are one click away


def empty_state(
    icon: str, title: Any, text: Any, *actions: rx.Component, footer: rx.Component | None = None, **props: Any
) -> rx.Component:
    """A card saying why the list is empty and what to do: ``actions`` in a row, ``footer`` below them."""
    parts = [
        rx.hstack(rx.icon(icon, size=22, color="var(--accent-9)"), rx.heading(title, size="4"), align="center"),
        rx.text(text, size="2", color="var(--gray-11)"),
    ]
    if actions:
        parts.append(rx.hstack(*actions, spacing="2", wrap="wrap", align="center"))
    if footer is not None:
        parts.append(footer)
    return rx.card(rx.vstack(*parts, spacing="3", width="100%"), width="100%", class_name="empty-state", **props)


def _blueprint(blueprint: Any) -> rx.Component:
    return rx.link(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.text(blueprint.title, weight="bold", size="2"),
                    rx.spacer(),
                    rx.badge(blueprint.category, variant="soft", size="1"),
                ),
                rx.text(blueprint.summary, size="1", color="var(--gray-11)"),
                spacing="1",
            ),
            width="100%",
            height="100%",
        ),
        href=f"/blueprints?use={blueprint.id}",
        class_name="empty-blueprint",
        custom_attrs={"data-blueprint": blueprint.id},
        underline="none",
        color="inherit",
    )


def _gallery() -> rx.Component:
    return rx.vstack(
        rx.text("Or start from a blueprint", size="2", weight="bold"),
        rx.grid(
            *[_blueprint(b) for b in gallery()[:GALLERY_SIZE]],
            columns=rx.breakpoints(initial="1", sm="2", lg="3"),
            spacing="2",
            width="100%",
        ),
        rx.link("See every blueprint →", href="/blueprints", size="2", id="all-blueprints"),
        width="100%",
        spacing="2",
    )


def flows_empty_state(state: Any, create: rx.Component) -> rx.Component:
    """What the Flows page shows with no flow to list. ``state`` is the page's (FlowsState): its search and whether
    the person may create flows; ``create`` is the page's own New flow and Import controls."""
    return rx.cond(
        state.search != "",
        empty_state(
            "search-x",
            "No flow matches your search",
            "Try other words, or clear the search to see every flow.",
            rx.button("Clear the search", variant="soft", on_click=state.set_search(""), id="empty-clear-search"),
            id="flows-empty",
        ),
        empty_state(
            "workflow",
            "No flows yet",
            rx.cond(
                state.can_create,
                "A flow is a list of tasks that runs on demand, on a schedule or when something happens. "
                "Create one, import a YAML file you have, or start from a ready-made blueprint.",
                "There is no flow you can see yet. An editor of your namespace can create one; meanwhile, browse the "
                "blueprints to see what flows can do.",
            ),
            rx.cond(state.can_create, create),
            footer=_gallery(),
            id="flows-empty",
        ),
    )
