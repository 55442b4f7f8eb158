"""Workers: RQ jobs that run one attempt of one task run, with heartbeats, live logs and kill checks.

Workers are RQ ``SimpleWorker``s: a job runs inside the worker process, so a ``log`` or ``return``
task does not pay a fork (scripts still run in their own child process). ``bench/engine.py`` shows why.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import threading
import time
import traceback
from typing import Any

import redis
from rq import Queue, SimpleWorker, get_current_job
from rq.executions import Execution
from rq.utils import now as rq_now
from rq.worker import WorkerStatus

from engine.config import load_settings, reset_settings
from engine.core.expression_context import execution_summary
from engine.core.expressions import ExpressionError, render
from engine.core.progress import context_for
from engine.core.sandbox import time_budget
from engine.core.states import State
from engine.flows.rendered import RenderedMismatch, fit
from engine.flows.task_defaults import apply_defaults
from engine.flows.tree import find_task  # also importable from here, as before
from engine.identity.crypto import DecryptionFailed, SecretKeyMissing
from engine.metrics import record
from engine.metrics.log_format import bind_log_context
from engine.runtime import cluster, events
from engine.runtime.handover import FORCE_AFTER, HANDED_BACK, HANDOVER
from engine.runtime.memory import collect_less
from engine.runtime.prefetch import PREFETCH
from engine.runtime.pulse import PULSE
from engine.runtime.queue import queue_name
from engine.runtime.sent_ahead import SentAhead
from engine.runtime.working_directory import GroupTasks
from engine.services.snapshots import SettledRuns, load_snapshot
from engine.storage import Storage, StorageUnavailable, open_storage
from engine.storage.base import UnusableStorage
from engine.store import executions as store
from engine.store.database import open_database, session_scope
from engine.store.logs import write_logs
from engine.tasks import Task
from engine.tasks.base import LogLevel
from engine.tasks.context import (
    ConfigurationError,
    RunContext,
    TaskFailed,
    TaskKilled,
    TaskTimedOut,
    WorkFolder,
    oversized_output,
)
from engine.tasks.working_directory import WorkingDirectory
from engine.workspace.kv import NamespaceKv
from engine.workspace.task_defaults import inherited_defaults

_database = None
_storage: Storage | None = None
# The settled runs this process has read: a task run reads only the others' rows. A worker runs one job at a time,
# so a task run's read takes over what the one before kept while nothing else reads it (engine/services/snapshots.py).
_settled = SettledRuns()


def database():
    global _database
    if _database is None:
        _database = open_database(load_settings().database_url)
    return _database


def storage() -> Storage:
    """The internal storage the settings name, opened once per worker process (a client keeps its connections)."""
    global _storage
    if _storage is None:
        try:
            _storage = open_storage()
        except StorageUnavailable as exc:
            _storage = UnusableStorage(str(exc))
    return _storage


def with_namespace_defaults(task: Task, raw: dict[str, Any], defaults: list[list[dict[str, Any]]]) -> dict[str, Any]:
    """``raw`` (the task dumped) with its namespaces' task defaults for what the task, after its flow's own
    defaults, does not set; nearest namespace first, so it wins over its parents."""
    fields = type(task).model_fields
    own_keys = {fields[name].alias or name for name in task.model_fields_set}
    own = {key: value for key, value in raw.items() if key in own_keys}
    own["type"] = task.type
    for layer in defaults:
        apply_defaults(own, [((), default) for default in layer])
    return {**raw, **own}


def render_task(task: Task, context: dict[str, Any], defaults: list[list[dict[str, Any]]] | None = None) -> Task:
    """The task with every expression in its properties rendered (task lists are left to the executor), and its
    namespaces' task defaults (``defaults``) for what it leaves unset."""
    # runIf was decided by the executor before the run was queued; its rendered value (true) is no text.
    skip = {"id", "type", "runIf", *(spec.name for spec in type(task).list_fields)}
    raw = task.model_dump(mode="json", by_alias=True, exclude_none=True)
    if defaults:
        raw = with_namespace_defaults(task, raw, defaults)
    rendered: dict[str, Any] = {}
    with time_budget():  # one LANNER_EXPRESSION_TIMEOUT for all of the task's properties
        for key, value in raw.items():
            if key in skip:
                rendered[key] = value
                continue
            try:
                rendered[key] = render(value, context)
            except ExpressionError as exc:
                raise TaskFailed(f"task '{task.id}' property '{key}': {exc}") from None
    try:
        return fit(type(task), rendered)
    except RenderedMismatch as exc:
        raise TaskFailed(f"task '{task.id}': after rendering, {exc}") from None


def _kill_requested(r: redis.Redis, execution_id: str) -> bool:
    try:
        return bool(r.exists(events.kill_key(execution_id)))
    except redis.RedisError:  # Redis away for a moment: keep working, the next check will tell
        return False


KILL_CHECK_SECONDS = 0.05  # how often a task's checks ask Redis whether its execution is being killed
RQ_BEAT_SECONDS = 10.0  # RQ's beat for a worker, outside a job's start: its key lives worker_ttl + 60 s (480 s)


class KillWatch:
    """Whether a run's execution is being killed, for its task's checks (``RunContext.is_killed``).

    The execution's state read with the snapshot, just before the task starts, is the first answer; Redis is
    asked again at most every ``KILL_CHECK_SECONDS``, however often a task checks. A kill sets the execution's
    state before the Redis key (engine/services/commands.py, the executor)."""

    def __init__(self, r: redis.Redis, execution_id: str, killed_at_start: bool) -> None:
        self.r, self.execution_id = r, execution_id
        self.killed, self.asked = killed_at_start, time.monotonic()

    def __call__(self) -> bool:
        if not self.killed and time.monotonic() - self.asked >= KILL_CHECK_SECONDS:
            self.killed, self.asked = _kill_requested(self.r, self.execution_id), time.monotonic()
        return self.killed or HANDOVER.should_hand_back()


def _pause_before_claim() -> None:
    """Test hook: with LANNER_TEST_PAUSE_BEFORE_CLAIM=FILE, the first worker to get here writes its pid to FILE
    and waits, holding a job RQ handed it but not the run, so a test can kill it at that moment."""
    marker = load_settings().test_pause_before_claim
    if not marker:
        return
    try:
        with open(marker, "x") as file:
            file.write(f"{os.getpid()}\n")
    except FileExistsError:
        return
    time.sleep(3600)


def run_attempt(task_run_id: str, attempt: int | None = None) -> None:
    """The RQ job: run attempt ``attempt`` of ``task_run_id`` if the run still waits for it (a duplicate
    job, or one for an attempt already claimed, does nothing; jobs enqueued without ``attempt`` take the next)."""
    job = get_current_job()
    r = job.connection if job else redis.Redis()
    db = database()
    worker = events.consumer_name("worker")
    claimed, run = PREFETCH.claimed_run(task_run_id, attempt)  # with the end of the attempt before it
    if not claimed:
        _pause_before_claim()
        with session_scope(db, recoverable=True) as session:  # a short write: SQLite has one writer at a time
            run = store.claim_attempt(session, task_run_id, worker, attempt)
    if run is None:
        return
    HANDOVER.hold(run.id, run.attempt_count)
    with session_scope(db) as session:
        snapshot = load_snapshot(session, run.execution_id, run.started_at, settled=_settled)
        _settled.keep(snapshot)  # as read: the next task run of the execution reads again only what may change
        snapshot.task_defaults = inherited_defaults(session, snapshot.flow.namespace)  # one primary-key query
    view = snapshot.runs[run.id]
    flow = snapshot.flow
    task = find_task(flow, run.task_id)
    bind_log_context(run.execution_id, run.id)  # this process' log lines name the run until its next job
    record.attempt_started(run, task.type, worker)
    # A computed timeout or log level (still an expression here) is set once the task is rendered (_execute).
    timeout = task.timeout if isinstance(task.timeout, dt.timedelta) else None
    folder = WorkFolder()
    try:
        ctx = RunContext(
            task_id=task.id,
            execution_id=run.execution_id,
            folder=folder,
            storage=storage(),
            # a worker told to stop asks its task to stop as a kill would, once its grace period is over
            is_killed=KillWatch(r, run.execution_id, snapshot.execution.state in (State.KILLING, State.KILLED)),
            deadline=time.monotonic() + timeout.total_seconds() if timeout else None,
            min_level=(task.log_level.value if isinstance(task.log_level, LogLevel) else "TRACE"),
            secrets=snapshot.seen_secrets,  # secret inputs decrypted to render the task are masked like secrets
            namespace=flow.namespace,
            flow_id=flow.id,
            # each iteration of a loop keeps its own files (a task id never holds a dot)
            file_task=run.task_id if run.iteration is None else f"{run.task_id}.{run.iteration}",
            attempt=run.attempt_count,
            kv=NamespaceKv(db, flow.namespace, actor=f"execution {run.execution_id}"),  # its own namespace only
            execution_summary=execution_summary(snapshot, load_settings().public_url),  # for notify tasks' summary
        )

        def write(records) -> None:  # a batch, as the task logs (RunContext.log) and every beat
            with session_scope(db) as log_session:
                write_logs(log_session, snapshot, run, records)
            with contextlib.suppress(redis.RedisError):
                events.announce(r, run.execution_id, "logs")

        ctx.sink = write
        if isinstance(task, WorkingDirectory):  # its tasks run here, in this folder, each as its own task run
            ctx.run_child = GroupTasks(db, r, snapshot, run, ctx, worker, _execute)
        with PULSE.keep(r, run.id, ctx.flush_logs):
            state, outputs, error, retryable = _execute(task, ctx, snapshot, view)
        stopped = state is State.KILLED and HANDOVER.should_hand_back()
        handing_back = stopped and not _kill_requested(r, run.execution_id)  # a kill asked meanwhile wins
        if handing_back:
            ctx.log("WARN", HANDED_BACK)
        too_big = oversized_output(outputs, load_settings().max_output_bytes)
        if too_big:  # never stored: the executor and the API would load it whole
            state, outputs, error = State.FAILED, {}, f"{error}; {too_big}" if error else too_big
        if error:
            ctx.log("ERROR", error)
        ctx.flush_logs()
    finally:
        folder.remove()
    if handing_back:
        with HANDOVER.ending:
            HANDOVER.hand_back(run.id, run.execution_id, run.attempt_count)
        record.attempt_handed_back(worker)
        return
    outputs = ctx.mask_value(json.loads(json.dumps(outputs, default=str)))  # stored and shown as JSON
    upcoming = PREFETCH.take()  # the next job waiting, if any: its run is claimed in the same transaction
    with HANDOVER.ending, session_scope(db) as session:  # never while a forced hand-back runs (handover.py)
        error = ctx.mask(error) if error else None
        metrics = ctx.mask_value(ctx.metrics.as_list())  # names and tags are the script's texts
        store.finish_attempt(session, run, state, outputs=outputs, error=error, retryable=retryable, metrics=metrics)
        PREFETCH.claim(session, upcoming, worker)
        HANDOVER.ended()
    PREFETCH.committed(upcoming)
    record.attempt_ended(run, task.type, state, worker, metrics)
    try:
        with r.pipeline(transaction=False) as pipe:
            events.publish_event(pipe, run.execution_id)
            events.announce(pipe, run.execution_id, "state")
            pipe.execute()
    except redis.RedisError:
        pass  # the result is in the database; the executor's sweep finds the execution without the event


def _execute(task: Task, ctx: RunContext, snapshot, view) -> tuple[State, dict[str, Any], str | None, bool]:
    """The attempt's end state, outputs, error, and whether a retry could help."""
    resolve = snapshot.secret  # the namespace's secrets, read with the snapshot (engine/workspace/secrets.py)
    unusable: list[Exception] = []  # secrets it could not have: wrapped into expression errors on the way up

    def secret(name: str) -> str:
        try:
            value = resolve(name)
        except (ConfigurationError, DecryptionFailed, SecretKeyMissing) as exc:
            unusable.append(exc)
            raise
        ctx.secrets.add(value)  # every value this run sees is masked in its logs, error and outputs
        return value

    snapshot.secret = secret
    timeout = task.timeout
    try:
        ctx.check()
        rendered = render_task(task, context_for(snapshot, view), snapshot.task_defaults)
        if rendered.timeout != timeout:  # computed: known only now, counted from here
            timeout = rendered.timeout
            ctx.deadline = time.monotonic() + timeout.total_seconds() if timeout else None
        ctx.min_level = rendered.log_level.value if rendered.log_level else "TRACE"
        outputs = rendered.run(ctx) or {}
        return (State.WARNING if ctx.warned else State.SUCCESS), outputs, None, True
    except TaskFailed as exc:
        return State.FAILED, exc.outputs, str(exc), not (unusable or isinstance(exc, ConfigurationError))
    except TaskKilled:
        return State.KILLED, {}, None, True
    except TaskTimedOut:
        return State.FAILED, {}, f"task '{task.id}' timed out after {timeout}", True
    except Exception as exc:
        ctx.log("DEBUG", traceback.format_exc())
        return State.FAILED, {}, f"task '{task.id}' raised {type(exc).__name__}: {exc}", not unusable


class LannerWorker(SimpleWorker):
    """An RQ worker that runs jobs in its own process (no fork per task). Told to stop (SIGTERM, SIGINT), it
    takes no new job and gives its running task run LANNER_WORKER_GRACE_PERIOD to end, then hands it back
    (engine/runtime/handover.py)."""

    def execute_job(self, job, queue) -> None:
        """RQ's start of a job (status, started registry, intermediate list: where recovery looks), then the job,
        then one pipeline that ends it: its execution record, the job and the worker's state.

        RQ's own end of a job (a WATCH/MULTI transaction for dependents, results, counters: 1.1 ms a job) records
        nothing the engine reads: a task run's state, attempts and outputs are in the database. A job that raises
        (the database away) goes through RQ's failure handling, as before."""
        with cluster.holding(str(job.args[0]) if job.args else job.id):
            execution, starting = self._start_job(job)
            job.started_at = rq_now()
            try:
                try:
                    job.perform()
                finally:
                    starting.answers()  # RQ's start is written before its end: they travel on two connections
            except Exception:
                job.ended_at = rq_now()
                self.handle_job_failure(job, queue, exc_string=traceback.format_exc(), execution=execution)
                self.set_state(WorkerStatus.IDLE)
            else:
                with self.connection.pipeline(transaction=False) as pipe:
                    self.cleanup_execution(job, pipeline=pipe, execution=execution)
                    pipe.delete(job.key)
                    self.set_state(WorkerStatus.IDLE, pipeline=pipe)
                    pipe.execute()
        HANDOVER.job_finished(self.connection)

    def _start_job(self, job) -> tuple[Execution, SentAhead]:
        """RQ's two starts of a job (``prepare_execution``, then ``prepare_job_execution``: its execution record,
        the worker busy, heartbeats, the job started, out of the intermediate list) in one transaction, sent without
        waiting for its answer (engine/runtime/sent_ahead.py): they stand between a task run queued and its claim,
        which goes on meanwhile. ``execute_job`` reads the answer once the job is done."""
        with self.connection.pipeline() as pipe:
            ttl = self.get_heartbeat_ttl(job)
            execution = Execution.create(job, ttl, pipeline=pipe, worker_name=self.name)
            self.executions[execution.id] = execution
            self.set_state(WorkerStatus.BUSY, pipeline=pipe)
            self.heartbeat(ttl, pipeline=pipe)
            job.heartbeat(rq_now(), ttl, pipeline=pipe)
            job.prepare_for_execution(self.name, pipeline=pipe)
            pipe.persist(job.key)
            if len(self.queues) == 1:
                pipe.lrem(Queue(job.origin, connection=self.connection).intermediate_queue_key, 1, job.id)
            if pipe.scripts:  # sent as EVALSHA: loaded first, as pipe.execute() would
                pipe.load_scripts()
            starting = SentAhead(self.connection, [args for args, _ in pipe.command_stack], transaction=True)
            pipe.reset()
        return execution, starting

    def work(self, *args, **kwargs) -> bool:
        PREFETCH.attach(self)
        return super().work(*args, **kwargs)

    def dequeue_job_and_maintain_ttl(self, timeout: int | None, max_idle_time: int | None = None):
        """The job taken as the last attempt ended (engine/runtime/prefetch.py), or RQ's next one."""
        return PREFETCH.pop() or super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)

    def teardown(self) -> None:
        PREFETCH.give_back(database)  # told to stop with a job taken and not run
        super().teardown()

    _next_beat = 0.0  # when RQ's own beat for this worker is next sent (time.monotonic)

    def heartbeat(self, timeout: int | None = None, pipeline: redis.client.Pipeline | None = None) -> None:
        """RQ beats for the worker before and after each job it takes, three round trips each time. With the
        default lifetime (RQ's worker_ttl + 60 s) and outside a pipeline, once every RQ_BEAT_SECONDS is enough."""
        if timeout is None and pipeline is None:
            if time.monotonic() < self._next_beat:
                return
            self._next_beat = time.monotonic() + RQ_BEAT_SECONDS
        super().heartbeat(timeout, pipeline)

    def set_state(self, state: str, pipeline: redis.client.Pipeline | None = None) -> None:
        """Written when it changes: RQ's loop sets IDLE again before each job, which the job's end already wrote."""
        if pipeline is None and state == self._state:
            return
        super().set_state(state, pipeline)

    def handle_warm_shutdown_request(self) -> None:
        super().handle_warm_shutdown_request()
        HANDOVER.stop_requested(database, self.connection, load_settings().worker_grace_period)

    def request_force_stop(self, signum, frame) -> None:
        """A second signal ends the grace period now (RQ would stop the task where it stands, losing it)."""
        if HANDOVER.held is None:
            super().request_force_stop(signum, frame)
        elif self._shutdown_requested_date and rq_now() - self._shutdown_requested_date > dt.timedelta(seconds=1):
            HANDOVER.stop_now()  # within a second: the same stop sent twice (a pool and the terminal), ignored


def worker_class() -> type:
    """``LANNER_WORKER_FORK=1`` picks RQ's forking worker instead (for comparison in ``bench/engine.py``)."""
    if load_settings().worker_fork:
        from rq import Worker

        return Worker
    return LannerWorker


def work(redis_url: str, count: int = 1, *, burst: bool = False, groups: tuple[str, ...] = ()) -> None:
    """Run ``count`` worker processes until stopped (``burst``: until the queue is empty), serving the queues of
    ``groups`` (none: the default queue, for task runs that name no worker group).

    One worker runs in this process; several run as child processes that this one supervises
    (restarting any that dies), so each can be stopped, or killed, on its own.
    """
    from engine.runtime.connection import connect

    def run_one() -> None:
        connection = connect(redis_url)
        queues = [queue_name(group) for group in groups] or [queue_name(None)]
        worker = worker_class()(queues, connection=connection)
        collect_less()
        with cluster.present(connection, cluster.ProcessKind.WORKER, tuple(queues)):
            worker.work(burst=burst, logging_level="WARNING")

    if count == 1:
        run_one()
        return
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    from engine.runtime.children import fork_child

    def run_child() -> None:
        # As a worker started on its own would: its settings name the Redis this pool serves (maybe embedded).
        os.environ["LANNER_REDIS_URL"] = redis_url
        reset_settings()
        run_one()

    children = [fork_child(run_child) for _ in range(count)]
    while not stopping.is_set():
        for index, child in enumerate(children):
            if child.poll() is not None and not burst:
                record.process_ended(child.pid)
                children[index] = fork_child(run_child)
        if burst and all(child.poll() is not None for child in children):
            return
        stopping.wait(0.5)
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    stop_by = time.monotonic() + load_settings().worker_grace_period + FORCE_AFTER + 3
    for child in children:
        try:
            child.wait(max(stop_by - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            child.kill()
