"""One pass over the flow graph: the status of each task list, and the actions that can be taken now.

``Evaluator.block`` walks a task list with its ``errors`` and ``finally`` lists, creates the runs whose
predecessors have ended, takes the decisions of flowables (a switch's case, an if's condition, a foreach's
values, a subflow's start) once, and applies the retry policy. ``engine.core.progress.decide`` runs one pass.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError

from engine.core import dag
from engine.core.expression_context import context_for, masked, resolved
from engine.core.expressions import ExpressionError, render, render_text, truthy
from engine.core.snapshot import Action, CreateRun, RunView, Snapshot, StartSubflow, UpdateRun, run_scopes
from engine.core.states import SETTLED, State
from engine.flows.computed import ComputedInvalid
from engine.flows.spec import FlowId, NamespaceName
from engine.identity.policy import may_start_subflow, subflow_reach_rule
from engine.tasks import Task
from engine.tasks.context import mask_text
from engine.tasks.flowable import ForEach, If, Parallel, Pause, Sequential, Subflow, Switch


@dataclass(frozen=True)
class _Plan:
    """A task list's ordering, worked out once per parsed flow."""

    tasks: list[Task]
    waits_for: dict[str, list[str]]  # each task's predecessors in the list
    position: dict[str, int]
    chain: bool  # each task waits for the one before it, and only for it


class SubflowRefused(PermissionError):
    """A subflow task names a namespace outside its flow's reach (``LANNER_SUBFLOW_REACH``)."""


class Evaluator:
    """One pass over the flow: the status of each task list, and the actions that can be taken now."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.s = snapshot
        self.actions: list[Action] = []
        self.children = run_scopes(snapshot)

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
        """One task list, following the ordering rule; RUNNING until every task has ended.

        Its leading tasks whose runs have settled are not walked again (``_settled_prefix``); in a chain (each task
        waits for the one before it), neither are the tasks after the first without a run: a pass costs what is
        in flight, not the length of the list."""
        parent_id = parent.id if parent else None
        runs = self.children.get((parent_id, iteration), {})
        plan = self.plan(tasks, parallel)
        done, warning = self._settled_prefix(tasks, runs, parent_id, iteration)
        status: dict[str, str] = {}
        for index in range(done, len(tasks)):  # by index: skipping the settled prefix costs nothing
            task = tasks[index]
            run = runs.get(task.id)
            if run is None:
                if plan.chain:  # a chain's runs are a prefix of it: none after the first task without one
                    break
                continue
            if run.state in SETTLED:
                status[task.id] = "ok"
                warning = warning or run.state == State.WARNING
                continue
            status[task.id] = self.run_status(task, run)
            warning = warning or (run.state == State.FAILED and self.allowed_to_fail(task, run))
        failed = "failed" in status.values()
        active = sum(1 for v in status.values() if v == "running")
        walked = done + len(status)
        if not failed and walked < len(tasks):
            # In a chain only the task after the last with a run may start; otherwise any whose predecessors ended.
            for index in range(walked if plan.chain else done, walked + 1 if plan.chain else len(tasks)):
                task = tasks[index]
                if task.id in status or not all(
                    plan.position.get(p, len(tasks)) < done or status.get(p) == "ok" for p in plan.waits_for[task.id]
                ):
                    continue
                if limit and active >= limit:
                    break
                status[task.id] = self.create(task, parent, iteration, value)
                active += status[task.id] == "running"
        if "running" in status.values():
            return State.RUNNING
        if "failed" in status.values():
            return State.FAILED
        if done + len(status) == len(tasks) and all(v == "ok" for v in status.values()):
            return State.WARNING if warning else State.SUCCESS
        return State.RUNNING

    def _settled_prefix(
        self, tasks: list[Task], runs: dict[str, RunView], parent_id: str | None, iteration: int | None
    ) -> tuple[int, bool]:
        """How many leading tasks of the list have settled runs, and whether one is WARNING: what the snapshot's
        earlier passes (and earlier snapshots of the execution) found, extended by the runs settled since."""
        if not tasks:
            return 0, False
        key = (parent_id, iteration, tasks[0].id)
        done, warning = self.s.settled_prefixes.get(key, (0, False))
        while done < len(tasks) and (run := runs.get(tasks[done].id)) is not None and run.state in SETTLED:
            warning = warning or run.state == State.WARNING
            done += 1
        self.s.settled_prefixes[key] = (done, warning)
        return done, warning

    def plan(self, tasks: list[Task], parallel: bool) -> _Plan:
        """What each task of the list waits for: worked out once per parsed flow, which never changes (each pass of
        each advance asks again, and a list of thousands of tasks costs milliseconds to work out)."""
        key = (id(tasks), parallel)
        known = self.s.flow._orders.get(key)
        if known is None or known.tasks is not tasks:  # held with the list, so its id is not another list's
            waits_for = dag.predecessors([(t.id, t.depends_on) for t in tasks], parallel=parallel)
            chain = all(waits_for[t.id] == ([tasks[i - 1].id] if i else []) for i, t in enumerate(tasks))
            known = _Plan(tasks, waits_for, {t.id: i for i, t in enumerate(tasks)}, chain)
            self.s.flow._orders[key] = known
        return known

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
        return resolved(self.s, (run.id, name), owner, name, run)

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
        if state in SETTLED:
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
        return {**decided, "value": masked(self.s, decided["value"])}

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
                    masked(self.s, inputs),
                    masked(self.s, labels),
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
    values = render(task.values, context)
    if isinstance(values, str):
        try:
            values = json.loads(values)
        except json.JSONDecodeError:
            raise ExpressionError(str(task.values), "foreach values are not a list (nor JSON text of one)") from None
    if not isinstance(values, list):
        raise ExpressionError(str(task.values), f"foreach values must be a list, got {type(values).__name__}")
    return values
