"""What expressions see while the state machine decides: the context of an execution or of one of its task runs.

``error`` (``{{ error.taskId }}``, ``{{ error.message }}``) names the task run that failed, for ``errors`` handlers;
``execution_summary`` is the same facts, with the execution's state, duration and link, that notifications send.

SECRET values opened here (inputs, a pause's answers, ``secret()``) are recorded on the snapshot, so that what the
executor writes is masked as a worker masks what its task logs and returns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from engine.core.durations import format_duration
from engine.core.expressions import ExpressionError, reads_name
from engine.core.snapshot import RunView, Snapshot, changing_runs
from engine.core.states import State
from engine.flows.computed import ComputedInvalid, resolve
from engine.flows.model import Flow
from engine.tasks.context import mask_value


def context_for(snapshot: Snapshot, run: RunView | None = None) -> dict[str, Any]:
    """What expressions see: inputs, vars, outputs, execution, flow, trigger, taskrun, labels, error, secret(), kv()."""
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
        "error": _error_view(failed_run(snapshot)),
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
    if snapshot.kv is not None:
        context["kv"] = snapshot.kv
    return context


def failed_run(snapshot: Snapshot) -> RunView | None:
    """The task run an ``errors`` handler is about: the last one that failed on its own (a group that failed
    because a task inside it failed is not it), or None while nothing failed."""
    failed = [run for run in changing_runs(snapshot) if run.state == State.FAILED]
    parents = {run.parent_id for run in failed}
    leaves = [run for run in failed if run.id not in parents]
    return max(leaves, key=lambda run: run.ended_at or snapshot.now, default=None)


def _error_view(run: RunView | None) -> dict[str, Any] | None:
    """``error`` in expressions: None while nothing failed (``{{ error.message if error else '' }}``)."""
    if run is None:
        return None
    return {"taskId": run.task_id, "message": run.error or "", "runId": run.id, "value": run.value}


def execution_summary(snapshot: Snapshot, public_url: str) -> dict[str, Any]:
    """What notifications (``summary: true``) say about the execution: flow, id, state, the failed task and its
    error, how long it has run, a link to its page in the studio. Built from the snapshot, no query of its own.

    Its state is FAILED once a task failed (an ``errors`` handler runs while the execution is still RUNNING, and it
    ends FAILED). Errors were masked when their runs stored them; masked again here with the secrets seen so far."""
    execution, flow = snapshot.execution, snapshot.flow
    failed = failed_run(snapshot)
    started = execution.started_at or execution.created_at or snapshot.now
    duration = max((execution.ended_at or snapshot.now) - started, dt.timedelta(0))
    shown = duration if duration < dt.timedelta(seconds=1) else dt.timedelta(seconds=round(duration.total_seconds()))
    state = State.FAILED if failed is not None and not execution.state.terminal else execution.state
    summary = {
        "flow": f"{flow.namespace}.{flow.id}",
        "namespace": flow.namespace,
        "flowId": flow.id,
        "executionId": execution.id,
        "state": str(state),
        "failedTask": failed.task_id if failed else None,
        "error": (failed.error or "") if failed else None,
        "startDate": started.isoformat(),
        "duration": format_duration(shown),
        "seconds": round(duration.total_seconds(), 3),
        "url": f"{public_url.rstrip('/')}/executions/{execution.id}",
    }
    return masked(snapshot, summary)


def flow_reads(flow: Flow, name: str) -> bool:
    """Whether any expression of ``flow`` can read the context's ``name`` (``vars``: only then are the namespaces'
    variables read for its advances and task runs)."""
    if name not in flow._reads:
        flow._reads[name] = reads_name(flow.model_dump(mode="json", by_alias=True, exclude_none=True), name)
    return flow._reads[name]


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


def masked(snapshot: Snapshot, value: Any) -> Any:
    return mask_value(value, snapshot.seen_secrets)


def _outputs_view(snapshot: Snapshot, run: RunView | None) -> dict[str, Any]:
    view: dict[str, Any] = dict(snapshot.pinned_outputs)  # a test of one task: what the others would have given
    kept = snapshot.settled_outputs
    by_task: dict[str, list[RunView]] = {}
    for candidate in changing_runs(snapshot):
        by_task.setdefault(candidate.task_id, []).append(candidate)
    if kept is not None:  # the settled runs alone of their task, as kept; a task with others too is built below
        view.update(kept.outputs)
        for task_id, runs in by_task.items():
            if (lone := kept.runs.get(task_id)) is not None:
                runs.insert(0, lone)
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


def resolved(snapshot: Snapshot, key: tuple[str, str], owner: Any, name: str, run: RunView | None) -> Any:
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
