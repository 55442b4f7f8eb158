"""The ``lanner`` command line."""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path

import click
from sqlalchemy import Engine

from engine.config import load_settings
from engine.graph import flow_graph
from engine.loader import LoadResult, load_flow, read_source
from engine.problems import FlowInvalid
from engine.store import flows as flow_store
from engine.store.database import open_database, session_scope
from engine.tasks import registry

FLOW_SUFFIXES = (".yml", ".yaml")


def _database() -> Engine:
    return open_database(load_settings().database_url)


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lanner")
def main() -> None:
    """Lanner: flows declared in YAML, drawn in a visual studio, run by distributed workers.

    Configuration comes from the environment: LANNER_HOME (data folder, default ./.lanner),
    LANNER_DATABASE_URL (default: SQLite in LANNER_HOME) and LANNER_REDIS_URL (default: an
    embedded Redis started under LANNER_HOME).
    """


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


@main.command("server")
@click.option("--port", default=3000, show_default=True, help="Port of the studio (UI and API on one port).")
@click.option(
    "--host",
    default="0.0.0.0",  # noqa: S104 - the studio is meant to be reached
    show_default=True,
)
def server_command(port: int, host: str) -> None:
    """Run Lanner on one machine: the studio, with embedded SQLite (and Redis once the engine runs)."""
    from engine.launcher import run_studio

    settings = load_settings()
    open_database(settings.database_url)  # migrate before anything serves
    sys.exit(run_studio(settings, host=host, port=port))
