"""The task documentation panel: every task type documented from its schema (with examples that are valid flow
YAML, and its outputs), and the editor's "Docs" section showing it for the selected task."""

from __future__ import annotations

import re

import pytest
import yaml

from engine.flows.loader import load_flow
from engine.tasks import registry
from studio.services.task_docs import task_doc, task_type_of, type_text
from tests.support.studio import open_flow

# An example stands alone, so what it reads from the flow around it (an input, an upstream task) is not there.
_OUTSIDE_REFERENCE = re.compile(r"expression reads (inputs|outputs)\.\w+, but (the flow declares no|no task has)")


@pytest.mark.parametrize("type_name", registry.names())
def test_every_task_type_has_an_example_that_is_valid_flow_yaml(type_name):
    doc = task_doc(type_name)
    assert doc["examples"], f"task type {type_name} has no example (add one to its model's examples)"
    for example in doc["examples"]:
        task = yaml.safe_load(example)[0]
        assert task["type"] == type_name
        flow = yaml.safe_dump({"id": "docs", "namespace": "docs.examples", "tasks": [task]}, sort_keys=False)
        problems = [p for p in load_flow(flow).problems if not _OUTSIDE_REFERENCE.search(p.message)]
        assert not problems, f"an example of {type_name} does not validate:\n{example}\n{problems}"


@pytest.mark.parametrize("type_name", registry.names())
def test_every_property_is_documented_with_its_type(type_name):
    doc = task_doc(type_name)
    assert doc["title"] and doc["summary"]
    names = {p["name"] for p in doc["properties"]}
    assert names == set(registry.json_schema(type_name)["properties"]) - {"type"}
    for prop in doc["properties"]:
        assert prop["type"], f"{type_name}.{prop['name']} has no type"
        assert prop["description"], f"{type_name}.{prop['name']} has no description (a docstring under the field)"


def test_outputs_declared_are_what_the_task_returns():
    http = {o["name"] for o in task_doc("http.request")["outputs"]}
    assert http == {"code", "headers", "body", "json"}
    assert {o["name"] for o in task_doc("sql.query")["outputs"]} >= {"rows", "row", "size", "uri", "rowcount"}
    assert {o["name"] for o in task_doc("python")["outputs"]} == {"exitCode", "vars", "outputFiles"}
    assert task_doc("log")["outputs"] == []


def test_a_tasks_own_properties_come_first_with_defaults():
    props = task_doc("http.request")["properties"]
    assert props[0]["name"] == "uri" and props[0]["required"]
    method = next(p for p in props if p["name"] == "method")
    assert method["default"] == "GET" and method["type"].startswith("one of GET, POST")
    assert next(p["name"] for p in props if p["common"]) == "id"


def test_types_read_as_words():
    assert type_text({"anyOf": [{"type": "string"}, {"type": "null"}]}, {}) == "text"
    assert type_text({"type": "array", "items": {"type": "integer"}}, {}) == "list of integer"
    assert type_text({"format": "duration", "type": "string"}, {}) == "duration"
    assert type_text({"type": "object", "additionalProperties": {"type": "string"}}, {}) == "map of text"


def test_an_unknown_type_is_a_clear_refusal():
    with pytest.raises(LookupError, match=r"did you mean 'http\.request'"):
        task_doc("http.requets")


def test_the_type_of_a_nested_task_is_found():
    data = yaml.safe_load(FLOW)
    assert task_type_of(data, "extract") == "sql.query"
    assert task_type_of(data, "inner") == "log"
    assert task_type_of(data, "nope") == ""


FLOW = """\
id: docs_demo
namespace: studio.tests
tasks:
  - id: extract
    type: sql.query
    url: sqlite:////tmp/x.db
    sql: SELECT 1
  - id: group
    type: sequential
    tasks:
      - id: inner
        type: log
        message: "{{ outputs.extract.size }}"
"""


@pytest.mark.slow
def test_the_docs_section_shows_the_selected_tasks_documentation(studio, page):
    open_flow(studio, page, FLOW, "docs_demo")
    page.locator(".react-flow__node[data-id='extract']").click()
    docs = page.locator("#task-docs")
    docs.wait_for(timeout=10_000)
    page.locator("#task-docs-toggle").click()
    body = page.locator("#task-docs-body")
    body.wait_for(timeout=10_000)
    assert "SQL query" in body.inner_text()
    assert body.locator(".doc-property[data-name='fetch']").inner_text().count("ALL") >= 1
    assert body.locator(".doc-output[data-name='rows']").count() == 1
    example = body.locator(".doc-example").first
    assert "type: sql.query" in example.inner_text()
    example.scroll_into_view_if_needed()
    assert example.bounding_box()["height"] > 60  # the whole example shows, not a squashed line
    # Another task selected: its own documentation.
    page.locator(".react-flow__node[data-id='inner']").click()
    page.wait_for_function(
        "document.querySelector('#task-docs-body') && document.querySelector('#task-docs-body').innerText"
        ".includes('Log a message')",
        timeout=10_000,
    )
    assert page.locator("#task-docs-body .doc-output").count() == 0
