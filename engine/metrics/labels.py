"""Bounded label values: Prometheus keeps one series per distinct set of labels, so a process exports at most
LANNER_METRICS_MAX_NAMESPACES namespaces, LANNER_METRICS_MAX_FLOWS flows, LANNER_METRICS_MAX_TASKS tasks and
LANNER_METRICS_MAX_TASK_METRICS task metric names; the values seen after the cap is reached are exported as
``other``. Never an id of an execution or a task run: those are unbounded.

The caps are per process (each counts what it has seen since it started), so a scrape of several processes may
hold a few more values than one cap; it stays bounded all the same.
"""

from __future__ import annotations

import threading

OTHER = "other"


class BoundedValues:
    """Label values in the order first seen, up to ``cap``; any later one is ``other``."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._seen: set[object] = set()
        self._lock = threading.Lock()

    def admit(self, value: object) -> bool:
        """Whether ``value`` keeps its own label value (seen before, or room left)."""
        if value in self._seen:
            return True
        with self._lock:
            if len(self._seen) >= self.cap:
                return value in self._seen
            self._seen.add(value)
            return True


class FlowLabels:
    """Namespace, flow and task label values under their caps."""

    def __init__(self, namespaces: int, flows: int, tasks: int, task_metrics: int) -> None:
        self.namespaces, self.flows = BoundedValues(namespaces), BoundedValues(flows)
        self.tasks, self.task_metrics = BoundedValues(tasks), BoundedValues(task_metrics)

    def flow(self, namespace: str, flow: str) -> tuple[str, str]:
        """(namespace, flow), or ``other`` for what is past a cap (a flow of an ``other`` namespace is ``other``)."""
        if not self.namespaces.admit(namespace):
            return OTHER, OTHER
        if not self.flows.admit((namespace, flow)):
            return namespace, OTHER
        return namespace, flow

    def task(self, namespace: str, flow: str, task: str) -> tuple[str, str, str]:
        namespace, flow = self.flow(namespace, flow)
        if flow == OTHER or not self.tasks.admit((namespace, flow, task)):
            return namespace, flow, OTHER
        return namespace, flow, task

    def task_metric(self, name: str) -> str:
        return name if self.task_metrics.admit(name) else OTHER
