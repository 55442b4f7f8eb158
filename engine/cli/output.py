"""What the command line prints: one printer for each of the services' views (``engine/services/views.py``).

A command gets its view from the services (the local database) or from a server's JSON answer, which is the
same view (``View.model_validate(body)``); the printers never know which, so ``lanner`` prints the same lines
and the same JSON either way.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterable, Iterator
from typing import Any, NoReturn, Protocol

import click

from engine.core.states import State
from engine.services.views import ExecutionView, FlowView


def fail(message: str) -> NoReturn:
    """A refusal: one ``error:`` line on stderr and exit status 1."""
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, default=str))


def print_source(source: str) -> None:
    """A flow's YAML text byte for byte (CRLF line ends survive)."""
    sys.stdout.buffer.write(source.encode("utf-8"))
    sys.stdout.flush()


def _when(value: dt.datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


# --- flows ---------------------------------------------------------------------------------------


def flow_summary(flow: FlowView) -> dict[str, Any]:
    """A flow as ``flow list --json`` prints it."""
    updated = _when(flow.updated_at) or ""
    return {
        "namespace": flow.namespace,
        "id": flow.id,
        "revision": flow.revision,
        "disabled": flow.disabled,
        "updated": updated,
    }


def print_flows(flows: list[FlowView], as_json: bool, namespace: str | None) -> None:
    """``flow list``: one line per deployed flow, or a JSON list of their summaries."""
    if as_json:
        print_json([flow_summary(f) for f in flows])
        return
    if not flows:
        click.echo("no flows" + (f" in {namespace}" if namespace else ""))
        return
    width = max(len(f"{f.namespace}/{f.id}") for f in flows)
    for found in flows:
        name = f"{found.namespace}/{found.id}"
        flag = "  (disabled)" if found.disabled else ""
        click.echo(f"{name:<{width}}  rev {found.revision:<4} {_when(found.updated_at) or ''}{flag}")


# --- executions ----------------------------------------------------------------------------------


def print_execution_row(execution: ExecutionView) -> None:
    """One line of ``execution list``."""
    where = f"{execution.namespace}/{execution.flow_id}"
    click.echo(
        f"{execution.id}  {execution.state:<9} {_when(execution.created_at)}  {where}  "
        f"{execution.duration_ms or '-'} ms"
    )


def print_execution(execution: ExecutionView) -> None:
    """``execution show``: the execution, then one line per task run."""
    click.echo(
        f"{execution.id}  {execution.namespace}/{execution.flow_id} rev {execution.flow_revision}  {execution.state}"
    )
    click.echo(f"inputs: {json.dumps(execution.inputs, default=str)}")
    if execution.outputs:
        click.echo(f"outputs: {json.dumps(execution.outputs, default=str)}")
    if execution.error:
        click.echo(f"error: {execution.error}")
    for run in execution.task_runs or []:
        where = f"[{run.iteration}]" if run.iteration is not None else ""
        click.echo(
            f"  {run.task_id + where:<24} {run.state:<9} attempts {run.attempts}  "
            f"{run.duration_ms or '-'} ms  {run.error or ''}"
        )


def run_document(execution: ExecutionView) -> dict[str, Any]:
    """What ``lanner run --json`` prints: the final state, outputs and task runs."""
    return {
        "id": execution.id,
        "namespace": execution.namespace,
        "flowId": execution.flow_id,
        "state": execution.state,
        "outputs": execution.outputs,
        "error": execution.error,
        "taskRuns": [
            {
                "id": r.id,
                "taskId": r.task_id,
                "state": r.state,
                "attempts": r.attempts,
                "iteration": r.iteration,
                "outputs": r.outputs,
                "error": r.error,
            }
            for r in execution.task_runs or []
        ],
    }


def report_run(execution: ExecutionView, as_json: bool) -> NoReturn:
    """Print a finished run's state and outputs, and exit 0 only on SUCCESS or WARNING."""
    state = State(execution.state)
    if as_json:
        print_json(run_document(execution))
    else:
        click.echo(f"{state}  {execution.duration_ms or 0} ms", err=True)
        if execution.error:
            click.echo(f"error: {execution.error}", err=True)
        if execution.outputs:
            print_json(execution.outputs)
    sys.exit(0 if state in (State.SUCCESS, State.WARNING) else 1)


# --- logs ----------------------------------------------------------------------------------------


class LogLineLike(Protocol):
    """A stored ``LogLine`` or a server's ``RemoteLogLine``: the fields a log line is printed from."""

    timestamp: dt.datetime
    level: str
    task_id: str | None
    message: str


def print_log_line(line: LogLineLike) -> None:
    stamp = line.timestamp.strftime("%H:%M:%S.%f")[:-3]
    click.echo(f"{stamp} {line.level:<5} {line.task_id or '-':<16} {line.message}")


def print_followed(
    items: Iterator[LogLineLike | State], execution_id: str, namespace: str, flow_id: str, as_json: bool
) -> None:
    """The log lines and state changes of a run as they come; with ``--json`` only the final document is printed."""
    if not as_json:
        click.echo(f"execution {execution_id} of {namespace}/{flow_id}", err=True)
    try:
        for item in items:
            if as_json:
                continue
            if isinstance(item, State):
                click.echo(f"-- {item}", err=True)
            else:
                print_log_line(item)
    except TimeoutError as exc:
        fail(str(exc))


# --- flow problems -------------------------------------------------------------------------------


def print_problems(problems: Iterable[Any]) -> None:
    """Every problem of invalid flows as FILE:LINE:COLUMN: MESSAGE on stderr."""
    for problem in problems:
        click.echo(str(problem), err=True)


def exit_invalid(problems: Iterable[Any]) -> NoReturn:
    print_problems(problems)
    sys.exit(1)
