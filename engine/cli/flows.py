"""``lanner flow ...`` and ``lanner task ...``: flow files, deployed flows and the task types they use."""

from __future__ import annotations

import json
from pathlib import Path

import click

from engine.cli import target
from engine.cli.arguments import load_all, valid_flow
from engine.cli.output import fail, print_flows, print_json, print_problems, print_source
from engine.flows.graph import flow_graph
from engine.flows.loader import LoadResult, read_source
from engine.identity.authz import LOCAL
from engine.services import flows
from engine.services.errors import NotFound
from engine.services.views import DeployView, FlowView
from engine.tasks import registry

# --- actions: one function per action, local or on the server -------------------------------------


def deploy_sources(loaded: list[tuple[Path, str, LoadResult]], author: str | None) -> list[DeployView]:
    """Save valid flow files as new revisions (all of them or none, locally): what happened to each."""
    if target.is_remote():  # the server records the token's user as the author
        with target.remote() as client:
            return [DeployView.model_validate(client.deploy(source)) for _, source, _ in loaded]
    sources = [source for _, source, _ in loaded]
    return flows.save_all(target.database(), LOCAL, sources, author=author or target.author())


def list_flows(namespace: str | None) -> list[FlowView]:
    if target.is_remote():
        with target.remote() as client:
            return [FlowView.model_validate(found) for found in client.flows(namespace)]
    return flows.search(target.database(), LOCAL, namespace)


def flow_source(namespace: str, flow_id: str, revision: int | None) -> str:
    """A flow's YAML text as deployed: its current revision, or the one asked for."""
    if target.is_remote():
        with target.remote() as client:
            return client.flow_source(namespace, flow_id, revision)
    if revision is None:
        return flows.get(target.database(), LOCAL, namespace, flow_id).source or ""
    return flows.revision_source(target.database(), LOCAL, namespace, flow_id, revision)


# --- commands ------------------------------------------------------------------------------------


@click.group()
def flow() -> None:
    """Validate, deploy, list, export and inspect flows."""


@flow.command("validate")
@click.argument("paths", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
def validate_command(paths: tuple[str, ...], as_json: bool) -> None:
    """Check flow files (or folders of them); print every problem as FILE:LINE:COLUMN: MESSAGE.

    Exits with status 1 when any flow is invalid.
    """
    loaded = load_all(paths)
    problems = [p for _, _, result in loaded for p in result.problems]
    if as_json:
        print_json([p.as_dict() for p in problems])
    else:
        for path, _, result in loaded:
            if result.ok:
                click.echo(f"ok  {path} ({result.flow.namespace}/{result.flow.id})")
        print_problems(problems)
        invalid = sum(1 for _, _, r in loaded if not r.ok)
        summary = f"{len(loaded)} flow file(s) checked, {invalid} invalid, {len(problems)} problem(s)"
        click.echo(summary, err=bool(problems))
    if problems:
        raise SystemExit(1)


@flow.command("deploy")
@click.argument("paths", nargs=-1, required=True)
@click.option("--author", default=None, help="Who deploys (default: the current user).")
def deploy_command(paths: tuple[str, ...], author: str | None) -> None:
    """Save flow files as new revisions. Nothing is saved if any file is invalid.

    A file whose text is unchanged since the flow's current revision creates no revision.
    """
    loaded = load_all(paths)
    problems = [p for _, _, result in loaded for p in result.problems]
    if problems:
        print_problems(problems)
        fail(f"nothing deployed: {len(problems)} problem(s)")
    keys = [(r.flow.namespace, r.flow.id) for _, _, r in loaded]
    repeated = {k for k in keys if keys.count(k) > 1}
    if repeated:
        fail("the same flow is given twice: " + ", ".join(f"{ns}/{fid}" for ns, fid in sorted(repeated)))
    for deployed in deploy_sources(loaded, author):
        click.echo(deployed.message)


@flow.command("list")
@click.option("--namespace", "-n", default=None, help="Only this namespace and those below it.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_command(namespace: str | None, as_json: bool) -> None:
    """List deployed flows."""
    print_flows(list_flows(namespace), as_json, namespace)


@flow.command("export")
@click.argument("namespace")
@click.argument("directory", type=click.Path(file_okay=False))
def export_command(namespace: str, directory: str) -> None:
    """Write the flows of NAMESPACE (and those below it) to DIRECTORY/<namespace>/<id>.yml, byte for byte."""
    found = flows.search(target.database(), LOCAL, namespace, with_source=True)
    if not found:
        fail(f"no flows in namespace {namespace}")
    for exported in found:
        written = Path(directory) / exported.namespace / f"{exported.id}.yml"
        written.parent.mkdir(parents=True, exist_ok=True)
        written.write_bytes((exported.source or "").encode("utf-8"))
        click.echo(f"wrote {written}")


@flow.command("show")
@click.argument("namespace")
@click.argument("flow_id")
@click.option("--revision", "-r", type=int, default=None, help="A past revision (default: the current one).")
def show_command(namespace: str, flow_id: str, revision: int | None) -> None:
    """Print a flow's YAML source exactly as it was deployed."""
    try:
        source = flow_source(namespace, flow_id, revision)
    except NotFound as exc:
        fail(str(exc))
    print_source(source)


@flow.command("revisions")
@click.argument("namespace")
@click.argument("flow_id")
def revisions_command(namespace: str, flow_id: str) -> None:
    """List a flow's revisions."""
    try:
        revisions = flows.revisions(target.database(), LOCAL, namespace, flow_id)
    except NotFound as exc:
        fail(str(exc))
    for rev in revisions:
        what = "deleted" if rev.deleted else rev.sha256[:12]
        click.echo(f"{rev.revision:>4}  {rev.created_at.isoformat(timespec='seconds')}  {rev.author or '-':<12} {what}")


@flow.command("delete")
@click.argument("namespace")
@click.argument("flow_id")
def delete_command(namespace: str, flow_id: str) -> None:
    """Delete a flow (its revisions are kept)."""
    try:
        flows.delete(target.database(), LOCAL, namespace, flow_id, author=target.author())
    except NotFound as exc:
        fail(str(exc))
    click.echo(f"deleted {namespace}/{flow_id}")


@flow.command("graph")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def graph_command(file: str) -> None:
    """Print a flow file's graph (nodes and edges) as JSON."""
    click.echo(json.dumps(flow_graph(valid_flow(read_source(Path(file)), file)).as_dict(), indent=2))


@click.group()
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
        fail(f"unknown task type '{type_name}'" + (f" (did you mean '{suggestion}'?)" if suggestion else ""))
    click.echo(json.dumps(registry.json_schema(type_name), indent=2))
