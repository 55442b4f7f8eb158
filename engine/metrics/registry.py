"""Every metric Lanner exports, named ``lanner_*``, defined once per process.

A process started by ``lanner server`` (or by ``lanner worker -n N``) writes its values into the run's shared
folder (LANNER_METRICS_DIR, prometheus_client's multiprocess mode), so one scrape of one port reads them all;
a process on its own keeps them in memory. ``use_folder`` switches at the process' start.
"""

from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import Counter, Gauge, Histogram, values
from prometheus_client.metrics import MetricWrapperBase

_folder: Path | None = None
_in_memory = values.ValueClass

FLOW = ("namespace", "flow")
# Seconds: tasks and executions (from a log line to an hour-long job), then calls (a Redis command to a slow query).
RUN_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
CALL_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)

# --- executions and task runs ---------------------------------------------------------------------------------
EXECUTIONS_STARTED = Counter("lanner_executions_started", "Executions that started running.", FLOW)
EXECUTIONS_ENDED = Counter("lanner_executions_ended", "Executions that ended, by end state.", (*FLOW, "state"))
EXECUTION_DURATION = Histogram(
    "lanner_execution_duration_seconds",
    "From an execution's start to its end.",
    (*FLOW, "state"),
    buckets=RUN_BUCKETS,
)
TASK_RUNS_ENDED = Counter(
    "lanner_task_runs_ended", "Task run attempts that ended, by task.", (*FLOW, "task", "task_type", "state")
)
TASK_RUN_DURATION = Histogram(
    "lanner_task_run_duration_seconds",
    "How long a task run attempt ran on its worker.",
    (*FLOW, "task_type", "state"),
    buckets=RUN_BUCKETS,
)
QUEUE_WAIT = Histogram(
    "lanner_task_run_queue_wait_seconds",
    "From a task run attempt being due (queued) to a worker starting it (running).",
    ("namespace",),
    buckets=RUN_BUCKETS,
)
RETRIES = Counter("lanner_task_run_retries", "Attempts after the first (retries) started.", (*FLOW, "task_type"))
SLA_BREACHES = Counter("lanner_sla_breaches", "Flow SLAs breached, by behaviour.", (*FLOW, "behaviour"))
TASK_METRIC_COUNTER = Counter(
    "lanner_task_metric_counter", "Sums of the counters tasks report (SDK, built-in tasks).", (*FLOW, "task", "metric")
)
TASK_METRIC_TIMER_SECONDS = Counter(
    "lanner_task_metric_timer_seconds",
    "Total seconds of the timers tasks report; divide by lanner_task_metric_timer_count_total for the mean.",
    (*FLOW, "task", "metric"),
)
TASK_METRIC_TIMER_COUNT = Counter(
    "lanner_task_metric_timer_count", "How many times tasks reported each timer.", (*FLOW, "task", "metric")
)

# --- workers, queue, executor, scheduler ----------------------------------------------------------------------
WORKER_TASKS_RUNNING = Gauge(
    "lanner_worker_tasks_running", "Task runs running now, per worker.", ("worker",), multiprocess_mode="livesum"
)
QUEUE_DEPTH = Gauge(
    "lanner_queue_depth", "Task run jobs waiting in an RQ queue.", ("queue",), multiprocess_mode="mostrecent"
)
WORKERS_ALIVE = Gauge(
    "lanner_workers_alive", "RQ workers alive, as the executor sees them.", multiprocess_mode="mostrecent"
)
ADVANCE_DURATION = Histogram(
    "lanner_executor_advance_duration_seconds", "One advance of one execution by the executor.", buckets=CALL_BUCKETS
)
EVENTS_PROCESSED = Counter("lanner_executor_events_processed", "Events the executor read from its stream.")
SCHEDULER_FIRES = Counter("lanner_scheduler_fires", "Executions the scheduler started.", (*FLOW, "kind"))
SCHEDULER_LATENESS = Histogram(
    "lanner_scheduler_lateness_seconds",
    "How long after its slot a schedule fired.",
    FLOW,
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600),
)
SCHEDULER_TICK = Gauge(
    "lanner_scheduler_last_tick_timestamp_seconds",
    "When a scheduler last looked at its triggers (Unix time).",
    multiprocess_mode="max",
)
TRIGGER_ERRORS = Counter("lanner_trigger_errors", "Triggers that could not start an execution.", (*FLOW, "trigger"))
TRIGGER_MESSAGES = Counter(
    "lanner_trigger_messages",
    "Messages realtime triggers took, by what they did: started an execution, duplicate (seen before), refused.",
    (*FLOW, "trigger", "outcome"),
)
TRIGGER_CONNECTED = Gauge(
    "lanner_trigger_connected",
    "1 while a realtime trigger's listener is connected to its broker.",
    (*FLOW, "trigger"),
    multiprocess_mode="livemax",
)

# --- API, database, Redis, process ----------------------------------------------------------------------------
API_REQUESTS = Counter("lanner_api_requests", "API requests, by route and status.", ("method", "route", "status"))
API_DURATION = Histogram(
    "lanner_api_request_duration_seconds", "API request latency.", ("method", "route"), buckets=CALL_BUCKETS
)
DATABASE_DURATION = Histogram(
    "lanner_database_query_duration_seconds", "Database statements, by kind.", ("operation",), buckets=CALL_BUCKETS
)
REDIS_DURATION = Histogram(
    "lanner_redis_command_duration_seconds", "Redis commands (a pipeline: once).", ("command",), buckets=CALL_BUCKETS
)
PROCESS_INFO = Gauge(
    "lanner_process_info", "1 per running Lanner process.", ("process", "version"), multiprocess_mode="liveall"
)
PROCESS_START = Gauge(
    "lanner_process_start_time_seconds",
    "When the process started (Unix time).",
    ("process",),
    multiprocess_mode="liveall",
)


ALL: tuple[MetricWrapperBase, ...] = tuple(
    value for value in list(globals().values()) if isinstance(value, MetricWrapperBase)
)


def folder() -> Path | None:
    """The shared folder this process writes its metrics to, or None (in memory)."""
    return _folder


def use_folder(path: Path | None) -> None:
    """Keep the values from now on in ``path`` (multiprocess mode) or in memory (None).

    A process forked from one that had already created its metrics (a worker pool's children; the tests' fork
    server) switches after they were created: the values they hold are dropped and made again the new way
    (prometheus_client makes a labelled metric's children on first use, an unlabelled one's value at init)."""
    global _folder
    if path == _folder:
        return
    if path is not None:
        path.mkdir(parents=True, exist_ok=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)  # where prometheus_client writes its files
    values.ValueClass = values.MultiProcessValue() if path is not None else _in_memory
    _folder = path
    for metric in ALL:
        if metric._labelnames:
            with metric._lock:
                metric._metrics.clear()
        else:
            metric._metric_init()
