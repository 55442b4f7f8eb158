"""``lanner secret ...`` and ``lanner variable ...``: what a namespace gives the flows in it and below it."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

import click

from engine.cli import target
from engine.cli.arguments import namespace_name
from engine.cli.output import fail, print_json
from engine.identity.authz import LOCAL
from engine.identity.crypto import SecretKeyMissing, generate_key, key_from_text, load_key
from engine.services import workspaces
from engine.workspace import variables

# The command line works on the local database as the machine's administrator; ``--server`` goes through the API.
MACHINE = LOCAL


def _delete(what: str, delete: Callable[..., bool], namespace: str, name: str) -> None:
    """``lanner secret delete`` and ``lanner variable delete``."""
    if not delete(target.database(), MACHINE, namespace, name, actor=target.cli_actor()):
        fail(f"no {what} {name} on {namespace}")
    click.echo(f"{what} {name} deleted from {namespace}")


@click.group()
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
    if value_stdin or not sys.stdin.isatty():
        value = sys.stdin.read()
        value = value[:-1] if value.endswith("\n") else value
    else:
        value = click.prompt(f"value of {name}", hide_input=True, confirmation_prompt=True)
    if not value:
        fail("empty value")
    try:
        workspaces.set_secret(target.database(), MACHINE, namespace_name(namespace), name, value, actor=target.author())
    except ValueError as exc:
        fail(str(exc))
    click.echo(f"secret {name} set on {namespace}")


@secret.command("list")
@click.argument("namespace")
def secret_list(namespace: str) -> None:
    """Names of the secrets set on a namespace (never their values)."""
    for name in workspaces.secret_names(target.database(), MACHINE, namespace):
        click.echo(name)


@secret.command("delete")
@click.argument("namespace")
@click.argument("name")
def secret_delete(namespace: str, name: str) -> None:
    _delete("secret", workspaces.delete_secret, namespace, name)


@secret.command("rotate")
@click.option("--old-key-stdin", is_flag=True, help="Read the old key from standard input instead of asking.")
def secret_rotate(old_key_stdin: bool) -> None:
    """Re-encrypt every stored secret with the key now in LANNER_SECRET_KEY.

    Give the key they were encrypted with when asked (or on stdin). Then set the new key on every server,
    executor and worker.
    """
    try:
        new = load_key()
    except SecretKeyMissing as exc:
        fail(str(exc))
    if old_key_stdin or not sys.stdin.isatty():
        old_text = sys.stdin.readline().strip()
    else:
        old_text = click.prompt("old key", hide_input=True)
    old = key_from_text(old_text)
    if old.key_id == new.key_id:
        fail("the old key is the key in LANNER_SECRET_KEY: set the new key there first")
    try:
        count = workspaces.rotate_secret_key(target.database(), MACHINE, old, new, actor=target.cli_actor())
    except ValueError as exc:
        fail(str(exc))
    click.echo(f"{count} secret(s) re-encrypted from key {old.key_id} to key {new.key_id}")


@secret.command("keygen")
def secret_keygen() -> None:
    """Print a new random key for LANNER_SECRET_KEY."""
    click.echo(generate_key())


@click.group()
def variable() -> None:
    """Namespace variables, read by flows as vars.NAME (a flow's own variables override them)."""


@variable.command("set")
@click.argument("namespace")
@click.argument("name")
@click.argument("value")
def variable_set(namespace: str, name: str, value: str) -> None:
    """Set a variable; VALUE is read as a YAML scalar (42 is a number, true a boolean, 'x' a text)."""
    try:
        parsed = variables.parse_value(value)
    except ValueError:
        fail("VALUE must be a scalar (text, number, boolean or null)")
    try:
        workspaces.set_variable(
            target.database(), MACHINE, namespace_name(namespace), name, parsed, actor=target.author()
        )
    except ValueError as exc:
        fail(str(exc))
    click.echo(f"variable {name} set on {namespace}")


@variable.command("list")
@click.argument("namespace")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def variable_list(namespace: str, as_json: bool) -> None:
    """Variables set on a namespace itself (not those it inherits)."""
    rows = {v.name: v.value for v in workspaces.variables_of(target.database(), MACHINE, namespace)}
    if as_json:
        print_json(rows)
        return
    for name, value in rows.items():
        click.echo(f"{name}={json.dumps(value, default=str)}")


@variable.command("delete")
@click.argument("namespace")
@click.argument("name")
def variable_delete(namespace: str, name: str) -> None:
    _delete("variable", workspaces.delete_variable, namespace, name)


@click.group()
def namespace() -> None:
    """Namespace settings shared by its flows and those of the namespaces below it."""


@namespace.group("task-defaults")
def task_defaults_group() -> None:
    """Task defaults: property values for a task type or family, for every flow of the namespace."""


@task_defaults_group.command("get")
@click.argument("namespace")
def task_defaults_get(namespace: str) -> None:
    """Print the namespace's own task defaults as written (those it inherits follow as comments)."""
    from engine.services import task_defaults

    found = task_defaults.task_defaults_of(target.database(), MACHINE, namespace_name(namespace))
    if found.source:
        click.echo(found.source.rstrip("\n"))
    for parent in found.inherited:
        click.echo(f"# inherited from {parent['namespace']}:")
        for line in parent["source"].rstrip("\n").splitlines():
            click.echo(f"#   {line}")


@task_defaults_group.command("set")
@click.argument("namespace")
@click.argument("file", type=click.File("r", encoding="utf-8"))
def task_defaults_set(namespace: str, file) -> None:
    """Replace the namespace's task defaults with FILE (a YAML list of {type, values, forced}; - for stdin;
    an empty file removes them)."""
    from engine.services import task_defaults
    from engine.services.errors import InvalidInput

    source = file.read()
    try:
        defaults = task_defaults.set_task_defaults(
            target.database(), MACHINE, namespace_name(namespace), source, actor=target.author()
        )
    except InvalidInput as exc:
        fail(str(exc))
    click.echo(f"{len(defaults)} task default(s) set on {namespace}")


@namespace.group("resources")
def resources_group() -> None:
    """The worker group of a namespace's task runs, and its limits of running executions and task runs."""


@resources_group.command("get")
@click.argument("namespace")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def resources_get(namespace: str, as_json: bool) -> None:
    from dataclasses import asdict

    from engine.services import resources

    found = asdict(resources.resources_of(target.database(), MACHINE, namespace_name(namespace)))
    if as_json:
        print_json(found)
        return
    inherited = found.pop("inherited_worker_group")
    for name, value in found.items():
        shown = f"{inherited} (inherited)" if name == "worker_group" and value is None and inherited else value
        click.echo(f"{name}: {'none' if shown is None else shown}")


def _setting(kind: type) -> Callable[[click.Context, click.Parameter, str | None], object]:
    """An option's text as the setting: ``none`` clears it; unset options are left out."""

    def convert(_context: click.Context, parameter: click.Parameter, text: str | None) -> object:
        if text is None or text.strip().lower() == "none":
            return None if text is None else "none"
        if kind is int and not text.strip().isdigit():
            raise click.BadParameter(f"a whole number, or none for no limit (not {text!r})")
        return kind(text.strip())

    return convert


@resources_group.command("set")
@click.argument("namespace")
@click.option("--worker-group", callback=_setting(str), help="The group its task runs go to (none: inherited).")
@click.option("--max-running-executions", callback=_setting(int), help="Executions running at once (none: no limit).")
@click.option("--max-running-task-runs", callback=_setting(int), help="Task runs in flight (none: the default).")
def resources_set(namespace: str, **options: object) -> None:
    """Change the settings given; the others are kept."""
    from engine.services import resources
    from engine.services.errors import InvalidInput

    values = {name: None if value == "none" else value for name, value in options.items() if value is not None}
    if not values:
        fail("give at least one of --worker-group, --max-running-executions, --max-running-task-runs")
    try:
        resources.set_resources(target.database(), MACHINE, namespace_name(namespace), values, actor=target.author())
    except InvalidInput as exc:
        fail(str(exc))
    click.echo(f"resources of {namespace} changed: " + ", ".join(f"{k}={v}" for k, v in values.items()))
