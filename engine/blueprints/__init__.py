"""Blueprints: ready flows to start from, shipped with Lanner (flows/<id>.yml and their cards in catalog.yml).

This package only reads the files it ships; ``engine/services/blueprints.py`` lists them for the API, the CLI
and the studio, and turns one into a flow of the caller's namespace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

CATEGORIES = ("Getting started", "Databases", "Data", "Notifications", "HTTP", "Files", "Messaging")
#: Keys of a flow or task whose lists hold no tasks (their items may have a ``type`` too).
_NOT_TASKS = {"inputs", "outputs", "triggers", "taskDefaults", "labels", "variables", "conditions"}


@dataclass(frozen=True)
class Blueprint:
    id: str
    title: str
    summary: str
    category: str
    source: str
    tags: tuple[str, ...] = ()
    secrets: tuple[str, ...] = ()
    task_types: tuple[str, ...] = field(default=())


def _task_types(data: Any, found: list[str]) -> list[str]:
    """Every task type the text uses, in order, once each: read from the YAML, not the models, so a blueprint
    still shows its chips on an installation that lacks one of its types."""
    if isinstance(data, dict):
        if isinstance(data.get("type"), str) and "id" in data and data["type"] not in found:
            found.append(data["type"])
        for key, value in data.items():
            if key not in _NOT_TASKS:
                _task_types(value, found)
    elif isinstance(data, list):
        for item in data:
            _task_types(item, found)
    return found


@cache
def catalog() -> tuple[Blueprint, ...]:
    """The shipped blueprints, in the catalog's order (read once per process)."""
    folder = resources.files(__package__)
    cards = yaml.safe_load(folder.joinpath("catalog.yml").read_text("utf-8"))
    found = []
    for blueprint_id, card in cards.items():
        source = folder.joinpath("flows", f"{blueprint_id}.yml").read_text("utf-8")
        if card["category"] not in CATEGORIES:
            raise ValueError(f"blueprint {blueprint_id}: unknown category {card['category']!r}")
        found.append(
            Blueprint(
                id=blueprint_id,
                title=card["title"],
                summary=card["summary"],
                category=card["category"],
                source=source,
                tags=tuple(card.get("tags") or ()),
                secrets=tuple(card.get("secrets") or ()),
                task_types=tuple(_task_types(yaml.safe_load(source), [])),
            )
        )
    return tuple(found)
