"""``lanner run`` and ``lanner execution ...``: start a run and follow it, list, inspect and operate executions."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import click

from engine.cli import target
from engine.cli.arguments import local_files, pairs, valid_flow
from engine.cli.client import Client
from engine.cli.output import fail, print_execution, print_execution_row, print_followed, print_log_line, report_run
from engine.core.levels import LEVELS
from engine.core.states import State
from engine.flows.inputs import InputsInvalid
from engine.flows.loader import read_source
from engine.flows.model import Flow
from engine.identity.authz import LOCAL
from engine.runtime.follow import follow
from engine.services import flows
from engine.services.errors import Conflict, NotFound
from engine.services.views import DeployView, ExecutionView
from engine.workspace import uploads

# engine.services.executions and engine.runtime.server import the RQ worker module, which `lanner --help` must not
# load: the commands that read, start or operate executions load them here, on first use.


def _service() -> ModuleType:
    from engine.services import executions

    return executions


def _server_runtime() -> ModuleType:
    from engine.runtime import server

    return server


# --- actions: one function per action, on the local database (the services) or on the server (its API) ---------


def _report_deploy(deployed: DeployView) -> None:
    if deployed.changed:
        click.echo(deployed.message, err=True)


@dataclass(frozen=True)
class RunAsked:
    """What ``lanner run`` was asked to run: a flow, its source when given as a file (text and flow), and the
    inputs and labels of the run."""

    namespace: str
    flow_id: str
    source: tuple[str, Flow] | None
    inputs: dict[str, str]
    labels: dict[str, str]


def run_flow(asked: RunAsked, *, as_json: bool, timeout: float | None, workers: int) -> ExecutionView:
    """Deploy the source first when given and changed, start a run, print it as it goes, and return it once
    ended."""
    if target.is_remote():
        with target.remote() as client:
            return _run_on_server(client, asked, as_json, timeout)
    namespace, flow_id = asked.namespace, asked.flow_id
    with target.connections() as (conn, settings, url):
        if asked.source is not None:
            _report_deploy(flows.save(conn.db, LOCAL, asked.source[0], author=target.author()))
        folder = None
        try:
            declared = flows.current_flow(conn.db, LOCAL, namespace, flow_id)
            # The machine's operator names local files: copied into the flow's uploads, the one place a FILE
            # input may point to, as the API stores what it is sent.
            folder, stored = uploads.store_local(settings.home, namespace, flow_id, local_files(declared, asked.inputs))
            execution_id = (
                _service()
                .start(
                    conn,
                    LOCAL,
                    namespace,
                    flow_id,
                    inputs={**asked.inputs, **stored},
                    labels=asked.labels,
                    trigger={"type": "cli"},
                )
                .id
            )
        except NotFound as exc:
            fail(str(exc))
        except (InputsInvalid, Conflict, uploads.UploadRefused) as exc:
            uploads.discard(folder)
            fail(str(exc))
        from engine.runtime import cluster  # loads RQ: only for a local run

        own_engine = (
            contextlib.nullcontext()
            if cluster.running(conn.redis, cluster.ProcessKind.EXECUTOR)
            else _server_runtime().background_engine(settings, url, workers=workers)
        )
        with own_engine:
            items = follow(conn.db, conn.redis, execution_id, timeout=timeout)
            print_followed(items, execution_id, namespace, flow_id, as_json)
        return _service().read(conn.db, execution_id)


def _run_on_server(client: Client, asked: RunAsked, as_json: bool, timeout: float | None) -> ExecutionView:
    namespace, flow_id, source = asked.namespace, asked.flow_id, asked.source
    if source is not None:
        _report_deploy(DeployView.model_validate(client.deploy(source[0])))
    files = {}
    if asked.inputs:  # which inputs are files to send: the flow as the server has it
        declared = source[1] if source else valid_flow(client.flow_source(namespace, flow_id), f"{namespace}/{flow_id}")
        files = local_files(declared, asked.inputs)
    for name, local in files.items():
        if not local.is_file():
            fail(f"input '{name}': {local} is not a file")
    execution_id = client.trigger(namespace, flow_id, asked.inputs, asked.labels, files)["id"]
    print_followed(client.follow(execution_id, timeout=timeout), execution_id, namespace, flow_id, as_json)
    return ExecutionView.model_validate(client.execution(execution_id))


def list_executions(namespace: str | None, flow_id: str | None, state: str | None, limit: int) -> list[ExecutionView]:
    """The newest executions first (of ``namespace`` and those below it)."""
    if target.is_remote():
        with target.remote() as client:
            found = client.executions(namespace, flow_id, state, limit)
        return [ExecutionView.model_validate(body) for body in found]
    service = _service()
    wanted = service.ExecutionFilter(namespace=namespace, flow_id=flow_id, states=(state.upper(),) if state else ())
    return service.search(target.database(), LOCAL, wanted, size=limit).results


def read_execution(execution_id: str) -> ExecutionView:
    if target.is_remote():
        with target.remote() as client:
            return ExecutionView.model_validate(client.execution(execution_id))
    return _service().get(target.database(), LOCAL, execution_id)


def kill(execution_id: str) -> None:
    if target.is_remote():
        with target.remote() as client:
            client.kill(execution_id)
        return
    with target.connections() as (conn, _, _):
        _service().kill(conn, LOCAL, execution_id, actor=target.cli_actor())


def restart(execution_id: str) -> None:
    with target.connections() as (conn, _, _):
        _service().restart(conn, LOCAL, execution_id, actor=target.cli_actor())


def replay(execution_id: str, from_task: str) -> str:
    with target.connections() as (conn, _, _):
        return _service().replay(conn, LOCAL, execution_id, from_task, actor=target.cli_actor()).id


def pause(execution_id: str) -> None:
    with target.connections() as (conn, _, _):
        _service().pause(conn, LOCAL, execution_id, actor=target.cli_actor())


def resume(execution_id: str, inputs: dict[str, Any]) -> None:
    with target.connections() as (conn, _, _):
        _service().resume(conn, LOCAL, execution_id, inputs, actor=target.cli_actor())


# --- commands ------------------------------------------------------------------------------------


@click.command("run")
@click.argument("flow_target", metavar="TARGET")
@click.option("--input", "-i", "inputs", multiple=True, help="An input as KEY=VALUE (repeatable).")
@click.option("--label", "-l", "labels", multiple=True, help="A label as KEY=VALUE (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document (state, outputs, task runs).")
@click.option("--timeout", type=float, default=None, help="Give up waiting after this many seconds.")
@click.option("--workers", "-n", default=2, show_default=True, help="Workers to start when none are running.")
def run_command(
    flow_target: str,
    inputs: tuple[str, ...],
    labels: tuple[str, ...],
    as_json: bool,
    timeout: float | None,
    workers: int,
) -> None:
    """Run a flow: a FILE (deployed first when it changed) or NAMESPACE/FLOW_ID.

    Streams the logs, then prints the final state and outputs. Exits 0 only on SUCCESS or WARNING.
    Without a running Lanner (no executor on the configured Redis), it runs its own executor and
    workers on the embedded defaults for the length of the run. With --server, the server runs it
    (a FILE is deployed there first).
    """
    path = Path(flow_target)
    source = None
    if path.is_file():
        text = read_source(path)
        source = (text, valid_flow(text, str(path)))
        namespace, flow_id = source[1].namespace, source[1].id
    elif "/" in flow_target:
        namespace, flow_id = flow_target.rsplit("/", 1)
    else:
        fail(f"{flow_target}: no such file, and not NAMESPACE/FLOW_ID")
    asked = RunAsked(namespace, flow_id, source, pairs(inputs, "input"), pairs(labels, "label"))
    ended = run_flow(asked, as_json=as_json, timeout=timeout, workers=workers)
    report_run(ended, as_json)


@click.group()
def execution() -> None:
    """List, inspect and operate executions."""


@execution.command("list")
@click.option("--namespace", "-n", default=None, help="Only this namespace and those below it.")
@click.option("--flow", "flow_id", default=None)
@click.option("--state", default=None, type=click.Choice([s.value for s in State], case_sensitive=False))
@click.option("--limit", default=20, show_default=True)
def execution_list(namespace: str | None, flow_id: str | None, state: str | None, limit: int) -> None:
    """The newest executions first."""
    for found in list_executions(namespace, flow_id, state, limit):
        print_execution_row(found)


@execution.command("show")
@click.argument("execution_id")
def execution_show(execution_id: str) -> None:
    """An execution with its task runs."""
    try:
        found = read_execution(execution_id)
    except NotFound as exc:
        fail(str(exc))
    print_execution(found)


# A refusal (not found, not allowed now) of the commands below is reported by LannerGroup in engine.cli.


@execution.command("kill")
@click.argument("execution_id")
def execution_kill(execution_id: str) -> None:
    """Kill an execution; running task processes are stopped."""
    kill(execution_id)
    click.echo(f"killing {execution_id}")


@execution.command("restart")
@click.argument("execution_id")
def execution_restart(execution_id: str) -> None:
    """Restart a FAILED or KILLED execution from its failed tasks (same execution, new attempts)."""
    restart(execution_id)
    click.echo(f"restarted {execution_id}")


@execution.command("replay")
@click.argument("execution_id")
@click.option("--from", "from_task", required=True, help="The task to run again from.")
def execution_replay(execution_id: str, from_task: str) -> None:
    """Start a new execution that keeps what ran before a chosen task."""
    click.echo(replay(execution_id, from_task))


@execution.command("pause")
@click.argument("execution_id")
def execution_pause(execution_id: str) -> None:
    """Hold an execution: running tasks finish, nothing new starts until it is resumed."""
    pause(execution_id)
    click.echo(f"paused {execution_id}")


@execution.command("resume")
@click.argument("execution_id")
@click.option("--input", "-i", "inputs", multiple=True, help="A resume input as KEY=VALUE.")
def execution_resume(execution_id: str, inputs: tuple[str, ...]) -> None:
    """Resume a paused execution."""
    resume(execution_id, pairs(inputs, "input"))
    click.echo(f"resumed {execution_id}")


@execution.command("logs")
@click.argument("execution_id")
@click.option("--follow", "-f", "follow_lines", is_flag=True, help="Keep printing new lines until it ends.")
@click.option("--task", "task_id", default=None)
@click.option("--level", default=None, type=click.Choice(LEVELS))
@click.option("--after", default=0, help="Only lines after this position (a line id).")
def execution_logs(execution_id: str, follow_lines: bool, task_id: str | None, level: str | None, after: int) -> None:
    """Print an execution's log lines."""
    if follow_lines:
        with target.connections() as (conn, _, _):
            for item in follow(conn.db, conn.redis, execution_id, after=after):
                if not isinstance(item, State) and (not task_id or item.task_id == task_id):
                    print_log_line(item)
        return
    database, service = target.database(), _service()
    try:
        while lines := service.logs(database, LOCAL, execution_id, after=after, task_id=task_id, min_level=level):
            for line in lines:
                print_log_line(line)
            after = lines[-1].id
    except NotFound as exc:
        fail(str(exc))
