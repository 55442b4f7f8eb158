"""What happens around an SLA breach the state machine recorded (engine/core/sla.py): a line in the execution's log,
the flow triggers waiting for ``SLA_BREACHED``, and after the commit a line in the executor's log and the metric.

The executor calls ``record`` in the advance's transaction (so a breach starts its flows exactly once, with it) and
``announce`` after the commit.
"""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

from sqlmodel import Session

from engine.core.levels import LogLevel
from engine.core.snapshot import Snapshot
from engine.metrics import record as metrics
from engine.runtime.flow_triggers import fire_flow_triggers
from engine.store import executions as store
from engine.store.logs import write_execution_log

log = logging.getLogger("lanner.sla")


def trigger_view(breach: dict[str, Any]) -> dict[str, Any]:
    """The breach as a started flow reads it (``trigger.sla``): ``id`` is the SLA's, ``breachId`` the breach's."""
    return {
        "id": breach["slaId"],
        "breachId": breach["id"],
        **{key: breach[key] for key in ("type", "behavior", "labels", "at", "reason")},
    }


def describe(breach: dict[str, Any]) -> str:
    return f"SLA '{breach['slaId']}' breached ({breach['type']}, behavior {breach['behavior']}): {breach['reason']}"


def record(session: Session, snapshot: Snapshot, breaches: list[dict[str, Any]]) -> list[str]:
    """Log each breach on the execution and start the flows waiting for it; the executions started."""
    row = store.get_execution(session, snapshot.execution.id)
    execution = snapshot.execution
    watched = SimpleNamespace(
        id=execution.id,
        namespace=row.namespace,
        flow_id=row.flow_id,
        state=execution.state.value,
        outputs=execution.outputs,
        test=row.test,
    )
    started: list[str] = []
    for breach in breaches:
        write_execution_log(session, row, LogLevel.WARN.value, describe(breach))
        started += fire_flow_triggers(session, watched, sla=trigger_view(breach))
    return started


def announce(snapshot: Snapshot, breaches: list[dict[str, Any]]) -> None:
    """After the commit: the executor's log line and the metric, once per breach."""
    flow = snapshot.flow
    for breach in breaches:
        log.warning("execution %s of %s/%s: %s", snapshot.execution.id, flow.namespace, flow.id, describe(breach))
        metrics.sla_breached(flow.namespace, flow.id, breach["behavior"])
