"""What the engine's parts report, one call each (executor, worker, scheduler, API, SLA checks).

Every function returns at once when LANNER_METRICS=0. The hot calls (an advance, a Redis command) touch label
children bound once; the others (an execution or a task run ending) cost a dict lookup and an addition.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import sys
import time
from typing import Any

from engine.config import Settings, load_settings
from engine.core.states import State
from engine.metrics import registry as m
from engine.metrics.labels import FlowLabels

ENABLED = True
labels = FlowLabels(100, 500, 2000, 200)
_bound: dict[tuple[Any, tuple[str, ...]], Any] = {}  # (metric, label values) -> its child: labels() costs more


def _child(metric: Any, *values: str) -> Any:
    child = _bound.get((metric, values))
    if child is None:
        child = _bound[(metric, values)] = metric.labels(*values)
    return child


_NOT_STARTED = frozenset({State.CREATED, State.QUEUED})
_NEVER_RAN = frozenset({State.CREATED, State.QUEUED, State.KILLED, State.CANCELLED})
_USUAL_ENDS = (State.SUCCESS.value, State.FAILED.value)
try:
    VERSION = importlib.metadata.version("lanner")
except importlib.metadata.PackageNotFoundError:  # a checkout run without being installed
    VERSION = "unknown"


def configure(settings: Settings) -> None:
    """Apply this process' settings: on or off, where the values are kept, the caps on label values."""
    global ENABLED, labels
    ENABLED = settings.metrics
    labels = FlowLabels(
        settings.metrics_max_namespaces,
        settings.metrics_max_flows,
        settings.metrics_max_tasks,
        settings.metrics_max_task_metrics,
    )
    m.use_folder(settings.metrics_dir if settings.metrics else None)
    _bound.clear()  # children of the metrics as they were
    timing = sys.modules.get("engine.metrics.timing")  # it imports this module; not loaded yet: nothing cached
    if timing is not None and hasattr(timing, "forget_children"):
        timing.forget_children()  # its children too: the metrics may have been made again


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)  # SQLite gives times back without a zone


def _seconds(start: dt.datetime | None, end: dt.datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max((_utc(end) - _utc(start)).total_seconds(), 0.0)


def process_started(process: str) -> None:
    """The process' info and start time (``process``: api, executor, worker, scheduler, server)."""
    if not ENABLED:
        return
    _child(m.PROCESS_INFO, process, VERSION).set(1)
    _child(m.PROCESS_START, process).set(time.time())


def process_ended(pid: int) -> None:
    """A process of the shared folder died (a worker the pool replaces): its live gauges stop being exported."""
    if ENABLED and m.folder() is not None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid, str(m.folder()))


def execution_advanced(before: State, snapshot: Any) -> None:
    """After an advance committed: count an execution that started or ended, with its duration."""
    if not ENABLED:
        return
    execution = snapshot.execution
    after = execution.state
    if after == before:
        return
    namespace, flow = labels.flow(snapshot.flow.namespace, snapshot.flow.id)
    if before in _NOT_STARTED and after not in _NEVER_RAN:
        _child(m.EXECUTIONS_STARTED, namespace, flow).inc()
        for state in _USUAL_ENDS:  # exported at 0 from now: a first failure shows as an increase, not a new series
            _child(m.EXECUTIONS_ENDED, namespace, flow, state)
    if after.terminal and not before.terminal:
        state = after.value
        _child(m.EXECUTIONS_ENDED, namespace, flow, state).inc()
        took = _seconds(execution.started_at or execution.created_at, execution.ended_at)
        if took is not None:
            _child(m.EXECUTION_DURATION, namespace, flow, state).observe(took)


def attempt_started(run: Any, task_type: str, worker: str) -> None:
    """A worker claimed attempt ``run.attempt_count`` of a task run: its wait in the queue, a retry, a busy slot."""
    if not ENABLED:
        return
    namespace, flow = labels.flow(run.namespace, run.flow_id)
    due = run.next_attempt_at if run.attempt_count > 1 and run.next_attempt_at else run.created_at
    waited = _seconds(due, run.started_at)
    if waited is not None:
        _child(m.QUEUE_WAIT, namespace).observe(waited)
    if run.attempt_count > 1:
        _child(m.RETRIES, namespace, flow, task_type).inc()
    _child(m.WORKER_TASKS_RUNNING, worker).inc()


def attempt_handed_back(worker: str) -> None:
    """The worker stopped and gave the attempt back unfinished (engine/runtime/handover.py): its slot is free."""
    if ENABLED:
        _child(m.WORKER_TASKS_RUNNING, worker).dec()


def attempt_ended(run: Any, task_type: str, state: State, worker: str, reported: list[dict[str, Any]]) -> None:
    """The attempt ended in ``state`` after running since ``run.started_at``; ``reported``: its task metrics."""
    if not ENABLED:
        return
    _child(m.WORKER_TASKS_RUNNING, worker).dec()
    namespace, flow, task = labels.task(run.namespace, run.flow_id, run.task_id)
    _child(m.TASK_RUNS_ENDED, namespace, flow, task, task_type, state.value).inc()
    took = _seconds(run.started_at, dt.datetime.now(dt.UTC))
    if took is not None:
        _child(m.TASK_RUN_DURATION, namespace, flow, task_type, state.value).observe(took)
    for entry in reported:
        _task_metric(namespace, flow, task, entry)


def _task_metric(namespace: str, flow: str, task: str, entry: dict[str, Any]) -> None:
    """One counter or timer of engine/tasks/metrics.py (its tags are left out: they are the script's texts)."""
    name = labels.task_metric(str(entry.get("name")))
    if entry.get("type") == "counter":
        value = float(entry.get("value") or 0)
        if value >= 0:  # a Prometheus counter only goes up; a negative sum is kept on the attempt only
            _child(m.TASK_METRIC_COUNTER, namespace, flow, task, name).inc(value)
    elif entry.get("type") == "timer":
        _child(m.TASK_METRIC_TIMER_SECONDS, namespace, flow, task, name).inc(float(entry.get("total") or 0))
        _child(m.TASK_METRIC_TIMER_COUNT, namespace, flow, task, name).inc(int(entry.get("count") or 0))


def advance_took(seconds: float) -> None:
    if ENABLED:
        m.ADVANCE_DURATION.observe(seconds)


def events_read(count: int) -> None:
    if ENABLED and count:
        m.EVENTS_PROCESSED.inc(count)


def queue_seen(queue: str, depth: int) -> None:
    """Jobs waiting in one RQ queue, as the executor saw them (engine/metrics/queues.py)."""
    if ENABLED:
        _child(m.QUEUE_DEPTH, queue).set(depth)


def workers_seen(alive: int) -> None:
    if ENABLED:
        m.WORKERS_ALIVE.set(alive)


def schedule_fired(namespace: str, flow: str, *, slot: dt.datetime, now: dt.datetime, backfill: bool) -> None:
    if not ENABLED:
        return
    namespace, flow = labels.flow(namespace, flow)
    _child(m.SCHEDULER_FIRES, namespace, flow, "backfill" if backfill else "schedule").inc()
    if not backfill:  # a backfill's slots are in the past on purpose
        _child(m.SCHEDULER_LATENESS, namespace, flow).observe(max((now - slot).total_seconds(), 0.0))


def scheduler_ticked() -> None:
    if ENABLED:
        m.SCHEDULER_TICK.set(time.time())


def trigger_failed(namespace: str, flow: str, trigger: str) -> None:
    """A trigger (``trigger``: its kind, schedule, webhook, flow...) that could not start an execution."""
    if ENABLED:
        _child(m.TRIGGER_ERRORS, *labels.flow(namespace, flow), trigger).inc()


def trigger_messages(namespace: str, flow: str, trigger: str, outcome: str, count: int) -> None:
    """``count`` messages a realtime trigger (``trigger``: its type) took: started, duplicate or refused."""
    if ENABLED:
        _child(m.TRIGGER_MESSAGES, *labels.flow(namespace, flow), trigger, outcome).inc(count)


def trigger_connected(namespace: str, flow: str, trigger: str, connected: bool) -> None:
    """A realtime trigger (its id) connected to its broker, or not any more."""
    if ENABLED:
        _child(m.TRIGGER_CONNECTED, *labels.flow(namespace, flow), trigger).set(1 if connected else 0)


def sla_breached(namespace: str, flow: str, behaviour: str) -> None:
    """A flow's SLA breached; ``behaviour``: fail, cancel or none."""
    if ENABLED:
        _child(m.SLA_BREACHES, *labels.flow(namespace, flow), behaviour).inc()


def api_request(method: str, route: str, status: int, seconds: float) -> None:
    if ENABLED:
        _child(m.API_REQUESTS, method, route, str(status)).inc()
        _child(m.API_DURATION, method, route).observe(seconds)


configure(load_settings())  # start_process configures again with the settings of the process as it starts
