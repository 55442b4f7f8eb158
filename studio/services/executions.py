"""Executions for the studio: search, one execution's detail, graph, task runs and logs, and actions.

Each function takes the person asking (``principal``) first and calls ``engine.services.executions``, which
decides access: an execution in a namespace the person may not read is "not found" (``authz.NotVisible``, a
``LookupError``), an action their role does not allow is ``authz.Forbidden``. No SQL here: what remains is
turning the service's views into the rows and panels the pages show."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from engine.core.states import TERMINAL, State
from engine.identity.policy import Action, Principal, can
from engine.services import executions as service
from engine.services.connections import connections, database
from engine.services.errors import Conflict
from engine.services.executions import ExecutionFilter
from engine.services.views import AttemptView, ExecutionView, TaskRunView
from studio.services.editing import graph_of
from studio.services.logs import log_row
from studio.services.runs import keep_input_file, node_run_view, run_view, waiting_text, with_waiting

STATES = [s.value for s in State]


def _row(execution: ExecutionView) -> dict[str, Any]:
    """An execution as the lists show it, typed: the page states turn it into text (``studio.display``)."""
    trigger = execution.trigger or {}
    return {
        "id": execution.id,
        "namespace": execution.namespace,
        "flow": execution.flow_id,
        "revision": execution.flow_revision,
        "state": execution.state,
        "created": execution.created_at,
        "duration_ms": execution.duration_ms,
        "trigger": str(trigger.get("type", "")),
        "labels": dict(execution.labels or {}),
        "running": execution.state not in TERMINAL,
    }


def parse_labels(text: str) -> dict[str, str]:
    """``team:data, env:prod`` as a mapping; a part without ``:`` raises ``ValueError`` naming it."""
    labels = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition(":")
        if not sep or not key.strip():
            raise ValueError(f"label filter '{part}' is not key:value")
        labels[key.strip()] = value.strip()
    return labels


def _day(text: str, *, end: bool = False) -> dt.datetime | None:
    """A ``YYYY-MM-DD`` (UTC) day as the start of that day, or of the next one for an inclusive end."""
    if not text:
        return None
    day = dt.date.fromisoformat(text)
    return dt.datetime.combine(day + dt.timedelta(days=1 if end else 0), dt.time(), tzinfo=dt.UTC)


def require(principal: Principal, action: Action, execution_id: str) -> ExecutionView:
    return service.require(database(), principal, action, execution_id)


def bulk_actions(principal: Principal) -> dict[str, bool]:
    """Which bulk buttons the executions list shows: an action allowed in at least one namespace (grants hold
    below the namespace they are given on, so looking at those namespaces is enough)."""
    places = list(principal.memberships)

    def anywhere(action: Action) -> bool:
        return principal.is_admin or any(can(principal, action, namespace) for namespace in places)

    return {
        "kill": anywhere(Action.KILL),
        "restart": anywhere(Action.RESTART),
        "delete": anywhere(Action.DELETE_EXECUTION),
    }


def search_executions(
    principal: Principal,
    *,
    namespace: str = "",
    flow_id: str = "",
    states: list[str] | None = None,
    labels: str = "",
    text: str = "",
    day_from: str = "",
    day_to: str = "",
    sort: str = "created",
    descending: bool = True,
    page: int = 1,
    size: int = 25,
) -> tuple[list[dict[str, str]], int]:
    """A page of executions as table rows, and how many match. Raises ``ValueError`` for a bad filter."""
    wanted = ExecutionFilter(
        namespace=namespace or None,
        flow_id=flow_id or None,
        states=tuple(states or ()),
        labels=parse_labels(labels),
        text=text.strip() or None,
        start=_day(day_from),
        end=_day(day_to, end=True),
    )
    found = service.search(database(), principal, wanted, sort=sort, descending=descending, page=page, size=size)
    return [_row(r) for r in found.results], found.total


_BULK = {"kill": Action.KILL, "restart": Action.RESTART, "delete": Action.DELETE_EXECUTION}


def act(principal: Principal, action: str, execution_ids: list[str]) -> str:
    """Kill, restart or delete several executions; says what happened, naming the ones that could not.

    Every execution is checked before any is touched: one refused (``Forbidden``/``NotVisible``) stops all."""
    done, failed = 0, []
    for execution_id in execution_ids:
        _may(principal, _BULK[action], execution_id)
    if action == "delete":
        try:
            done = service.delete(database(), principal, execution_ids)
        except Conflict as exc:  # one of them still runs (``ExecutionRunning``)
            return str(exc)
        return f"deleted {done} execution(s)"
    command = {"kill": service.kill, "restart": service.restart}[action]
    for execution_id in execution_ids:
        try:
            command(connections(), principal, execution_id)
            done += 1
        except (ValueError, LookupError) as exc:
            failed.append(f"{execution_id[:8]}: {exc}")
    verb = {"kill": "killed", "restart": "restarted"}[action]
    return f"{verb} {done} execution(s)" + (f"; not {verb}: {'; '.join(failed)}" if failed else "")


def detail(principal: Principal, execution_id: str) -> dict[str, Any]:
    """Everything the execution page shows in its header, with the flow text of the revision that ran, and
    which actions the person may take (the buttons they see; each action checks again)."""
    return detail_with_runs(principal, execution_id)[0]


def detail_with_runs(
    principal: Principal, execution_id: str
) -> tuple[dict[str, Any], dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """``detail``, ``task_runs``'s latest runs and Gantt spans: the header and the nodes read as of one instant."""
    ran = service.ran_flow(database(), principal, execution_id)
    execution = ran.execution
    execution = with_waiting(execution)
    latest, spans = _runs_and_spans(execution.task_runs or [], service.read_attempts(database(), execution_id))
    info = {
        **_row(execution),
        "started": execution.started_at,
        "ended": execution.ended_at,
        "inputs": execution.inputs or {},
        "outputs": execution.outputs or {},
        "error": execution.error or "",
        "sla_breaches": [breach.model_dump() for breach in execution.sla_breaches],
        "held": execution.held,
        "waiting": waiting_text(execution),
        "paused": bool(ran.paused_tasks),
        "source": ran.source,
        "task_ids": ran.task_ids,
        "resume_inputs": [{"id": i.id, "type": i.kind} for i in ran.resume_inputs],
        "may_kill": can(principal, Action.KILL, execution.namespace),
        "may_restart": can(principal, Action.RESTART, execution.namespace),
        "may_resume": can(principal, Action.PAUSE, execution.namespace),
        "may_share": can(principal, Action.SHARE, execution.namespace),
    }
    return info, latest, spans


def graph(source: str, runs: dict[str, dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The canvas of the revision that ran, each node showing its task run's state."""
    nodes, edges = _revision_graph(source)
    return [{**n, **node_run_view(runs.get(n["id"]))} for n in nodes], list(edges)


@functools.lru_cache(maxsize=64)
def _revision_graph(source: str) -> tuple[tuple[dict[str, Any], ...], tuple[dict[str, Any], ...]]:
    # A revision never changes, and a followed execution redraws its canvas twice a second: parse it once.
    nodes, edges, _ = graph_of(source)
    return tuple(nodes), tuple(edges)


def task_runs(principal: Principal, execution_id: str) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """Each task's latest run (state, attempts, duration, error, outputs), and one span per attempt for the Gantt."""
    execution = service.get(database(), principal, execution_id)
    return _runs_and_spans(execution.task_runs or [], service.read_attempts(database(), execution_id))


def runs_and_spans(execution: ExecutionView) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """``task_runs`` of an execution read by a caller that has already decided access (a share link names it)."""
    return _runs_and_spans(execution.task_runs or [], service.read_attempts(database(), execution.id))


def _runs_and_spans(
    runs: list[TaskRunView], attempts: list[AttemptView]
) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    latest: dict[str, dict[str, Any]] = {}
    spans: list[dict[str, Any]] = []
    by_run: dict[str, list[AttemptView]] = {}
    for attempt in attempts:
        by_run.setdefault(attempt.task_run_id, []).append(attempt)
    for run in runs:
        latest[run.task_id] = run_view(run)
        label = run.task_id if run.iteration is None else f"{run.task_id} [{run.iteration}]"
        for attempt in sorted(by_run.get(run.id, []), key=lambda a: a.attempt):
            if attempt.started_at:
                spans.append(
                    {
                        "label": label if attempt.attempt == 1 else f"{label} #{attempt.attempt}",
                        "task_id": run.task_id,
                        "attempt": attempt.attempt,
                        "state": attempt.state,
                        "start": attempt.started_at,
                        "end": attempt.ended_at,
                    }
                )
    return latest, spans


def logs(principal: Principal, execution_id: str, after: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
    return [log_row(line) for line in service.logs(database(), principal, execution_id, after=after, limit=limit)]


def log_rows(execution_id: str, *, after: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
    """``logs`` for a caller that has already decided access (a share link names its execution)."""
    return [log_row(line) for line in service.read_log_lines(database(), execution_id, after=after, limit=limit)]


# Each action asks the service with the studio's connections; the refusal is decided first (``_may``) so that a
# person refused gets that answer even where the studio has no Redis to act with.
def _may(principal: Principal, action: Action, execution_id: str) -> None:
    service.require(database(), principal, action, execution_id)


def replay(principal: Principal, execution_id: str, task_id: str) -> str:
    _may(principal, Action.RESTART, execution_id)
    return service.replay(connections(), principal, execution_id, task_id).id


def resume(principal: Principal, execution_id: str, inputs: dict[str, Any]) -> None:
    _may(principal, Action.PAUSE, execution_id)
    service.resume(connections(), principal, execution_id, inputs)


def store_resume_file(principal: Principal, execution_id: str, field: str, name: str, data: bytes) -> str:
    """A file chosen for a FILE input of a paused task; only someone who may resume the execution may send one."""
    execution = service.require(database(), principal, Action.PAUSE, execution_id)
    return keep_input_file(execution.namespace, execution.flow_id, field, name, data)


def kill(principal: Principal, execution_id: str) -> None:
    _may(principal, Action.KILL, execution_id)
    service.kill(connections(), principal, execution_id)


def restart(principal: Principal, execution_id: str) -> None:
    _may(principal, Action.RESTART, execution_id)
    service.restart(connections(), principal, execution_id)
