"""What runs next: a pure state machine over the flow graph and the task-run states (no I/O).

``advance(snapshot)`` repeats ``decide`` and ``apply`` on an in-memory snapshot until nothing more
can happen now, and returns every action taken. The executor loads a snapshot from the database,
calls ``advance`` and persists the actions; tests call it directly.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import TypeAdapter, ValidationError

from engine.core.expressions import ExpressionError, render, render_text, truthy
from engine.core.sandbox import time_budget
from engine.core.states import EXECUTION_TRANSITIONS, TASK_RUN_TRANSITIONS, State, check_transition
from engine.flows.computed import ComputedInvalid, resolve
from engine.flows.model import Flow
from engine.flows.spec import FlowId, NamespaceName
from engine.identity.policy import may_start_subflow, subflow_reach_rule
from engine.tasks import Task
from engine.tasks.context import mask_text, mask_value
from engine.tasks.flowable import ForEach, If, Parallel, Pause, Sequential, Subflow, Switch


@dataclass
class RunView:
    id: str
    task_id: str
    state: State
    kind: str = "worker"  # "worker" runs on a worker; "executor" is decided here (flowables, pause, subflow)
    parent_id: str | None = None
    iteration: int | None = None
    value: Any = None
    attempts: int = 0
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    created_at: dt.datetime | None = None
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    next_attempt_at: dt.datetime | None = None
    retryable: bool = True  # False after a ConfigurationError: the retry policy does not apply
    # SECRET values among its outputs (a pause's onResume answers), decrypted on use, by output: ``outputs`` shows
    # ``****`` for them, expressions read the values, which are then masked in what is written
    secret_outputs: dict[str, Callable[[], dict[str, str]]] = field(default_factory=dict, repr=False, compare=False)


@dataclass
class ExecutionView:
    id: str
    state: State
    inputs: dict[str, Any] = field(default_factory=dict)
    labels: dict[str, Any] = field(default_factory=dict)
    trigger: dict[str, Any] | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    held: bool = False
    flow_revision: int = 1
    created_at: dt.datetime | None = None
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None


@dataclass
class Snapshot:
    flow: Flow
    execution: ExecutionView
    runs: dict[str, RunView]
    now: dt.datetime
    flow_running: int = 0  # other executions of this flow holding a concurrency slot
    subflows: dict[str, tuple[State, dict[str, Any]]] = field(default_factory=dict)  # run id -> child result
    secret: Callable[[str], str] | None = None
    secret_inputs: Callable[[], dict[str, str]] | None = None  # the execution's SECRET inputs, decrypted on use
    variables: dict[str, Any] = field(default_factory=dict)  # the namespaces' variables (engine/workspace/variables.py)
    subflow_reach: str = "root"  # LANNER_SUBFLOW_REACH: the namespaces this flow may start subflows in
    # Secret values the executor's own expressions resolved (outputs, conditions, subflow inputs): masked in
    # whatever it writes, as a worker masks what its task logs and returns.
    seen_secrets: set[str] = field(default_factory=set)
    # Control properties of runs (retry, allowFailure, concurrency...) as rendered for this advance, by (run id,
    # property): a computed one is rendered once per advance however often the passes read it.
    computed: dict[tuple[str, str], Any] = field(default_factory=dict)
    new_id: Callable[[], str] = field(default=lambda: str(uuid.uuid4()))


# --- actions ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SetExecution:
    state: State
    changes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CreateRun:
    run: RunView


@dataclass(frozen=True)
class UpdateRun:
    run_id: str
    state: State | None = None
    changes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StartSubflow:
    run_id: str
    execution_id: str
    namespace: str
    flow_id: str
    inputs: dict[str, Any]  # masked, as the child's stored inputs will show them
    labels: dict[str, Any]
    given_inputs: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)  # what the child gets


Action = SetExecution | CreateRun | UpdateRun | StartSubflow


# --- rendering context --------------------------------------------------------------------------


def context_for(snapshot: Snapshot, run: RunView | None = None) -> dict[str, Any]:
    """What expressions see: inputs, vars, outputs, execution, flow, trigger, taskrun, labels, secret()."""
    execution, flow = snapshot.execution, snapshot.flow
    context: dict[str, Any] = {
        "inputs": _inputs_view(snapshot),
        "vars": {**snapshot.variables, **flow.variables},  # the flow's own variables override its namespaces'
        "labels": execution.labels,
        "trigger": execution.trigger or {},
        "execution": {
            "id": execution.id,
            "state": str(execution.state),
            "startDate": (execution.started_at or execution.created_at or snapshot.now).isoformat(),
        },
        "flow": {"id": flow.id, "namespace": flow.namespace, "revision": execution.flow_revision},
        "outputs": _outputs_view(snapshot, run),
    }
    if run is not None:
        context["taskrun"] = {
            "id": run.id,
            "value": run.value,
            "iteration": run.iteration,
            "attempt": run.attempts,
            "parentId": run.parent_id,
        }
    if snapshot.secret is not None:
        context["secret"] = _recording_secret(snapshot, snapshot.secret)
    return context


def _recording_secret(snapshot: Snapshot, resolve: Callable[[str], str]) -> Callable[[str], str]:
    def secret(name: str) -> str:
        value = resolve(name)
        snapshot.seen_secrets.add(value)
        return value

    return secret


def _inputs_view(snapshot: Snapshot) -> dict[str, Any]:
    """The execution's inputs with its SECRET ones decrypted; their values are then masked in what is written."""
    if snapshot.secret_inputs is None:
        return snapshot.execution.inputs
    try:
        opened = snapshot.secret_inputs()
    except ValueError as exc:  # the key it was encrypted with is not this process's key
        raise ExpressionError("inputs", str(exc)) from None
    snapshot.seen_secrets.update(opened.values())
    return {**snapshot.execution.inputs, **opened}


def _masked(snapshot: Snapshot, value: Any) -> Any:
    return mask_value(value, snapshot.seen_secrets)


def _outputs_view(snapshot: Snapshot, run: RunView | None) -> dict[str, Any]:
    by_task: dict[str, list[RunView]] = {}
    for candidate in snapshot.runs.values():
        by_task.setdefault(candidate.task_id, []).append(candidate)
    view: dict[str, Any] = {}
    for task_id, runs in by_task.items():
        if len(runs) == 1:
            view[task_id] = _run_outputs(snapshot, runs[0])
        else:  # runs of one task in several foreach iterations: keyed by the iteration's value
            ordered = sorted(runs, key=lambda r: r.iteration or 0)
            view[task_id] = {str(r.value): _run_outputs(snapshot, r) for r in ordered}
    if run is not None and run.iteration is not None:
        scope = _iteration_scope(snapshot, run)
        for sibling in snapshot.runs.values():  # inside an iteration, its own tasks' outputs come first
            if sibling.iteration == run.iteration and _iteration_scope(snapshot, sibling) == scope:
                view[sibling.task_id] = _run_outputs(snapshot, sibling)
    return view


def _run_outputs(snapshot: Snapshot, run: RunView) -> dict[str, Any]:
    """A run's outputs with its SECRET values decrypted; they are then masked in what is written."""
    if not run.secret_outputs:
        return run.outputs
    outputs = dict(run.outputs)
    for name, secret_values in run.secret_outputs.items():
        try:
            opened = secret_values()
        except ValueError as exc:  # the key it was encrypted with is not this process's key
            raise ExpressionError(f"outputs.{run.task_id}.{name}", str(exc)) from None
        snapshot.seen_secrets.update(opened.values())
        outputs[name] = {**(outputs.get(name) or {}), **opened}
    return outputs


def _iteration_scope(snapshot: Snapshot, run: RunView) -> str | None:
    """Id of the foreach run whose iteration ``run`` belongs to."""
    current = run
    while current.parent_id is not None:
        parent = snapshot.runs.get(current.parent_id)
        if parent is None:
            return None
        if parent.kind == "executor" and "values" in parent.outputs:
            return parent.id
        current = parent
    return None


# --- deciding -----------------------------------------------------------------------------------


class SubflowRefused(PermissionError):
    """A subflow task names a namespace outside its flow's reach (``LANNER_SUBFLOW_REACH``)."""


def advance(snapshot: Snapshot, max_passes: int = 10_000) -> list[Action]:
    """Decide and apply until nothing more happens now; the snapshot is updated in place."""
    taken: list[Action] = []
    snapshot.computed.clear()  # rendered for this advance: a later one sees the execution as it is then
    for _ in range(max_passes):
        actions = decide(snapshot)
        if not actions:
            return taken
        for action in actions:
            apply(snapshot, action)
        taken += actions
    raise RuntimeError("the execution did not settle; this is a bug in the state machine")


def decide(snapshot: Snapshot) -> list[Action]:
    execution, flow, now = snapshot.execution, snapshot.flow, snapshot.now
    state = execution.state
    if state.terminal:
        return []
    if state in (State.CREATED, State.QUEUED):
        return _admit(snapshot)
    if state == State.KILLING:
        return _kill(snapshot)
    if execution.held:  # paused by a person: running tasks finish, nothing new starts
        return [SetExecution(State.PAUSED)] if state == State.RUNNING else []
    try:
        timeout = _flow_timeout(snapshot)
    except ComputedInvalid as exc:  # nothing is started for an execution whose time limit cannot be known
        return [SetExecution(State.KILLING, {"error": mask_text(f"flow: {exc}", snapshot.seen_secrets)})]
    if timeout and execution.started_at and now >= execution.started_at + timeout:
        return [SetExecution(State.KILLING, {"error": f"the flow timed out after {timeout}"})]
    evaluator = _Evaluator(snapshot)
    status = evaluator.block(flow.tasks, flow.errors, flow.finally_, None, None, None)
    if evaluator.actions:
        return evaluator.actions
    if status.terminal:
        if state == State.PAUSED:  # resumed as the very last thing: running again, then finished
            return [SetExecution(State.RUNNING)]
        return [_finish(snapshot, status)]
    paused = _all_waiting_on_pause(snapshot)
    if paused and state == State.RUNNING:
        return [SetExecution(State.PAUSED)]
    if not paused and state == State.PAUSED:
        return [SetExecution(State.RUNNING)]
    return []


def _resolved(snapshot: Snapshot, key: tuple[str, str], owner: Any, name: str, run: RunView | None) -> Any:
    """``owner``'s property ``name`` rendered with the context of ``run`` (or of the execution), once per advance."""
    if key not in snapshot.computed:
        try:
            snapshot.computed[key] = resolve(owner, name, lambda: context_for(snapshot, run))
        except ComputedInvalid as exc:
            snapshot.computed[key] = exc
    value = snapshot.computed[key]
    if isinstance(value, ComputedInvalid):
        raise value
    return value


def _flow_timeout(snapshot: Snapshot) -> dt.timedelta | None:
    """The flow's timeout, which may be computed from the execution's inputs; raises ``ComputedInvalid``."""
    return _resolved(snapshot, (snapshot.execution.id, "timeout"), snapshot.flow, "timeout", None)


def _admit(snapshot: Snapshot) -> list[Action]:
    limit = snapshot.flow.concurrency
    if limit and snapshot.flow_running >= limit.limit:
        behavior = limit.behavior.value
        if behavior == "cancel":
            return [SetExecution(State.CANCELLED, {"ended_at": snapshot.now})]
        if behavior == "fail":
            error = f"the flow's concurrency limit ({limit.limit}) is reached"
            return [SetExecution(State.FAILED, {"error": error, "ended_at": snapshot.now})]
        return [] if snapshot.execution.state == State.QUEUED else [SetExecution(State.QUEUED)]
    return [SetExecution(State.RUNNING, {"started_at": snapshot.now})]


def _kill(snapshot: Snapshot) -> list[Action]:
    actions: list[Action] = []
    for run in snapshot.runs.values():
        if run.state.terminal:
            continue
        waiting = run.state in (State.QUEUED, State.RETRYING, State.CREATED, State.PAUSED)
        if waiting or run.kind == "executor":
            actions.append(UpdateRun(run.id, State.KILLED, {"ended_at": snapshot.now}))
    if actions:
        return actions
    if all(run.state.terminal for run in snapshot.runs.values()):
        final = State.FAILED if snapshot.execution.error else State.KILLED
        return [SetExecution(final, {"ended_at": snapshot.now})]
    return []  # worker runs are being stopped; their workers report back


def _finish(snapshot: Snapshot, status: State) -> SetExecution:
    changes: dict[str, Any] = {"ended_at": snapshot.now}
    if status in (State.SUCCESS, State.WARNING) and snapshot.flow.outputs:
        context: dict[str, Any] | None = None
        outputs: dict[str, Any] = {}
        for output in snapshot.flow.outputs:
            try:
                context = context or context_for(snapshot)
                outputs[output.id] = render(output.value, context)
            except ExpressionError as exc:
                changes["error"] = mask_text(f"flow output '{output.id}': {exc}", snapshot.seen_secrets)
                return SetExecution(State.FAILED, changes)
        changes["outputs"] = _masked(snapshot, outputs)
    return SetExecution(status, changes)


def _all_waiting_on_pause(snapshot: Snapshot) -> bool:
    open_leaves = [r for r in snapshot.runs.values() if not r.state.terminal and r.kind == "worker"]
    paused = [r for r in snapshot.runs.values() if r.state == State.PAUSED]
    return bool(paused) and not open_leaves


class _Evaluator:
    """One pass over the flow: the status of each task list, and the actions that can be taken now."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.s = snapshot
        self.actions: list[Action] = []
        self.children: dict[tuple[str | None, int | None], dict[str, RunView]] = {}
        for run in snapshot.runs.values():
            self.children.setdefault((run.parent_id, run.iteration), {})[run.task_id] = run

    def block(
        self,
        main: list[Task],
        errors: list[Task] | None,
        finally_: list[Task] | None,
        parent: RunView | None,
        iteration: int | None,
        value: Any,
        *,
        parallel: bool = False,
        limit: int = 0,
        main_status: State | None = None,
    ) -> State:
        """A task list with its ``errors`` and ``finally`` lists."""
        if main_status is None:
            main_status = self.scope(main, parent, iteration, value, parallel=parallel, limit=limit)
        if not main_status.terminal:
            return State.RUNNING
        failed = main_status == State.FAILED
        if failed and errors and not self.scope(errors, parent, iteration, value).terminal:
            return State.RUNNING
        if finally_:
            final = self.scope(finally_, parent, iteration, value)
            if not final.terminal:
                return State.RUNNING
            failed = failed or final == State.FAILED
        return State.FAILED if failed else main_status

    def scope(
        self,
        tasks: list[Task],
        parent: RunView | None,
        iteration: int | None,
        value: Any,
        *,
        parallel: bool = False,
        limit: int = 0,
    ) -> State:
        """One task list, following the ordering rule; RUNNING until every task has ended."""
        from engine.core import dag

        parent_id = parent.id if parent else None
        runs = self.children.get((parent_id, iteration), {})
        order = dag.predecessors([(t.id, t.depends_on) for t in tasks], parallel=parallel)
        status: dict[str, str] = {}
        warning = False
        for task in tasks:
            run = runs.get(task.id)
            if run is not None:
                status[task.id] = self.run_status(task, run)
                warning = (
                    warning
                    or run.state == State.WARNING
                    or (run.state == State.FAILED and self.allowed_to_fail(task, run))
                )
        failed = "failed" in status.values()
        active = sum(1 for v in status.values() if v == "running")
        if not failed:
            for task in tasks:
                if task.id in status or not all(status.get(p) == "ok" for p in order[task.id]):
                    continue
                if limit and active >= limit:
                    break
                status[task.id] = self.create(task, parent, iteration, value)
                active += status[task.id] == "running"
        if "running" in status.values():
            return State.RUNNING
        if "failed" in status.values():
            return State.FAILED
        if len(status) == len(tasks) and all(v == "ok" for v in status.values()):
            return State.WARNING if warning else State.SUCCESS
        return State.RUNNING

    def create(self, task: Task, parent: RunView | None, iteration: int | None, value: Any) -> str:
        s = self.s
        kind = type(task).runs_on
        run = RunView(
            id=s.new_id(),
            task_id=task.id,
            state=State.CREATED,
            kind=kind,
            parent_id=parent.id if parent else None,
            iteration=iteration,
            value=value,
            created_at=s.now,
        )
        try:
            disabled = self.control(task, "disabled", run)
        except ComputedInvalid as exc:
            disabled, run.state, run.error = False, State.FAILED, self._problem(task, exc)
        if disabled:
            run.state = State.SKIPPED
        elif run.state == State.CREATED and task.run_if is not None:
            try:
                run.state = State.CREATED if truthy(render_text(task.run_if, context_for(s, run))) else State.SKIPPED
            except ExpressionError as exc:
                run.state, run.error = (
                    State.FAILED,
                    mask_text(f"task '{task.id}' property 'runIf': {exc}", s.seen_secrets),
                )
        if run.state == State.CREATED and (problem := self._unfit_controls(task, run)):
            run.state, run.error = State.FAILED, problem
        if run.state == State.CREATED:
            if isinstance(task, Pause):
                run.state, run.started_at = State.PAUSED, s.now
                if delay := self.control(task, "delay", run):  # checked just above
                    run.outputs = {"resumeAt": (s.now + delay).isoformat()}
            else:
                run.state = State.QUEUED if kind == "worker" else State.RUNNING
                run.started_at = None if kind == "worker" else s.now
        if run.state.terminal:
            run.ended_at = s.now
        self.actions.append(CreateRun(run))
        if run.state == State.SKIPPED:
            return "ok"
        return "failed" if run.state == State.FAILED and not self.allowed_to_fail(task, run) else "running"

    def control(self, task: Task, name: str, run: RunView) -> Any:
        """Control property ``name`` of ``task`` for ``run``, rendered with the run's context when it is computed
        (a task without a retry policy takes the flow's). Raises ``ComputedInvalid`` naming the property."""
        owner = self.s.flow if name == "retry" and task.retry is None else task
        return _resolved(self.s, (run.id, name), owner, name, run)

    def allowed_to_fail(self, task: Task, run: RunView) -> bool:
        try:
            return bool(self.control(task, "allow_failure", run))
        except ComputedInvalid:  # the run was failed for it when it was created (_unfit_controls)
            return False

    def _unfit_controls(self, task: Task, run: RunView) -> str | None:
        """Why one of the control properties the run will need cannot be rendered, checked before it starts:
        a bad one fails the run at once (with a message naming it), rather than once it has run."""
        names = ["allow_failure"]
        if run.kind == "worker":
            names += ["retry", "timeout", "log_level"]
        if isinstance(task, Pause):
            names.append("delay")
        for name in names:
            try:
                self.control(task, name, run)
            except ComputedInvalid as exc:
                return self._problem(task, exc)
        return None

    def _problem(self, task: Task, exc: Exception) -> str:
        return mask_text(f"task '{task.id}': {exc}", self.s.seen_secrets)

    def _retry(self, task: Task, run: RunView) -> Any:
        """The retry policy of a failed worker run, or None; a computed one that cannot be rendered is noted on
        the run's error (once) and does not retry."""
        try:
            return self.control(task, "retry", run)
        except ComputedInvalid as exc:
            problem = self._problem(task, exc)
            if problem not in (run.error or ""):
                error = f"{run.error}; {problem}" if run.error else problem
                self.actions.append(UpdateRun(run.id, None, {"error": error}))
            return None

    def run_status(self, task: Task, run: RunView) -> str:
        """'ok', 'failed' or 'running', taking the actions the run's state calls for."""
        s, state = self.s, run.state
        if state in (State.SUCCESS, State.WARNING, State.SKIPPED):
            return "ok"
        if state == State.FAILED:
            retry = self._retry(task, run) if run.kind == "worker" else None
            if retry is not None and self._may_retry(retry, run):
                due = s.now + retry.delay(run.attempts)
                self.actions.append(UpdateRun(run.id, State.RETRYING, {"next_attempt_at": due}))
                return "running"
            return "ok" if self.allowed_to_fail(task, run) else "failed"
        if state in (State.KILLED, State.CANCELLED):
            return "failed"
        if state == State.RETRYING:
            if run.next_attempt_at is None or s.now >= run.next_attempt_at:
                self.actions.append(UpdateRun(run.id, State.QUEUED, {"next_attempt_at": None}))
            return "running"
        if state == State.PAUSED:
            resume_at = run.outputs.get("resumeAt")
            if resume_at and s.now >= dt.datetime.fromisoformat(resume_at):
                self.actions.append(UpdateRun(run.id, State.SUCCESS, {"ended_at": s.now}))
            return "running"
        if state == State.RUNNING and run.kind == "executor":
            return self.flowable(task, run)
        return "running"

    def _may_retry(self, retry: Any, run: RunView) -> bool:
        if not run.retryable or run.attempts == 0:  # failed before its first attempt: runIf, a control property
            return False
        if retry.max_attempts is not None and run.attempts >= retry.max_attempts:
            return False
        started = run.created_at or self.s.now
        return retry.max_duration is None or self.s.now - started < retry.max_duration

    def flowable(self, task: Task, run: RunView) -> str:
        try:
            status = self._flowable_status(task, run)
        except (ExpressionError, SubflowRefused, ComputedInvalid) as exc:
            error = self._problem(task, exc)
            self.actions.append(UpdateRun(run.id, State.FAILED, {"error": error, "ended_at": self.s.now}))
            return "ok" if self.allowed_to_fail(task, run) else "failed"
        if status is None or not status.terminal:
            return "running"
        self.actions.append(UpdateRun(run.id, status, {"ended_at": self.s.now}))
        if status == State.FAILED:
            return "ok" if self.allowed_to_fail(task, run) else "failed"
        return "ok"

    def _decided(self, run: RunView, key: str, compute: Callable[[], Any]) -> tuple[bool, Any]:
        """A flowable's decision (switch case, if condition, foreach values) is taken once and kept."""
        if key in run.outputs:
            return True, run.outputs[key]
        self.actions.append(UpdateRun(run.id, None, {"outputs": {**run.outputs, **compute()}}))
        return False, None

    def _flowable_status(self, task: Task, run: RunView) -> State | None:
        context = lambda: context_for(self.s, run)  # noqa: E731 - built only when a decision needs it
        errors, finally_ = getattr(task, "errors", None), getattr(task, "finally_", None)
        if isinstance(task, Sequential):
            return self.block(task.tasks, errors, finally_, run, run.iteration, run.value)
        if isinstance(task, Parallel):
            limit = self.control(task, "concurrency", run)
            return self.block(task.tasks, errors, finally_, run, run.iteration, run.value, parallel=True, limit=limit)
        if isinstance(task, Switch):
            ready, case = self._decided(run, "case", lambda: self._masked_switch(task, context()))
            if not ready:
                return None
            chosen = task.defaults if case == "defaults" else task.cases.get(case) if case is not None else None
            if not chosen:
                return self.block([], errors, finally_, run, run.iteration, run.value, main_status=State.SUCCESS)
            return self.block(chosen, errors, finally_, run, run.iteration, run.value)
        if isinstance(task, If):
            ready, condition = self._decided(
                run, "condition", lambda: {"condition": truthy(render_text(task.condition, context()))}
            )
            if not ready:
                return None
            chosen = task.then if condition else task.else_
            if not chosen:
                return self.block([], errors, finally_, run, run.iteration, run.value, main_status=State.SUCCESS)
            return self.block(chosen, errors, finally_, run, run.iteration, run.value)
        if isinstance(task, ForEach):
            ready, values = self._decided(run, "values", lambda: {"values": _foreach_values(task, context())})
            if not ready:
                return None
            main = self._iterations(task, run, values)
            return self.block([], errors, finally_, run, run.iteration, run.value, main_status=main)
        if isinstance(task, Subflow):
            return self._subflow(task, run, context)
        raise AssertionError(f"no decision rule for executor task type {task.type}")

    def _masked_switch(self, task: Switch, context: dict[str, Any]) -> dict[str, Any]:
        # The value is shown, the case only names a branch of the flow's own source (and must stay as it is
        # for the branch to be found again on the next advance).
        decided = _switch_case(task, context)
        return {**decided, "value": _masked(self.s, decided["value"])}

    def _iterations(self, task: ForEach, run: RunView, values: list[Any]) -> State:
        statuses: list[State] = []
        in_flight, limit = 0, self.control(task, "concurrency_limit", run)
        for index, item in enumerate(values):
            started = (run.id, index) in self.children
            if not started and (State.FAILED in statuses or (limit and in_flight >= limit)):
                statuses.append(State.RUNNING)
                continue
            status = self.scope(task.tasks, run, index, item)
            in_flight += not status.terminal
            statuses.append(status)
        if any(not s.terminal for s in statuses):
            return State.RUNNING
        if State.FAILED in statuses:
            return State.FAILED
        return State.WARNING if State.WARNING in statuses else State.SUCCESS

    def _subflow(self, task: Subflow, run: RunView, context: Callable[[], dict]) -> State | None:
        # Both read before the child starts: a wrong value fails this task without starting anything.
        wait, transmit_failed = self.control(task, "wait", run), self.control(task, "transmit_failed", run)
        if "executionId" not in run.outputs:
            ctx = context()
            namespace, flow_id = _subflow_target(task, ctx)
            caller, reach = self.s.flow.namespace, self.s.subflow_reach
            if not may_start_subflow(caller, namespace, reach):
                raise SubflowRefused(
                    f"a flow of namespace {caller} may not start a subflow in namespace {namespace} "
                    f"(LANNER_SUBFLOW_REACH={reach} allows {subflow_reach_rule(caller, reach)})"
                )
            inputs, labels = render(task.inputs, ctx), render(task.labels, ctx)
            # The child's inputs are stored and shown like any execution's: a secret passed along is masked
            # there too, except in the child's SECRET inputs, which get the value and keep it encrypted.
            self.actions.append(
                StartSubflow(
                    run.id,
                    self.s.new_id(),
                    namespace,
                    flow_id,
                    _masked(self.s, inputs),
                    _masked(self.s, labels),
                    inputs,
                )
            )
            return None
        if not wait:
            return State.SUCCESS
        result = self.s.subflows.get(run.id)
        if result is None or not result[0].terminal:
            return None
        child_state, child_outputs = result
        self.actions.append(
            UpdateRun(run.id, None, {"outputs": {**run.outputs, "state": str(child_state), "outputs": child_outputs}})
        )
        if child_state in (State.SUCCESS, State.WARNING) or not transmit_failed:
            return State.SUCCESS if child_state == State.SUCCESS or not transmit_failed else State.WARNING
        return State.FAILED


_SUBFLOW_TARGET = {"namespace": TypeAdapter(NamespaceName), "flowId": TypeAdapter(FlowId)}


def _subflow_target(task: Subflow, context: dict[str, Any]) -> tuple[str, str]:
    """The namespace and flow id a subflow task starts, either of which may be computed."""
    target = {"namespace": render(task.namespace, context), "flowId": render(task.flow_id, context)}
    for name, value in target.items():
        try:
            _SUBFLOW_TARGET[name].validate_python(value)
        except ValidationError:
            written = task.namespace if name == "namespace" else task.flow_id
            raise ExpressionError(written, f"{name} {value!r} is not a valid {name}") from None
    return target["namespace"], target["flowId"]


def _switch_case(task: Switch, context: dict[str, Any]) -> dict[str, Any]:
    value = render(task.value, context)
    key = str(value).lower() if isinstance(value, bool) else str(value)
    case = key if key in task.cases else "defaults" if task.defaults else None
    return {"value": value, "case": case}


def _foreach_values(task: ForEach, context: dict[str, Any]) -> list[Any]:
    import json

    values = render(task.values, context)
    if isinstance(values, str):
        try:
            values = json.loads(values)
        except json.JSONDecodeError:
            raise ExpressionError(str(task.values), "foreach values are not a list (nor JSON text of one)") from None
    if not isinstance(values, list):
        raise ExpressionError(str(task.values), f"foreach values must be a list, got {type(values).__name__}")
    return values


# --- applying -----------------------------------------------------------------------------------


def apply(snapshot: Snapshot, action: Action) -> None:
    """Change the in-memory snapshot as ``action`` says (checking the transition tables)."""
    if isinstance(action, SetExecution):
        execution = snapshot.execution
        check_transition(EXECUTION_TRANSITIONS, execution.state, action.state, f"execution {execution.id}")
        execution.state = action.state
        for key, value in action.changes.items():
            setattr(execution, key, value)
    elif isinstance(action, CreateRun):
        snapshot.runs[action.run.id] = replace(action.run)
    elif isinstance(action, UpdateRun):
        run = snapshot.runs[action.run_id]
        if action.state is not None:
            check_transition(TASK_RUN_TRANSITIONS, run.state, action.state, f"task run {run.task_id}")
            run.state = action.state
        for key, value in action.changes.items():
            setattr(run, key, value)
    elif isinstance(action, StartSubflow):
        run = snapshot.runs[action.run_id]
        run.outputs = {**run.outputs, "executionId": action.execution_id}


def next_wakeup(snapshot: Snapshot) -> dt.datetime | None:
    """When the execution must be looked at again even if nothing reports: retries, pauses, timeout."""
    times: list[dt.datetime] = []
    for run in snapshot.runs.values():
        if run.state == State.RETRYING and run.next_attempt_at:
            times.append(run.next_attempt_at)
        if run.state == State.PAUSED and run.outputs.get("resumeAt"):
            times.append(dt.datetime.fromisoformat(run.outputs["resumeAt"]))
    execution = snapshot.execution
    # A wrong timeout fails the execution as it advances; a computed one is rendered in time, as everywhere.
    with contextlib.suppress(ComputedInvalid), time_budget():
        timeout = _flow_timeout(snapshot)
        if timeout and execution.started_at and not execution.state.terminal:
            times.append(execution.started_at + timeout)
    return min(times) if times else None
