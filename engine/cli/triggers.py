"""``lanner trigger ...``: list triggers, enable or disable them, and backfill schedules."""

from __future__ import annotations

import json
from typing import Any

import click

from engine.cli import target
from engine.cli.arguments import flow_ref, moment, pairs
from engine.cli.output import fail
from engine.identity.authz import LOCAL
from engine.services import triggers


def _when(value: Any) -> str:
    return value.isoformat(timespec="seconds") if value else "-"


@click.group()
def trigger() -> None:
    """List, enable, disable and backfill triggers."""


@trigger.command("list")
@click.option("--namespace", "-n", default=None)
def trigger_list(namespace: str | None) -> None:
    """Every trigger with its flow, type, state, next and last fire."""
    for found in triggers.list_triggers(target.database(), LOCAL, namespace):
        nxt, last = _when(found.next_fire_at), _when(found.last_fire_at)
        backfill = found.backfill or {}
        progress = f"  backfill {backfill.get('fired', 0)}/{backfill.get('total', 0)}" if backfill else ""
        click.echo(
            f"{found.namespace}/{found.flow_id}  {found.id:<12} {found.type:<8} "
            f"{'enabled' if found.enabled else 'disabled':<8}  next {nxt}  last {last}{progress}"
        )


@trigger.command("enable")
@click.argument("ref", metavar="FLOW_REF")
@click.argument("trigger_id")
def trigger_enable(ref: str, trigger_id: str) -> None:
    """Enable a trigger."""
    _set_enabled(ref, trigger_id, True)


@trigger.command("disable")
@click.argument("ref", metavar="FLOW_REF")
@click.argument("trigger_id")
def trigger_disable(ref: str, trigger_id: str) -> None:
    """Disable a trigger (a disabled schedule does not catch up when enabled again)."""
    _set_enabled(ref, trigger_id, False)


def _set_enabled(ref: str, trigger_id: str, enabled: bool) -> None:
    namespace, flow_id = flow_ref(ref)
    try:
        triggers.set_enabled(
            target.database(), LOCAL, namespace, flow_id, trigger_id, enabled, actor=target.cli_actor()
        )
    except LookupError as exc:
        fail(str(exc).strip("'\""))
    click.echo(f"{'enabled' if enabled else 'disabled'} {namespace}/{flow_id} {trigger_id}")


@trigger.command("backfill")
@click.argument("ref", metavar="FLOW_REF")
@click.argument("trigger_id")
@click.option("--from", "start", default=None, help="First slot (ISO date-time, UTC unless an offset is given).")
@click.option("--to", "end", default=None, help="Last slot (inclusive).")
@click.option("--input", "-i", "inputs", multiple=True, help="An input as KEY=VALUE.")
@click.option("--pause", is_flag=True, help="Pause the running backfill.")
@click.option("--resume", is_flag=True, help="Resume a paused backfill.")
@click.option("--cancel", is_flag=True, help="Cancel the backfill.")
def trigger_backfill(
    ref: str,
    trigger_id: str,
    start: str | None,
    end: str | None,
    inputs: tuple[str, ...],
    pause: bool,
    resume: bool,
    cancel: bool,
) -> None:
    """Run a schedule over a past range (the scheduler does it); or pause, resume, cancel it, or show it."""
    namespace, flow_id = flow_ref(ref)
    try:
        if pause or resume or cancel:
            action = "pause" if pause else "resume" if resume else "cancel"
            backfill = triggers.backfill_action(target.database(), LOCAL, namespace, flow_id, trigger_id, action)
        elif start and end:
            backfill = triggers.start_backfill(
                target.database(),
                LOCAL,
                namespace,
                flow_id,
                trigger_id,
                moment(start),
                moment(end),
                pairs(inputs, "input"),
                actor=target.cli_actor(),
            )
        else:
            fail("give --from and --to, or --pause, --resume or --cancel")
    except (LookupError, ValueError) as exc:
        fail(str(exc).strip("'\""))
    click.echo(json.dumps(backfill, indent=2))
