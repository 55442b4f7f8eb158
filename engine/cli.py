"""The ``lanner`` command line."""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

import click
from sqlalchemy import Engine

from engine import commands, events, uploads
from engine.access import Role
from engine.client import Client, ServerError
from engine.config import load_settings, reset_settings
from engine.connection import connect, redis_url
from engine.follow import follow
from engine.graph import flow_graph
from engine.inputs import InputsInvalid
from engine.levels import LEVELS
from engine.loader import LoadResult, load_flow, read_source
from engine.problems import FlowInvalid
from engine.server import background_engine
from engine.services.execution_start import flow_at
from engine.states import State
from engine.store import executions as store
from engine.store import flows as flow_store
from engine.store.database import open_database, session_scope
from engine.tasks import registry

FLOW_SUFFIXES = (".yml", ".yaml")


def _database() -> Engine:
    _local_only()
    return open_database(load_settings().database_url)


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def _server() -> tuple[str, str | None] | None:
    """The server (URL, token) given by --server/LANNER_SERVER, or None to work on the local database."""
    ctx = click.get_current_context(silent=True)
    settings = (ctx.find_root().obj or {}) if ctx else {}
    server = (settings.get("server") or "").strip()
    return (server, settings.get("token")) if server else None


def _local_only() -> None:
    # Without this, `lanner flow delete` with LANNER_SERVER set would quietly change a local database the
    # person did not mean to touch.
    if _server() is not None:
        _fail("this command works on the local database only; unset LANNER_SERVER (or --server) to use it")


@contextlib.contextmanager
def _remote():
    """A client of the configured server; a refusal of the server is one ``error:`` line and exit 1."""
    server, token = _server()
    try:
        with Client(server, token) as client:
            yield client
    except ServerError as exc:
        for problem in exc.details.get("problems") or []:  # an invalid flow: the same lines as locally
            click.echo(f"{problem['file']}:{problem['line']}:{problem['column']}: {problem['message']}", err=True)
        _fail(str(exc))


def flow_files(paths: tuple[str, ...]) -> list[Path]:
    """Files named on the command line, and the flow files (.yml, .yaml) found under named folders."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix in FLOW_SUFFIXES and p.is_file())
        elif path.is_file():
            found.append(path)
        else:
            _fail(f"{raw}: no such file or folder")
    return found


def _load_all(paths: tuple[str, ...]) -> list[tuple[Path, str, LoadResult]]:
    loaded = []
    for path in flow_files(paths):
        try:
            source = read_source(path)
        except UnicodeDecodeError as exc:
            _fail(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})")
        loaded.append((path, source, load_flow(source, str(path))))
    return loaded


# What a refused action raises: not found (LookupError), not allowed now or invalid (ValueError, e.g.
# InvalidTransition, ExecutionConflict), not allowed to this person (PermissionError).
REFUSALS = (LookupError, ValueError, PermissionError)


class LannerGroup(click.Group):
    """The root command: a refusal from any command is one ``error:`` line on stderr and exit 1, never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except REFUSALS as exc:
            _fail(str(exc).strip("'\"") or type(exc).__name__)


@click.group(cls=LannerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lanner")
@click.option(
    "--server",
    envvar="LANNER_SERVER",
    default=None,
    metavar="URL",
    help="Talk to this Lanner server's API (flow deploy/list/show, run, execution list/show/kill).",
)
@click.option("--token", envvar="LANNER_TOKEN", default=None, help="API token for --server (better: LANNER_TOKEN).")
@click.pass_context
def main(ctx: click.Context, server: str | None, token: str | None) -> None:
    """Lanner: flows declared in YAML, drawn in a visual studio, run by distributed workers.

    Configuration comes from the environment: LANNER_HOME (data folder, default ./.lanner),
    LANNER_DATABASE_URL (default: SQLite in LANNER_HOME) and LANNER_REDIS_URL (default: an
    embedded Redis started under LANNER_HOME).

    With --server URL (or LANNER_SERVER) and a token (LANNER_TOKEN), the commands that support it act
    on that server through its API, with the token's rights; the others refuse to run.
    """
    reset_settings()  # each command reads the environment it starts with (a test runs many in one process)
    ctx.obj = {"server": server, "token": token}


@main.group()
def flow() -> None:
    """Validate, deploy, list, export and inspect flows."""


@flow.command("validate")
@click.argument("paths", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
def validate_command(paths: tuple[str, ...], as_json: bool) -> None:
    """Check flow files (or folders of them); print every problem as FILE:LINE:COLUMN: MESSAGE.

    Exits with status 1 when any flow is invalid.
    """
    loaded = _load_all(paths)
    problems = [p for _, _, result in loaded for p in result.problems]
    if as_json:
        click.echo(json.dumps([p.as_dict() for p in problems], indent=2))
    else:
        for path, _, result in loaded:
            if result.ok:
                click.echo(f"ok  {path} ({result.flow.namespace}/{result.flow.id})")
        for problem in problems:
            click.echo(str(problem), err=True)
        invalid = sum(1 for _, _, r in loaded if not r.ok)
        summary = f"{len(loaded)} flow file(s) checked, {invalid} invalid, {len(problems)} problem(s)"
        click.echo(summary, err=bool(problems))
    if problems:
        sys.exit(1)


@flow.command("deploy")
@click.argument("paths", nargs=-1, required=True)
@click.option("--author", default=None, help="Who deploys (default: the current user).")
def deploy_command(paths: tuple[str, ...], author: str | None) -> None:
    """Save flow files as new revisions. Nothing is saved if any file is invalid.

    A file whose text is unchanged since the flow's current revision creates no revision.
    """
    loaded = _load_all(paths)
    problems = [p for _, _, result in loaded for p in result.problems]
    if problems:
        for problem in problems:
            click.echo(str(problem), err=True)
        _fail(f"nothing deployed: {len(problems)} problem(s)")
    keys = [(r.flow.namespace, r.flow.id) for _, _, r in loaded]
    repeated = {k for k in keys if keys.count(k) > 1}
    if repeated:
        _fail("the same flow is given twice: " + ", ".join(f"{ns}/{fid}" for ns, fid in sorted(repeated)))
    if _server() is not None:  # the server records the token's user as the author
        with _remote() as client:
            for _, source, _ in loaded:
                click.echo(client.deploy(source)["message"])
        return
    who = author or getpass.getuser()
    with session_scope(_database()) as session:
        results = [flow_store.save_flow(session, r.flow, source, author=who) for _, source, r in loaded]
    for result in results:
        click.echo(result.describe())


@flow.command("list")
@click.option("--namespace", "-n", default=None, help="Only this namespace and those below it.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_command(namespace: str | None, as_json: bool) -> None:
    """List deployed flows."""
    if _server() is not None:
        with _remote() as client:
            found = client.flows(namespace)
        rows = [
            {
                "namespace": f["namespace"],
                "id": f["id"],
                "revision": f["revision"],
                "disabled": f["disabled"],
                "updated": dt.datetime.fromisoformat(f["updatedAt"]).isoformat(timespec="seconds"),
            }
            for f in found
        ]
    else:
        with session_scope(_database()) as session:
            records = flow_store.list_flows(session, namespace)
        rows = [
            {
                "namespace": r.namespace,
                "id": r.flow_id,
                "revision": r.revision,
                "disabled": r.disabled,
                "updated": r.updated_at.isoformat(timespec="seconds"),
            }
            for r in records
        ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no flows" + (f" in {namespace}" if namespace else ""))
        return
    width = max(len(f"{r['namespace']}/{r['id']}") for r in rows)
    for row in rows:
        name = f"{row['namespace']}/{row['id']}"
        flag = "  (disabled)" if row["disabled"] else ""
        click.echo(f"{name:<{width}}  rev {row['revision']:<4} {row['updated']}{flag}")


@flow.command("export")
@click.argument("namespace")
@click.argument("directory", type=click.Path(file_okay=False))
def export_command(namespace: str, directory: str) -> None:
    """Write the flows of NAMESPACE (and those below it) to DIRECTORY/<namespace>/<id>.yml, byte for byte."""
    with session_scope(_database()) as session:
        records = flow_store.list_flows(session, namespace)
    if not records:
        _fail(f"no flows in namespace {namespace}")
    for record in records:
        target = Path(directory) / record.namespace / f"{record.flow_id}.yml"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(record.source.encode("utf-8"))
        click.echo(f"wrote {target}")


@flow.command("show")
@click.argument("namespace")
@click.argument("flow_id")
@click.option("--revision", "-r", type=int, default=None, help="A past revision (default: the current one).")
def show_command(namespace: str, flow_id: str, revision: int | None) -> None:
    """Print a flow's YAML source exactly as it was deployed."""
    if _server() is not None:
        with _remote() as client:
            source = client.flow_source(namespace, flow_id, revision)
        sys.stdout.buffer.write(source.encode("utf-8"))
        sys.stdout.flush()
        return
    try:
        with session_scope(_database()) as session:
            if revision is None:
                source = flow_store.get_flow(session, namespace, flow_id).source
            else:
                source = flow_store.get_revision(session, namespace, flow_id, revision).source
    except flow_store.FlowNotFound as exc:
        _fail(str(exc))
    sys.stdout.buffer.write(source.encode("utf-8"))
    sys.stdout.flush()


@flow.command("revisions")
@click.argument("namespace")
@click.argument("flow_id")
def revisions_command(namespace: str, flow_id: str) -> None:
    """List a flow's revisions."""
    with session_scope(_database()) as session:
        revisions = flow_store.list_revisions(session, namespace, flow_id)
    if not revisions:
        _fail(f"no flow {namespace}/{flow_id}")
    for rev in revisions:
        what = "deleted" if rev.deleted else rev.source_sha256[:12]
        click.echo(f"{rev.revision:>4}  {rev.created_at.isoformat(timespec='seconds')}  {rev.author or '-':<12} {what}")


@flow.command("delete")
@click.argument("namespace")
@click.argument("flow_id")
def delete_command(namespace: str, flow_id: str) -> None:
    """Delete a flow (its revisions are kept)."""
    try:
        with session_scope(_database()) as session:
            flow_store.delete_flow(session, namespace, flow_id, author=getpass.getuser())
    except flow_store.FlowNotFound as exc:
        _fail(str(exc))
    click.echo(f"deleted {namespace}/{flow_id}")


@flow.command("graph")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def graph_command(file: str) -> None:
    """Print a flow file's graph (nodes and edges) as JSON."""
    result = load_flow(read_source(Path(file)), file)
    if not result.ok:
        raise_invalid(result)
    click.echo(json.dumps(flow_graph(result.flow).as_dict(), indent=2))


def raise_invalid(result: LoadResult) -> None:
    for problem in FlowInvalid(result.problems).problems:
        click.echo(str(problem), err=True)
    sys.exit(1)


@main.group()
def task() -> None:
    """Task types known to this installation."""


@task.command("types")
def task_types_command() -> None:
    """List task types by palette group."""
    for name in registry.names():
        cls = registry.get(name)
        click.echo(f"{name:<14} {cls.group.value:<13} {cls.summary}")


@task.command("schema")
@click.argument("type_name", required=False)
def task_schema_command(type_name: str | None) -> None:
    """Print the JSON Schema of one task type, or of all of them."""
    if type_name is None:
        click.echo(json.dumps(registry.catalog(), indent=2))
        return
    if registry.get(type_name) is None:
        suggestion = registry.suggest(type_name)
        _fail(f"unknown task type '{type_name}'" + (f" (did you mean '{suggestion}'?)" if suggestion else ""))
    click.echo(json.dumps(registry.json_schema(type_name), indent=2))


def _pairs(values: tuple[str, ...], what: str) -> dict[str, str]:
    pairs = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            _fail(f"{what} '{item}' is not KEY=VALUE")
        pairs[key] = value
    return pairs


@contextlib.contextmanager
def _connections():
    """Database and Redis for a command (an embedded Redis is reused if one runs, else started)."""
    _local_only()
    settings = load_settings()
    with redis_url(settings) as url:
        yield commands.Connections(open_database(settings.database_url), connect(url)), settings, url


def _print_line(line) -> None:
    stamp = line.timestamp.strftime("%H:%M:%S.%f")[:-3]
    click.echo(f"{stamp} {line.level:<5} {line.task_id or '-':<16} {line.message}", err=False)


@main.command("run")
@click.argument("target")
@click.option("--input", "-i", "inputs", multiple=True, help="An input as KEY=VALUE (repeatable).")
@click.option("--label", "-l", "labels", multiple=True, help="A label as KEY=VALUE (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document (state, outputs, task runs).")
@click.option("--timeout", type=float, default=None, help="Give up waiting after this many seconds.")
@click.option("--workers", "-n", default=2, show_default=True, help="Workers to start when none are running.")
def run_command(
    target: str, inputs: tuple[str, ...], labels: tuple[str, ...], as_json: bool, timeout: float | None, workers: int
) -> None:
    """Run a flow: a FILE (deployed first when it changed) or NAMESPACE/FLOW_ID.

    Streams the logs, then prints the final state and outputs. Exits 0 only on SUCCESS or WARNING.
    Without a running Lanner (no executor on the configured Redis), it runs its own executor and
    workers on the embedded defaults for the length of the run. With --server, the server runs it
    (a FILE is deployed there first).
    """
    path = Path(target)
    if path.is_file():
        result = load_flow(read_source(path), str(path))
        if not result.ok:
            raise_invalid(result)
        namespace, flow_id = result.flow.namespace, result.flow.id
    elif "/" in target:
        namespace, flow_id = target.rsplit("/", 1)
    else:
        _fail(f"{target}: no such file, and not NAMESPACE/FLOW_ID")
    given_inputs, given_labels = _pairs(inputs, "input"), _pairs(labels, "label")
    if _server() is not None:
        with _remote() as client:
            if path.is_file():
                deployed = client.deploy(read_source(path))
                if deployed["status"] != flow_store.DeployStatus.UNCHANGED.value:
                    click.echo(deployed["message"], err=True)
            files = {}
            if given_inputs:
                declared = result.flow if path.is_file() else _remote_flow(client, namespace, flow_id)
                files = _local_files(declared, given_inputs)
            for name, local in files.items():
                if not local.is_file():
                    _fail(f"input '{name}': {local} is not a file")
            execution_id = client.trigger(namespace, flow_id, given_inputs, given_labels, files)["id"]
            _follow_run(client.follow(execution_id, timeout=timeout), execution_id, namespace, flow_id, as_json)
            _report_run(_remote_document(client.execution(execution_id)), as_json)
    with _connections() as (conn, settings, url):
        if path.is_file():
            with session_scope(conn.db) as session:
                deployed = flow_store.save_flow(session, result.flow, read_source(path), author=getpass.getuser())
            if deployed.status is not flow_store.DeployStatus.UNCHANGED:
                click.echo(deployed.describe(), err=True)
        folder = None
        try:
            with session_scope(conn.db) as session:
                declared = flow_at(
                    session, namespace, flow_id, flow_store.get_flow(session, namespace, flow_id).revision
                )
            # The machine's operator names local files: copied into the flow's uploads, the one place a FILE
            # input may point to, as the API stores what it is sent.
            folder, stored = uploads.store_local(
                settings.home, namespace, flow_id, _local_files(declared, given_inputs)
            )
            execution_id = commands.start_execution(
                conn,
                namespace,
                flow_id,
                inputs={**given_inputs, **stored},
                labels=given_labels,
                trigger={"type": "cli"},
            )
        except flow_store.FlowNotFound as exc:
            _fail(str(exc))
        except (InputsInvalid, store.ExecutionConflict, uploads.UploadRefused) as exc:
            uploads.discard(folder)
            _fail(str(exc))
        local = (
            contextlib.nullcontext()
            if events.executors_running(conn.redis)
            else background_engine(settings, url, workers=workers)
        )
        with local:
            items = follow(conn.db, conn.redis, execution_id, timeout=timeout)
            _follow_run(items, execution_id, namespace, flow_id, as_json)
        with session_scope(conn.db) as session:
            execution = store.get_execution(session, execution_id)
            runs = store.task_runs(session, execution_id)
        document = {
            "id": execution.id,
            "namespace": namespace,
            "flowId": flow_id,
            "state": execution.state,
            "outputs": execution.outputs,
            "error": execution.error,
            "taskRuns": [
                {
                    "id": r.id,
                    "taskId": r.task_id,
                    "state": r.state,
                    "attempts": r.attempt_count,
                    "iteration": r.iteration,
                    "outputs": r.outputs,
                    "error": r.error,
                }
                for r in runs
            ],
        }
    _report_run(document, as_json, execution.duration_ms)


def _local_files(flow, given: dict[str, str]) -> dict[str, Path]:
    """The local files named for the flow's FILE inputs (``-i data=./local.csv``)."""
    return {i.id: Path(given[i.id]).expanduser() for i in flow.inputs if i.kind == "FILE" and given.get(i.id)}


def _remote_flow(client: Client, namespace: str, flow_id: str):
    """A deployed flow as the server has it (to know which inputs are files to send)."""
    result = load_flow(client.flow_source(namespace, flow_id), f"{namespace}/{flow_id}")
    if not result.ok:
        raise_invalid(result)
    return result.flow


def _follow_run(items, execution_id: str, namespace: str, flow_id: str, as_json: bool) -> None:
    """Print the log lines and state changes of a run as they come (local or from a server's live stream)."""
    if not as_json:
        click.echo(f"execution {execution_id} of {namespace}/{flow_id}", err=True)
    try:
        for item in items:
            if as_json:
                continue
            if isinstance(item, State):
                click.echo(f"-- {item}", err=True)
            else:
                _print_line(item)
    except TimeoutError as exc:
        _fail(str(exc))


def _remote_document(found: dict) -> dict:
    """A server's execution in the shape ``lanner run --json`` prints locally (same keys, either way)."""
    runs = [
        {key: r.get(key) for key in ("id", "taskId", "state", "attempts", "iteration", "outputs", "error")}
        for r in found.get("taskRuns") or []
    ]
    keys = ("id", "namespace", "flowId", "state", "outputs", "error")
    return {**{key: found.get(key) for key in keys}, "taskRuns": runs, "durationMs": found.get("durationMs")}


def _report_run(document: dict, as_json: bool, duration_ms: int | None = None) -> None:
    """Print a finished run's state and outputs, and exit 0 only on SUCCESS or WARNING."""
    duration_ms = document.pop("durationMs", duration_ms)
    state = State(document["state"])
    if as_json:
        click.echo(json.dumps(document, indent=2, default=str))
    else:
        click.echo(f"{state}  {duration_ms or 0} ms", err=True)
        if document["error"]:
            click.echo(f"error: {document['error']}", err=True)
        if document["outputs"]:
            click.echo(json.dumps(document["outputs"], indent=2, default=str))
    sys.exit(0 if state in (State.SUCCESS, State.WARNING) else 1)


@main.group()
def execution() -> None:
    """List, inspect and operate executions."""


@execution.command("list")
@click.option("--namespace", "-n", default=None)
@click.option("--flow", "flow_id", default=None)
@click.option("--state", default=None, type=click.Choice([s.value for s in State], case_sensitive=False))
@click.option("--limit", default=20, show_default=True)
def execution_list(namespace: str | None, flow_id: str | None, state: str | None, limit: int) -> None:
    """The newest executions first."""
    from sqlmodel import col, select

    from engine.store.tables import Execution

    if _server() is not None:
        with _remote() as client:
            for found in client.executions(namespace, flow_id, state, limit):
                when = dt.datetime.fromisoformat(found["createdAt"]).isoformat(timespec="seconds")
                where = f"{found['namespace']}/{found['flowId']}"
                click.echo(f"{found['id']}  {found['state']:<9} {when}  {where}  {found['durationMs'] or '-'} ms")
        return
    with session_scope(_database()) as session:
        statement = select(Execution).order_by(col(Execution.created_at).desc()).limit(limit)
        if namespace:
            statement = statement.where(Execution.namespace == namespace)
        if flow_id:
            statement = statement.where(Execution.flow_id == flow_id)
        if state:
            statement = statement.where(Execution.state == state.upper())
        rows = list(session.exec(statement))
    for row in rows:
        when = row.created_at.isoformat(timespec="seconds")
        click.echo(f"{row.id}  {row.state:<9} {when}  {row.namespace}/{row.flow_id}  {row.duration_ms or '-'} ms")


@execution.command("show")
@click.argument("execution_id")
def execution_show(execution_id: str) -> None:
    """An execution with its task runs."""
    if _server() is not None:
        with _remote() as client:
            _show_remote(client.execution(execution_id))
        return
    with session_scope(_database()) as session:
        try:
            row = store.get_execution(session, execution_id)
        except store.ExecutionNotFound as exc:
            _fail(str(exc))
        runs = store.task_runs(session, execution_id)
    click.echo(f"{row.id}  {row.namespace}/{row.flow_id} rev {row.flow_revision}  {row.state}")
    click.echo(f"inputs: {json.dumps(row.inputs, default=str)}")
    if row.outputs:
        click.echo(f"outputs: {json.dumps(row.outputs, default=str)}")
    if row.error:
        click.echo(f"error: {row.error}")
    for run in runs:
        where = f"[{run.iteration}]" if run.iteration is not None else ""
        click.echo(
            f"  {run.task_id + where:<24} {run.state:<9} attempts {run.attempt_count}  "
            f"{run.duration_ms or '-'} ms  {run.error or ''}"
        )


def _show_remote(found: dict) -> None:
    """``execution show`` for an execution read from a server: the same lines as for a local one."""
    click.echo(f"{found['id']}  {found['namespace']}/{found['flowId']} rev {found['flowRevision']}  {found['state']}")
    click.echo(f"inputs: {json.dumps(found['inputs'], default=str)}")
    if found["outputs"]:
        click.echo(f"outputs: {json.dumps(found['outputs'], default=str)}")
    if found["error"]:
        click.echo(f"error: {found['error']}")
    for run in found.get("taskRuns") or []:
        where = f"[{run['iteration']}]" if run["iteration"] is not None else ""
        click.echo(
            f"  {run['taskId'] + where:<24} {run['state']:<9} attempts {run['attempts']}  "
            f"{run['durationMs'] or '-'} ms  {run['error'] or ''}"
        )


def _operate(action, *args) -> None:
    with _connections() as (conn, _, _):
        return action(conn, *args, actor=_cli_actor())  # a refusal is reported by LannerGroup


@execution.command("kill")
@click.argument("execution_id")
def execution_kill(execution_id: str) -> None:
    """Kill an execution; running task processes are stopped."""
    if _server() is not None:
        with _remote() as client:
            client.kill(execution_id)
    else:
        _operate(commands.kill_execution, execution_id)
    click.echo(f"killing {execution_id}")


@execution.command("restart")
@click.argument("execution_id")
def execution_restart(execution_id: str) -> None:
    """Restart a FAILED or KILLED execution from its failed tasks (same execution, new attempts)."""
    _operate(commands.restart_execution, execution_id)
    click.echo(f"restarted {execution_id}")


@execution.command("replay")
@click.argument("execution_id")
@click.option("--from", "from_task", required=True, help="The task to run again from.")
def execution_replay(execution_id: str, from_task: str) -> None:
    """Start a new execution that keeps what ran before a chosen task."""
    new_id = _operate(commands.replay_execution, execution_id, from_task)
    click.echo(new_id)


@execution.command("pause")
@click.argument("execution_id")
def execution_pause(execution_id: str) -> None:
    """Hold an execution: running tasks finish, nothing new starts until it is resumed."""
    _operate(commands.pause_execution, execution_id)
    click.echo(f"paused {execution_id}")


@execution.command("resume")
@click.argument("execution_id")
@click.option("--input", "-i", "inputs", multiple=True, help="A resume input as KEY=VALUE.")
def execution_resume(execution_id: str, inputs: tuple[str, ...]) -> None:
    """Resume a paused execution."""
    _operate(commands.resume_execution, execution_id, _pairs(inputs, "input"))
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
        with _connections() as (conn, _, _):
            for item in follow(conn.db, conn.redis, execution_id, after=after):
                if not isinstance(item, State) and (not task_id or item.task_id == task_id):
                    _print_line(item)
        return
    from engine.store.logs import read_logs

    with session_scope(_database()) as session:
        try:
            store.get_execution(session, execution_id)
        except store.ExecutionNotFound as exc:
            _fail(str(exc))
        while lines := read_logs(session, execution_id, after=after, task_id=task_id, min_level=level):
            for line in lines:
                _print_line(line)
            after = lines[-1].id


def _namespace(namespace: str) -> str:
    import re

    from engine.spec import NAMESPACE_PATTERN

    if not re.fullmatch(NAMESPACE_PATTERN, namespace) or len(namespace) > 150:
        _fail(f"invalid namespace {namespace!r}")
    return namespace


def _require_secret_key() -> None:
    """Refuse to start a process that runs flows when namespace secrets could not be decrypted."""
    from engine.crypto import SecretKeyMissing, load_key

    try:
        load_key()  # in development this also creates LANNER_HOME/secret.key before any child reads it
    except SecretKeyMissing as exc:
        _fail(str(exc))


@main.group()
def secret() -> None:
    """Namespace secrets, read by secret('NAME'); stored encrypted with LANNER_SECRET_KEY."""


@secret.command("set")
@click.argument("namespace")
@click.argument("name")
@click.option("--value-stdin", is_flag=True, help="Read the value from standard input (one trailing newline dropped).")
def secret_set(namespace: str, name: str, value_stdin: bool) -> None:
    """Set a secret on a namespace (its flows and those of the namespaces below it read it).

    The value is asked for without echo; it is never an argument, so it stays out of shell history.
    """
    from engine import secrets

    if value_stdin or not sys.stdin.isatty():
        value = sys.stdin.read()
        value = value[:-1] if value.endswith("\n") else value
    else:
        value = click.prompt(f"value of {name}", hide_input=True, confirmation_prompt=True)
    if not value:
        _fail("empty value")
    try:
        with session_scope(_database()) as session:
            secrets.set_secret(session, _namespace(namespace), name, value, actor=getpass.getuser())
    except ValueError as exc:
        _fail(str(exc))
    click.echo(f"secret {name} set on {namespace}")


@secret.command("list")
@click.argument("namespace")
def secret_list(namespace: str) -> None:
    """Names of the secrets set on a namespace (never their values)."""
    from engine import secrets

    with session_scope(_database()) as session:
        for name in secrets.list_secret_names(session, namespace):
            click.echo(name)


@secret.command("delete")
@click.argument("namespace")
@click.argument("name")
def secret_delete(namespace: str, name: str) -> None:
    from engine import secrets

    with session_scope(_database()) as session:
        if not secrets.delete_secret(session, namespace, name, actor=_cli_actor()):
            _fail(f"no secret {name} on {namespace}")
    click.echo(f"secret {name} deleted from {namespace}")


@secret.command("rotate")
@click.option("--old-key-stdin", is_flag=True, help="Read the old key from standard input instead of asking.")
def secret_rotate(old_key_stdin: bool) -> None:
    """Re-encrypt every stored secret with the key now in LANNER_SECRET_KEY.

    Give the key they were encrypted with when asked (or on stdin). Then set the new key on every server,
    executor and worker.
    """
    from engine import secrets
    from engine.crypto import SecretKeyMissing, key_from_text, load_key

    try:
        new = load_key()
    except SecretKeyMissing as exc:
        _fail(str(exc))
    if old_key_stdin or not sys.stdin.isatty():
        old_text = sys.stdin.readline().strip()
    else:
        old_text = click.prompt("old key", hide_input=True)
    old = key_from_text(old_text)
    if old.key_id == new.key_id:
        _fail("the old key is the key in LANNER_SECRET_KEY: set the new key there first")
    try:
        with session_scope(_database()) as session:
            count = secrets.rotate_key(session, old, new, actor=_cli_actor())
    except ValueError as exc:
        _fail(str(exc))
    click.echo(f"{count} secret(s) re-encrypted from key {old.key_id} to key {new.key_id}")


@secret.command("keygen")
def secret_keygen() -> None:
    """Print a new random key for LANNER_SECRET_KEY."""
    from engine.crypto import generate_key

    click.echo(generate_key())


@main.group()
def variable() -> None:
    """Namespace variables, read by flows as vars.NAME (a flow's own variables override them)."""


@variable.command("set")
@click.argument("namespace")
@click.argument("name")
@click.argument("value")
def variable_set(namespace: str, name: str, value: str) -> None:
    """Set a variable; VALUE is read as a YAML scalar (42 is a number, true a boolean, 'x' a text)."""
    from engine import variables

    try:
        parsed = variables.parse_value(value)
    except ValueError:
        _fail("VALUE must be a scalar (text, number, boolean or null)")
    try:
        variables.check_name(name)
    except ValueError as exc:
        _fail(str(exc))
    with session_scope(_database()) as session:
        variables.set_variable(session, _namespace(namespace), name, parsed, actor=getpass.getuser())
    click.echo(f"variable {name} set on {namespace}")


@variable.command("list")
@click.argument("namespace")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def variable_list(namespace: str, as_json: bool) -> None:
    """Variables set on a namespace itself (not those it inherits)."""
    from engine import variables

    with session_scope(_database()) as session:
        rows = {row.name: row.value for row in variables.list_variables(session, namespace)}
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    for name, value in rows.items():
        click.echo(f"{name}={json.dumps(value, default=str)}")


@variable.command("delete")
@click.argument("namespace")
@click.argument("name")
def variable_delete(namespace: str, name: str) -> None:
    from engine import variables

    with session_scope(_database()) as session:
        if not variables.delete_variable(session, namespace, name, actor=_cli_actor()):
            _fail(f"no variable {name} on {namespace}")
    click.echo(f"variable {name} deleted from {namespace}")


@main.command("worker")
@click.option("--workers", "-n", default=1, show_default=True, help="Worker processes to run.")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def worker_command(workers: int, burst: bool) -> None:
    """Run task workers (RQ) on LANNER_REDIS_URL (or the embedded Redis)."""
    from engine.worker import work

    _require_secret_key()
    settings = load_settings()
    open_database(settings.database_url)
    with redis_url(settings) as url:
        work(url, workers, burst=burst)


@main.command("executor")
def executor_command() -> None:
    """Run an executor: it advances executions as their tasks report."""
    from engine.server import run_executor

    _require_secret_key()
    settings = load_settings()
    with redis_url(settings) as url:
        run_executor(settings, url)


@main.command("scheduler")
def scheduler_command() -> None:
    """Run the scheduler: schedule triggers and backfills (safe to run more than one)."""
    from engine.server import run_scheduler

    settings = load_settings()
    open_database(settings.database_url)
    with redis_url(settings) as url:
        run_scheduler(settings, url)


@main.group()
def trigger() -> None:
    """List, enable, disable and backfill triggers."""


def _flow_ref(ref: str) -> tuple[str, str]:
    namespace, sep, flow_id = ref.rpartition("/")
    if not sep or not namespace or not flow_id:
        _fail(f"'{ref}' is not NAMESPACE/FLOW_ID")
    return namespace, flow_id


@trigger.command("list")
@click.option("--namespace", "-n", default=None)
def trigger_list(namespace: str | None) -> None:
    """Every trigger with its flow, type, state, next and last fire."""
    from engine.store.tables import TriggerState

    with session_scope(_database()) as session:
        for record in flow_store.list_flows(session, namespace):
            flow = flow_at(session, record.namespace, record.flow_id, record.revision, record.source)
            for declared in flow.triggers:
                state = session.get(TriggerState, (record.namespace, record.flow_id, declared.id))
                enabled = not declared.disabled and not flow.disabled and (state is None or state.enabled)
                nxt = state.next_fire_at.isoformat(timespec="seconds") if state and state.next_fire_at else "-"
                last = state.last_fire_at.isoformat(timespec="seconds") if state and state.last_fire_at else "-"
                backfill = (state.data.get("backfill") if state else None) or {}
                progress = f"  backfill {backfill.get('fired', 0)}/{backfill.get('total', 0)}" if backfill else ""
                click.echo(
                    f"{record.namespace}/{record.flow_id}  {declared.id:<12} {declared.type:<8} "
                    f"{'enabled' if enabled else 'disabled':<8}  next {nxt}  last {last}{progress}"
                )


@trigger.command("enable")
@click.argument("flow_ref")
@click.argument("trigger_id")
def trigger_enable(flow_ref: str, trigger_id: str) -> None:
    """Enable a trigger."""
    _set_enabled(flow_ref, trigger_id, True)


@trigger.command("disable")
@click.argument("flow_ref")
@click.argument("trigger_id")
def trigger_disable(flow_ref: str, trigger_id: str) -> None:
    """Disable a trigger (a disabled schedule does not catch up when enabled again)."""
    _set_enabled(flow_ref, trigger_id, False)


def _set_enabled(flow_ref: str, trigger_id: str, enabled: bool) -> None:
    from engine.scheduler import set_trigger_enabled

    namespace, flow_id = _flow_ref(flow_ref)
    try:
        set_trigger_enabled(_database(), namespace, flow_id, trigger_id, enabled, actor=_cli_actor())
    except LookupError as exc:
        _fail(str(exc).strip("'\""))
    click.echo(f"{'enabled' if enabled else 'disabled'} {namespace}/{flow_id} {trigger_id}")


@trigger.command("backfill")
@click.argument("flow_ref")
@click.argument("trigger_id")
@click.option("--from", "start", default=None, help="First slot (ISO date-time, UTC unless an offset is given).")
@click.option("--to", "end", default=None, help="Last slot (inclusive).")
@click.option("--input", "-i", "inputs", multiple=True, help="An input as KEY=VALUE.")
@click.option("--pause", is_flag=True, help="Pause the running backfill.")
@click.option("--resume", is_flag=True, help="Resume a paused backfill.")
@click.option("--cancel", is_flag=True, help="Cancel the backfill.")
def trigger_backfill(
    flow_ref: str,
    trigger_id: str,
    start: str | None,
    end: str | None,
    inputs: tuple[str, ...],
    pause: bool,
    resume: bool,
    cancel: bool,
) -> None:
    """Run a schedule over a past range (the scheduler does it); or pause, resume, cancel it, or show it."""
    import datetime as dt

    from engine.scheduler import set_backfill_flag, start_backfill

    namespace, flow_id = _flow_ref(flow_ref)

    def when(text: str) -> dt.datetime:
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            _fail(f"'{text}' is not an ISO date-time")
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)

    try:
        if pause or resume or cancel:
            flags = {"paused": True} if pause else {"paused": False} if resume else {"cancelled": True}
            backfill = set_backfill_flag(_database(), namespace, flow_id, trigger_id, **flags)
        elif start and end:
            backfill = start_backfill(
                _database(),
                namespace,
                flow_id,
                trigger_id,
                when(start),
                when(end),
                _pairs(inputs, "input"),
                actor=_cli_actor(),
            )
        else:
            _fail("give --from and --to, or --pause, --resume or --cancel")
    except (LookupError, ValueError) as exc:
        _fail(str(exc).strip("'\""))
    click.echo(json.dumps(backfill, indent=2))


def _cli_actor() -> str:
    """Who the audit trail names for a command: the machine account that ran it (":" keeps it apart from users)."""
    return f"cli:{getpass.getuser()}"[:64]


@main.group()
def user() -> None:
    """Create users and give them roles on namespaces (a role on acme also holds on acme.sales)."""


@user.command("create")
@click.argument("username")
@click.option("--admin", is_flag=True, help="A global administrator: everything, everywhere, and user management.")
@click.option("--display-name", default=None, help="The name the studio shows.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
def user_create(username: str, admin: bool, display_name: str | None, password_stdin: bool) -> None:
    """Create a user; asks for the password twice unless --password-stdin is given."""
    from engine import users

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with session_scope(_database()) as session:
            users.create_user(
                session, username, password, actor=_cli_actor(), display_name=display_name, is_admin=admin
            )
    except users.UserError as exc:
        _fail(str(exc))
    click.echo(f"created {'administrator' if admin else 'user'} {username}")


@user.command("list")
def user_list() -> None:
    """Every user with their roles."""
    from engine import users

    with session_scope(_database()) as session:
        rows = [(u, users.memberships(session, u)) for u in users.list_users(session)]
    if not rows:
        click.echo("no users")
    for account, roles in rows:
        flags = ("admin " if account.is_admin else "") + ("disabled " if account.disabled else "")
        last = account.last_login_at.isoformat(timespec="seconds") if account.last_login_at else "never"
        granted = ", ".join(f"{namespace}={role}" for namespace, role in sorted(roles.items())) or "-"
        click.echo(f"{account.username:<20} {flags:<15} last login {last:<25} {granted}")


def _user_named(session, username: str):
    from engine import users

    try:
        return users.get_user(session, username)
    except users.UserNotFound as exc:
        _fail(str(exc).strip("'\""))


@user.command("grant")
@click.argument("username")
@click.argument("namespace")
@click.argument("role", type=click.Choice([r.value for r in Role]))
def user_grant(username: str, namespace: str, role: str) -> None:
    """Give USERNAME ROLE on NAMESPACE and the namespaces below it (replaces their role there)."""
    from engine import users

    try:
        with session_scope(_database()) as session:
            users.grant(session, _user_named(session, username), namespace, role, actor=_cli_actor())
    except users.UserError as exc:
        _fail(str(exc))
    click.echo(f"{username} is {role} on {namespace}")


@user.command("revoke")
@click.argument("username")
@click.argument("namespace")
def user_revoke(username: str, namespace: str) -> None:
    """Take away USERNAME's role on exactly NAMESPACE (roles on its parents still apply)."""
    from engine import users

    with session_scope(_database()) as session:
        revoked = users.revoke(session, _user_named(session, username), namespace, actor=_cli_actor())
    if not revoked:
        _fail(f"{username} has no role on {namespace}")
    click.echo(f"{username} has no more role on {namespace}")


@user.command("disable")
@click.argument("username")
def user_disable(username: str) -> None:
    """Stop USERNAME signing in and their tokens working (nothing is deleted)."""
    _set_disabled(username, True)


@user.command("enable")
@click.argument("username")
def user_enable(username: str) -> None:
    """Let a disabled user sign in again."""
    _set_disabled(username, False)


def _set_disabled(username: str, disabled: bool) -> None:
    from engine import users

    with session_scope(_database()) as session:
        users.set_disabled(session, _user_named(session, username), disabled, actor=_cli_actor())
    click.echo(f"{'disabled' if disabled else 'enabled'} {username}")


@main.group()
def token() -> None:
    """API tokens: what programs send instead of a password (Authorization: Bearer lnr_...)."""


@token.command("create")
@click.argument("username")
@click.argument("name")
@click.option("--expires", default=None, help="Lifetime, like 30d or 12h (default: until revoked).")
def token_create(username: str, name: str, expires: str | None) -> None:
    """Make a token for USERNAME and print it: it is shown this once only."""
    from engine import tokens
    from engine.durations import parse_duration
    from engine.store.tables import utcnow

    try:
        expires_at = utcnow() + parse_duration(expires) if expires else None
    except ValueError as exc:
        _fail(str(exc))
    with session_scope(_database()) as session:
        made, plain = tokens.create_token(
            session, _user_named(session, username), name, actor=_cli_actor(), expires_at=expires_at
        )
    until = expires_at.isoformat(timespec="seconds") if expires_at else "revoked"
    click.echo(f"token {made.id} for {username} ({name}), valid until {until}; it will not be shown again:", err=True)
    click.echo(plain)


@token.command("list")
@click.argument("username")
def token_list(username: str) -> None:
    """USERNAME's tokens (their first characters only)."""
    from engine import tokens
    from engine.store.tables import utcnow

    with session_scope(_database()) as session:
        rows = tokens.tokens_of(session, _user_named(session, username))
    now = utcnow()
    for row in rows:
        if row.revoked_at:
            status = "revoked"
        elif row.expires_at and row.expires_at <= now:
            status = "expired"
        else:
            status = "valid"
        used = row.last_used_at.isoformat(timespec="seconds") if row.last_used_at else "never used"
        click.echo(f"{row.id:>5}  {row.prefix}...  {row.name:<20} {status:<8} {used}")


@token.command("revoke")
@click.argument("token_id", type=int)
def token_revoke(token_id: int) -> None:
    """Revoke a token by its id (see ``lanner token list``)."""
    from engine import tokens

    try:
        with session_scope(_database()) as session:
            tokens.revoke_token(session, token_id, actor=_cli_actor())
    except tokens.TokenNotFound as exc:
        _fail(str(exc).strip("'\""))
    click.echo(f"revoked token {token_id}")


@main.command("api")
@click.option("--port", default=8080, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
def api_command(port: int, host: str) -> None:
    """Serve the REST API alone (the studio also serves it under /api/v1). Docs at /api/v1/docs."""
    import uvicorn

    from engine.api import create_app

    settings = load_settings()
    open_database(settings.database_url)
    with redis_url(settings) as url:
        os.environ["LANNER_REDIS_URL"] = url
        reset_settings()  # the app reads the settings again, with this URL
        uvicorn.run(create_app(), host=host, port=port, log_level="warning")


@main.command("studio")
@click.option("--port", default=3000, show_default=True)
@click.option("--host", default="0.0.0.0", show_default=True)  # noqa: S104 - the studio is meant to be reached
def studio_command(port: int, host: str) -> None:
    """Run only the studio (a cluster runs executors and workers as their own services)."""
    from engine.launcher import run_studio

    settings = load_settings()
    open_database(settings.database_url)
    with redis_url(settings) as url:
        status = run_studio(replace(settings, redis_url=url), host=host, port=port)
    sys.exit(status)


@main.command("server")
@click.option("--port", default=3000, show_default=True, help="Port of the studio (UI and API on one port).")
@click.option("--workers", "-n", default=max(os.cpu_count() or 2, 2), show_default=True, help="Worker processes.")
@click.option(
    "--host",
    default="0.0.0.0",  # noqa: S104 - the studio is meant to be reached
    show_default=True,
)
def server_command(port: int, host: str, workers: int) -> None:
    """Run all of Lanner on one machine: studio, executor and workers (SQLite + embedded Redis by default)."""
    from engine.children import spawn
    from engine.launcher import run_studio
    from engine.server import child_environment, stop_on_sigterm, stop_process

    _require_secret_key()
    settings = load_settings()
    open_database(settings.database_url)  # migrate before anything serves
    with redis_url(settings) as url:
        env = child_environment(settings, url)
        stop_on_sigterm()
        parts = [
            spawn([sys.executable, "-m", "engine", part, *extra], env)
            for part, *extra in (("executor",), ("scheduler",), ("worker", "-n", str(workers)))
        ]
        try:
            status = run_studio(replace(settings, redis_url=url), host=host, port=port)
        finally:
            for part in parts:
                stop_process(part)
    sys.exit(status)
