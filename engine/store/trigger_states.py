"""Reading what the scheduler keeps about each trigger (enabled, next and last fire, backfill progress)."""

from __future__ import annotations

from sqlmodel import Session, select

from engine.store.tables import TriggerState


def trigger_states_of(session: Session, namespace: str, flow_id: str) -> dict[str, TriggerState]:
    """The stored state of each trigger of a flow, by trigger id; a trigger never seen by the scheduler has none."""
    statement = select(TriggerState).where(TriggerState.namespace == namespace, TriggerState.flow_id == flow_id)
    return {state.trigger_id: state for state in session.exec(statement)}
