"""``lanner kv ...``: a namespace's key-value store, read by flows with kv('key') (inherited by the namespaces
below), on the local database as the machine's administrator."""

from __future__ import annotations

import json

import click

from engine.cli import target
from engine.cli.arguments import namespace_name
from engine.cli.output import fail, print_json
from engine.identity.authz import LOCAL
from engine.services import kv as store


def _value(text: str) -> object:
    """JSON when it is JSON (42, true, {"a": 1}, "quoted"), the text itself otherwise."""
    try:
        return json.loads(text)
    except ValueError:
        return text


@click.group()
def kv() -> None:
    """The KV store of a namespace: values flows read with kv('key') and write with kv.set."""


@kv.command("set")
@click.argument("namespace")
@click.argument("key")
@click.argument("value")
@click.option("--ttl", default=None, help="Expire after this long (1h, PT30M, 7d); by default never.")
@click.option("--no-overwrite", is_flag=True, help="Refuse if the namespace already holds the key.")
def kv_set(namespace: str, key: str, value: str, ttl: str | None, no_overwrite: bool) -> None:
    """Set KEY on NAMESPACE; VALUE is read as JSON when it is JSON (42, true, {"a": 1}), else as text."""
    try:
        store.set_entry(
            target.database(), LOCAL, namespace_name(namespace), key, _value(value), ttl=ttl,
            overwrite=not no_overwrite, actor=target.cli_actor(),
        )  # fmt: skip
    except ValueError as exc:
        fail(str(exc))
    click.echo(f"kv {key} set on {namespace}")


@kv.command("get")
@click.argument("namespace")
@click.argument("key")
def kv_get(namespace: str, key: str) -> None:
    """Print the value kv('KEY') reads in NAMESPACE (its own or inherited), as JSON."""
    click.echo(json.dumps(store.entry(target.database(), LOCAL, namespace, key).value, default=str))


@kv.command("list")
@click.argument("namespace")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def kv_list(namespace: str, as_json: bool) -> None:
    """Every entry NAMESPACE's flows read, own and inherited (marked with where it is set)."""
    views = store.entries(target.database(), LOCAL, namespace)
    if as_json:
        print_json([view.model_dump(mode="json", by_alias=True) for view in views])
        return
    for view in views:
        where = "" if view.own else f"  (from {view.origin})"
        until = f"  (expires {view.expires_at.isoformat()})" if view.expires_at else ""
        click.echo(f"{view.key}={json.dumps(view.value, default=str)}{where}{until}")


@kv.command("delete")
@click.argument("namespace")
@click.argument("key")
def kv_delete(namespace: str, key: str) -> None:
    """Delete KEY from NAMESPACE itself (a parent's entry of the same key then shows through)."""
    if not store.delete_entry(target.database(), LOCAL, namespace, key, actor=target.cli_actor()):
        fail(f"no kv {key} on {namespace}")
    click.echo(f"kv {key} deleted from {namespace}")
