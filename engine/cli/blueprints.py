"""``lanner blueprint ...``: the gallery of ready flows, and a new flow made from one (to a file, or deployed)."""

from __future__ import annotations

from pathlib import Path

import click

from engine.cli import target
from engine.cli.output import print_json
from engine.identity.authz import LOCAL
from engine.services import blueprints
from engine.services.views import BlueprintView, DeployView


def list_blueprints() -> list[BlueprintView]:
    """The server's gallery with ``--server`` (it may be another version), else this installation's."""
    if target.is_remote():
        with target.remote() as client:
            return [BlueprintView.model_validate(found) for found in client.blueprints()]
    return blueprints.search()


def use_blueprint(blueprint_id: str, namespace: str, flow_id: str) -> DeployView:
    if target.is_remote():
        with target.remote() as client:
            return DeployView.model_validate(client.use_blueprint(blueprint_id, namespace, flow_id))
    return blueprints.use(target.database(), LOCAL, blueprint_id, namespace, flow_id, author=target.author())


@click.group()
def blueprint() -> None:
    """Ready flows to start from: list them, and make one a flow of your namespace."""


@blueprint.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_command(as_json: bool) -> None:
    """List the blueprints: id, category and title."""
    found = list_blueprints()
    if as_json:
        print_json([b.model_dump(mode="json", by_alias=True, exclude_none=True) for b in found])
        return
    width = max(len(b.id) for b in found)
    category_width = max(len(b.category) for b in found)
    for b in found:
        click.echo(f"{b.id:<{width}}  {b.category:<{category_width}}  {b.title}")


@blueprint.command("use")
@click.argument("blueprint_id", metavar="ID")
@click.option("--namespace", "-n", required=True, help="The namespace of the new flow.")
@click.option("--id", "flow_id", required=True, help="The id of the new flow.")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False), default=None, help="Write the flow to this file instead."
)
def use_command(blueprint_id: str, namespace: str, flow_id: str, output: str | None) -> None:
    """Make the blueprint ID a flow NAMESPACE/ID: written to --output, or deployed (like `lanner flow deploy`)."""
    if output:
        Path(output).write_text(blueprints.instantiate(blueprint_id, namespace, flow_id), encoding="utf-8")
        click.echo(f"wrote {output} ({namespace}/{flow_id} from blueprint {blueprint_id})")
        return
    click.echo(use_blueprint(blueprint_id, namespace, flow_id).message)
