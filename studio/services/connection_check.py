"""The editor form's "Test connection": which tasks get the button, and the test itself (engine/services)."""

from __future__ import annotations

from typing import Any

from engine.flows.task_defaults import apply_flow_defaults
from engine.flows.tree import walk
from engine.flows.yaml_source import parse_yaml
from engine.identity.policy import Principal
from engine.services import connection_test
from studio.services import database
from studio.services.editing import raw_task


def is_database_task(text: str, task_id: str) -> bool:
    """Whether the task's type is a database task (its model a ``Database``): the form then offers the test."""
    raw = raw_task(text, task_id) if task_id else None
    return raw is not None and connection_test.database_model(raw.get("type")) is not None


def test_task_connection(principal: Principal, text: str, task_id: str) -> tuple[bool, str]:
    """Test the task's connection as written, with its flow's taskDefaults, its namespace's defaults and secrets."""
    data = parse_yaml(text).data
    if not isinstance(data, dict):
        return False, "the flow's YAML does not parse"
    applied, _ = apply_flow_defaults(data)
    task: dict[str, Any] | None = next(
        (p.task for p in walk(applied) if isinstance(p.task, dict) and p.task.get("id") == task_id), None
    )
    if task is None:
        return False, f"no task {task_id} in the flow"
    namespace = data.get("namespace") if isinstance(data.get("namespace"), str) else ""
    result = connection_test.test_connection(database(), principal, namespace, task)
    return result.ok, result.message
