"""A namespace's own resources: the worker group its task runs go to, and its limits of running executions and of
task runs in flight (queued for a worker or running).

The worker group is inherited: a namespace without one takes the nearest namespace above it that has one. The
limits are the namespace's own (its sub-namespaces have theirs). Enforced by the executor: an execution over the
limit waits QUEUED (``engine.core.progress``), a task run over it waits CREATED (``engine/runtime/fair_share.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from engine.core.namespaces import lineage
from engine.flows.spec import WORKER_GROUP_PATTERN
from engine.identity import audit
from engine.store import namespace_settings as store

#: The settings a namespace may set, by their API name; None clears one.
FIELDS = ("worker_group", "max_running_executions", "max_running_task_runs")


@dataclass(frozen=True)
class Resources:
    namespace: str
    worker_group: str | None = None  # set on the namespace itself
    inherited_worker_group: str | None = None  # the nearest namespace above's, when it sets none
    max_running_executions: int | None = None
    max_running_task_runs: int | None = None
    updated_by: str | None = None


def check(values: dict[str, Any]) -> None:
    """``ValueError`` naming the setting that is wrong."""
    for name, value in values.items():
        if name not in FIELDS:
            raise ValueError(f"unknown setting '{name}' (known: {', '.join(FIELDS)})")
        if value is None:
            continue
        if name == "worker_group":
            if not isinstance(value, str) or not re.match(WORKER_GROUP_PATTERN, value) or len(value) > 64:
                raise ValueError(f"worker_group: '{value}' is not a group name (lowercase letters, digits, - and _)")
        elif isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name}: a whole number of at least 1, or null for no limit (not {value!r})")


def resources_of(session: Session, namespace: str) -> Resources:
    row = store.settings_row(session, namespace)
    inherited = None if row and row.worker_group else worker_group_of(session, namespace)
    if row is None:
        return Resources(namespace=namespace, inherited_worker_group=inherited)
    return Resources(
        namespace=namespace,
        worker_group=row.worker_group,
        inherited_worker_group=inherited,
        max_running_executions=row.max_running_executions,
        max_running_task_runs=row.max_running_task_runs,
        updated_by=row.updated_by,
    )


def set_resources(session: Session, namespace: str, values: dict[str, Any], actor: str | None = None) -> None:
    """Change the given settings (the others are kept); ``ValueError`` for a wrong one."""
    check(values)
    store.save_settings(session, namespace, values, actor)
    audit.record(session, actor or audit.SYSTEM, audit.AuditAction.CHANGED, namespace, "resources", namespace, **values)


def worker_group_of(session: Session, namespace: str) -> str | None:
    """The worker group of the namespace, or of the nearest namespace above it that sets one."""
    return store.inherited_worker_group(session, lineage(namespace))


def limits_of(session: Session, namespace: str) -> tuple[int | None, int | None]:
    """(max running executions, max running task runs) set on the namespace, None where it sets none."""
    return store.own_limits(session, namespace)


def worker_group_for(flow: Any, task: Any, namespace_group: Callable[[], str | None]) -> str | None:
    """The worker group a task's runs go to: the task's own, else its flow's, else its namespace's (inherited:
    ``namespace_group`` is asked only when needed)."""
    return task.worker_group or flow.worker_group or namespace_group()
