"""Every task type explains itself: the studio's palette, form and help are built from these schemas, so a type
without a title, a summary or a property description shows a blank; connectors also need a ready example."""

from __future__ import annotations

import pytest

from engine.tasks import registry
from engine.tasks.base import Group

NEEDS_EXAMPLES = {Group.DATABASES, Group.DATA, Group.NOTIFICATIONS, Group.HTTP, Group.MESSAGING}


@pytest.mark.parametrize("name", registry.names())
def test_type_has_a_title_a_summary_and_a_group(name: str):
    model = registry.get(name)
    assert model.title.strip(), f"{name}: no title"
    assert model.summary.strip(), f"{name}: no summary"
    assert isinstance(model.group, Group), f"{name}: no palette group"
    assert registry.json_schema(name)["x-lanner"]["group"] == model.group.value


@pytest.mark.parametrize("name", registry.names())
def test_every_property_has_a_description(name: str):
    schema = registry.json_schema(name)
    missing = [key for key, prop in schema["properties"].items() if not prop.get("description")]
    # Models nested in the type (a connection block, a retry...): their properties are form fields too. A task
    # type nested in a task list is checked on its own; its ``type`` is described at its top level.
    for def_name, definition in schema.get("$defs", {}).items():
        for key, prop in definition.get("properties", {}).items():
            if key != "type" and not prop.get("description"):
                missing.append(f"{def_name}.{key}")
    assert not missing, f"{name}: properties without a description (write a docstring under each): {missing}"


@pytest.mark.parametrize("name", [n for n in registry.names() if registry.get(n).group in NEEDS_EXAMPLES])
def test_connectors_have_examples_that_validate(name: str):
    model = registry.get(name)
    assert model.examples, f"{name}: give at least one example (the examples class variable)"
    for index, example in enumerate(registry.json_schema(name)["examples"]):
        try:
            model.model_validate(example)
        except ValueError as exc:
            pytest.fail(f"{name}: example {index} does not validate: {exc}")
