"""Trigger state (enabled, last slot, backfill progress) and trigger fires (the claim that a slot or an ended
execution started a run once): the rows. Deciding what is due: ``engine.runtime.scheduler`` and
``engine.runtime.flow_triggers``."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from engine.store.database import take_sqlite_write_lock
from engine.store.tables import FlowRecord, TriggerFire, TriggerState


def live_flow_sources(session: Session, *, enabled_only: bool = False) -> list[tuple[str, str, int, str]]:
    """(namespace, flow id, revision, source) of every flow not deleted (and, if asked, not disabled)."""
    statement = select(FlowRecord.namespace, FlowRecord.flow_id, FlowRecord.revision, FlowRecord.source).where(
        col(FlowRecord.deleted).is_(False)
    )
    if enabled_only:
        statement = statement.where(col(FlowRecord.disabled).is_(False))
    return [tuple(row) for row in session.exec(statement).all()]


def flows_version(session: Session) -> tuple[int, dt.datetime | None]:
    """Changes whenever a flow is saved, deleted or added: (how many flows, when one last changed)."""
    return tuple(session.exec(select(func.count(), func.max(FlowRecord.updated_at))).one())


def get_trigger_state(session: Session, namespace: str, flow_id: str, trigger_id: str) -> TriggerState | None:
    return session.get(TriggerState, (namespace, flow_id, trigger_id))


def lock_trigger_state(session: Session, namespace: str, flow_id: str, trigger_id: str) -> TriggerState | None:
    """The trigger's state read afresh for a change, which nobody else can make until this transaction ends.

    The scheduler's tick, a user's backfill, pause or enable all rewrite the same row (its ``data`` whole): one
    that wrote back what it had read before another's change would undo it (a backfill asked for between a tick's
    read and its write was lost). PostgreSQL: the row locked. SQLite: the database's one write lock, taken before
    reading it."""
    key = (namespace, flow_id, trigger_id)
    if session.get_bind().dialect.name == "sqlite":
        take_sqlite_write_lock(session)
        return session.get(TriggerState, key, populate_existing=True)
    return session.get(TriggerState, key, with_for_update=True, populate_existing=True)


def trigger_states_of(session: Session, namespace: str, flow_id: str) -> dict[str, TriggerState]:
    """The stored state of each trigger of a flow, by trigger id; a trigger never seen by the scheduler has none."""
    statement = select(TriggerState).where(TriggerState.namespace == namespace, TriggerState.flow_id == flow_id)
    return {state.trigger_id: state for state in session.exec(statement)}


def disabled_triggers(session: Session) -> set[str]:
    """``namespace/flow/trigger`` of every trigger someone disabled (``lanner trigger disable``, the API...)."""
    statement = select(TriggerState.namespace, TriggerState.flow_id, TriggerState.trigger_id).where(
        col(TriggerState.enabled).is_(False)
    )
    return {f"{namespace}/{flow_id}/{trigger_id}" for namespace, flow_id, trigger_id in session.exec(statement)}


def ensure_trigger_state(
    session: Session, namespace: str, flow_id: str, trigger_id: str, data: dict[str, Any]
) -> TriggerState:
    """The trigger's state, created with ``data`` the first time, locked for a change (``lock_trigger_state``).
    The creation commits in its own transaction, since another scheduler may be creating the same row at this
    very moment (then its row is the one)."""
    if session.get(TriggerState, (namespace, flow_id, trigger_id)) is None:
        with contextlib.suppress(IntegrityError), Session(session.get_bind()) as own:
            own.add(TriggerState(namespace=namespace, flow_id=flow_id, trigger_id=trigger_id, data=data))
            own.commit()
    return lock_trigger_state(session, namespace, flow_id, trigger_id)


def save_trigger_state(session: Session, state: TriggerState) -> None:
    """Keep the changes made to ``state`` (written when the transaction commits)."""
    session.add(state)


def add_trigger_fire(
    session: Session,
    namespace: str,
    flow_id: str,
    trigger_id: str,
    key: str,
    execution_id: str,
    *,
    backfill: bool = False,
) -> None:
    """Record that ``key`` (a slot, an ended execution) fired the trigger; a second fire of one key fails the
    transaction when it commits (``IntegrityError``), so a run starts once however many schedulers race."""
    session.add(
        TriggerFire(
            namespace=namespace,
            flow_id=flow_id,
            trigger_id=trigger_id,
            key=key,
            execution_id=execution_id,
            backfill=backfill,
        )
    )


def last_fire(session: Session, namespace: str, flow_id: str, trigger_id: str) -> TriggerFire | None:
    """The trigger's most recent fire."""
    statement = (
        select(TriggerFire)
        .where(TriggerFire.namespace == namespace, TriggerFire.flow_id == flow_id, TriggerFire.trigger_id == trigger_id)
        .order_by(col(TriggerFire.created_at).desc())
        .limit(1)
    )
    return session.exec(statement).first()
