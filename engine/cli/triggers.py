"""``lanner trigger ...``: list triggers, enable or disable them, and backfill schedules."""

from __future__ import annotations

import json
from typing import Any

import click

from engine.cli import target
from engine.cli.arguments import flow_ref, moment, pairs
from engine.cli.output import fail
from engine.runtime.scheduler import set_backfill_flag, set_trigger_enabled, start_backfill
from engine.services.execution_start import flow_at
from engine.store import flows as flow_store
from engine.store.triggers import trigger_states_of


def _when(value: Any) -> str:
    return value.isoformat(timespec="seconds") if value else "-"


@click.group()
def trigger() -> None:
    """List, enable, disable and backfill triggers."""


@trigger.command("list")
@click.option("--namespace", "-n", default=None)
def trigger_list(namespace: str | None) -> None:
    """Every trigger with its flow, type, state, next and last fire."""
    with target.session() as session:
        for record in flow_store.list_flows(session, namespace):
            flow = flow_at(session, record.namespace, record.flow_id, record.revision, record.source)
            states = trigger_states_of(session, record.namespace, record.flow_id)
            for declared in flow.triggers:
                state = states.get(declared.id)
                enabled = not declared.disabled and not flow.disabled and (state is None or state.enabled)
                nxt = _when(state.next_fire_at if state else None)
                last = _when(state.last_fire_at if state else None)
                backfill = (state.data.get("backfill") if state else None) or {}
                progress = f"  backfill {backfill.get('fired', 0)}/{backfill.get('total', 0)}" if backfill else ""
                click.echo(
                    f"{record.namespace}/{record.flow_id}  {declared.id:<12} {declared.type:<8} "
                    f"{'enabled' if enabled else 'disabled':<8}  next {nxt}  last {last}{progress}"
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
        set_trigger_enabled(target.database(), namespace, flow_id, trigger_id, enabled, actor=target.cli_actor())
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
            flags = {"paused": True} if pause else {"paused": False} if resume else {"cancelled": True}
            backfill = set_backfill_flag(target.database(), namespace, flow_id, trigger_id, **flags)
        elif start and end:
            backfill = start_backfill(
                target.database(),
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
