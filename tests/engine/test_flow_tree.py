"""The one task-tree walker (engine/flows/tree.py) on loaded flows and on raw YAML data."""

from __future__ import annotations

import pytest

from engine.flows.loader import load_flow_or_raise
from engine.flows.tree import find_task, handler_task_ids, task_ids, task_lists, walk
from engine.flows.yaml_source import parse_yaml
from engine.runtime import worker

SOURCE = """\
id: tree
namespace: acme
tasks:
  - id: first
    type: log
    message: a
  - id: fan
    type: parallel
    tasks:
      - {id: left, type: log, message: l}
      - id: pick
        type: switch
        value: "x"
        cases:
          x:
            - {id: case_x, type: log, message: x}
        defaults:
          - {id: fallback, type: log, message: d}
    errors:
      - {id: fan_failed, type: log, message: f}
  - id: check
    type: if
    condition: "{{ true }}"
    then:
      - {id: when_true, type: log, message: y}
    else:
      - {id: when_false, type: log, message: n}
    finally:
      - id: tidy
        type: sequential
        tasks:
          - {id: tidy_inner, type: log, message: t}
errors:
  - {id: alert, type: log, message: e}
finally:
  - {id: bye, type: log, message: b}
"""
WRITTEN_ORDER = [
    "first", "fan", "left", "pick", "case_x", "fallback", "fan_failed",
    "check", "when_true", "when_false", "tidy", "tidy_inner", "alert", "bye",
]  # fmt: skip


@pytest.fixture(scope="module")
def flow():
    return load_flow_or_raise(SOURCE)


def test_walk_visits_every_task_in_written_order(flow):
    assert task_ids(flow) == WRITTEN_ORDER
    assert task_ids(flow.tasks[:1]) == ["first"]


def test_walk_tells_where_each_task_is(flow):
    placed = {p.task.id: p for p in walk(flow)}
    assert placed["case_x"].within.path == ("tasks", 1, "tasks", 1, "cases", "x")
    assert placed["case_x"].within.relation == "branch" and placed["case_x"].within.owner.id == "pick"
    assert placed["left"].within.parallel and placed["left"].index == 0
    assert placed["fan_failed"].within.relation == "error"
    assert placed["alert"].within.path == ("errors",) and placed["alert"].within.owner is None


def test_task_lists_go_outermost_first_on_raw_data_too(flow):
    data = parse_yaml(SOURCE).data
    paths = [found.path for found in task_lists(data)]
    assert paths[:3] == [("tasks",), ("errors",), ("finally",)]
    assert paths == [found.path for found in task_lists(flow)]
    assert ("tasks", 1, "tasks", 1, "cases", "x") in paths


def test_raw_items_that_are_not_tasks_are_passed_over():
    data = {"tasks": ["not a task", {"id": "p", "type": "parallel", "tasks": [{"id": "a", "type": "log"}]}]}
    assert [found.path for found in task_lists(data)] == [("tasks",), ("tasks", 1, "tasks")]


def test_handler_tasks_are_those_of_every_errors_and_finally_list(flow):
    assert handler_task_ids(flow) == {"fan_failed", "tidy", "tidy_inner", "alert", "bye"}


def test_find_task_reaches_any_depth_and_names_what_is_missing(flow):
    assert find_task(flow, "tidy_inner").id == "tidy_inner"
    assert worker.find_task is find_task  # the worker's name for it is the same function
    with pytest.raises(LookupError, match="task 'nope' is not in flow acme/tree"):
        find_task(flow, "nope")
