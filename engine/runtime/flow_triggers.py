"""Flow triggers: when an execution ends, start the flows that wait for it (in the same transaction)."""

from __future__ import annotations

import logging
from typing import Any

from sqlmodel import Session

from engine.config import load_settings
from engine.core.expressions import ExpressionError, render
from engine.flows.inputs import InputsInvalid
from engine.flows.sla import SLA_BREACHED
from engine.flows.triggers import FlowTrigger
from engine.identity.policy import may_start_subflow
from engine.metrics import record
from engine.runtime.trigger_index import TriggerIndex
from engine.services.execution_start import create_execution
from engine.store import executions as store
from engine.store import triggers as trigger_store
from engine.store.tables import Execution

log = logging.getLogger("lanner.triggers")
_index = TriggerIndex(FlowTrigger)


def trigger_enabled(session: Session, namespace: str, flow_id: str, trigger_id: str) -> bool:
    """Triggers are enabled unless someone disabled them (``lanner trigger disable``, the API, the studio)."""
    state = trigger_store.get_trigger_state(session, namespace, flow_id, trigger_id)
    return state is None or state.enabled


def matches(trigger: FlowTrigger, namespace: str, flow_id: str, state: str) -> bool:
    """Whether ``trigger`` waits for ``state`` (an end state, or ``SLA_BREACHED``) of ``namespace``/``flow_id``."""
    if trigger.disabled or state not in trigger.states:
        return False
    return any(c.namespace == namespace and (c.flow_id is None or c.flow_id == flow_id) for c in trigger.conditions)


def fire_flow_triggers(session: Session, ended: Execution, *, sla: dict[str, Any] | None = None) -> list[str]:
    """Executions started because ``ended`` ended, or breached the SLA ``sla`` (engine/runtime/sla_breaches.py,
    read as ``trigger.sla``); created in the caller's transaction (so exactly once)."""
    started: list[str] = []
    if ended.test:  # a test of one task is not a run of its flow: nothing waits for it
        return started
    details = {
        "executionId": ended.id,
        "namespace": ended.namespace,
        "flowId": ended.flow_id,
        "state": ended.state,
        "outputs": ended.outputs,
    }
    if sla is not None:
        details["sla"] = sla
    # Each end and each breach fires a trigger once: the fire's key is what it reacted to.
    state, key = (SLA_BREACHED, sla["breachId"]) if sla is not None else (ended.state, ended.id)
    reach = load_settings().subflow_reach
    for namespace, flow_id, _, _, triggers in _index.flows(session):
        # A flow trigger reads the watched run's outputs: it may only watch what its namespace may reach, as
        # for subflows (otherwise an editor of one team could read another team's results).
        if not may_start_subflow(namespace, ended.namespace, reach):
            continue
        for trigger in triggers:
            if not matches(trigger, ended.namespace, ended.flow_id, state):
                continue
            try:
                inputs = render(trigger.inputs, {"trigger": details})
                execution = create_execution(
                    session, namespace, flow_id, inputs=inputs, trigger={"type": "flow", "id": trigger.id, **details}
                )
            except (ExpressionError, InputsInvalid, store.ExecutionConflict) as exc:
                log.warning("flow trigger %s of %s/%s did not start: %s", trigger.id, namespace, flow_id, exc)
                record.trigger_failed(namespace, flow_id, "flow")
                continue
            trigger_store.add_trigger_fire(session, namespace, flow_id, trigger.id, key, execution.id)
            started.append(execution.id)
    return started
