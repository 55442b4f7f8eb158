"""Starting an execution: the flow at a revision (parsed once), inputs checked against its declarations,
secret inputs sealed, FILE inputs accepted, the row written and the start recorded in the audit trail.

The store only writes the row (``engine.store.executions.add_execution``); everything that needs the flow
language, settings, uploads or crypto is done here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlmodel import Session

from engine.config import load_settings
from engine.core.states import State
from engine.flows.inputs import InputsInvalid, resolve_inputs
from engine.flows.loader import ParsedFlows, parsed_flows_for
from engine.flows.model import Flow
from engine.identity import audit
from engine.store import executions as store
from engine.store.executions import ExecutionConflict
from engine.store.flows import current_revision, get_revision
from engine.store.tables import Execution, utcnow
from engine.tasks.context import mask_value
from engine.workspace import uploads
from engine.workspace.secrets import seal_inputs

__all__ = ["InputsInvalid", "create_execution", "flow_at", "run_actor"]


def flow_at(
    session: Session,
    namespace: str,
    flow_id: str,
    revision: int,
    source: str | None = None,
    *,
    cache: ParsedFlows | None = None,
) -> Flow:
    """The flow as it was at ``revision``. Revisions never change, so each is read and parsed once per database
    (``cache``: by default the one of the session's database, engine/flows/loader.py)."""
    cache = cache or parsed_flows_for(session.get_bind())
    text = (
        (lambda: source) if source is not None else (lambda: get_revision(session, namespace, flow_id, revision).source)
    )
    return cache.get(namespace, flow_id, revision, text)


def create_execution(
    session: Session,
    namespace: str,
    flow_id: str,
    *,
    inputs: dict[str, Any] | None = None,
    labels: dict[str, Any] | None = None,
    trigger: dict[str, Any] | None = None,
    revision: int | None = None,
    execution_id: str | None = None,
    parent_execution_id: str | None = None,
    parent_task_run_id: str | None = None,
    allow_disabled: bool = False,
    mask: Iterable[str] = (),
    inherited_files: Iterable[str] = (),
    test: bool = False,
) -> Execution:
    """A new CREATED execution; inputs are checked against the flow's declarations first.

    SECRET inputs are stored encrypted and shown as ``****``; ``mask`` are secret values that must not appear
    in the other inputs either (a subflow's inputs rendered from its parent's secrets). A FILE input takes only a
    file uploaded for this flow, or one of ``inherited_files`` (its parent's FILE values, for a subflow).
    ``test``: a test of one task (engine/services/task_tests.py), kept out of the flow's history and charts.
    """
    current = current_revision(session, namespace, flow_id)  # FlowNotFound for a missing or deleted flow
    flow = flow_at(session, namespace, flow_id, revision or current)  # its source read only when not parsed yet
    revision = revision or current
    if flow.disabled and not allow_disabled:
        raise ExecutionConflict(f"flow {namespace}/{flow_id} is disabled")
    uploaded = uploads.accept_uploads(load_settings().home, namespace, flow_id, inherited_files)
    values, errors = resolve_inputs(flow.inputs, inputs or {}, uploaded=uploaded)
    if errors:
        raise InputsInvalid(errors)
    shown, sealed = seal_inputs(values, [decl.id for decl in flow.inputs if decl.kind == "SECRET"])
    now = utcnow()
    execution = Execution(
        id=execution_id or str(uuid.uuid4()),
        namespace=namespace,
        flow_id=flow_id,
        flow_revision=revision,
        state=State.CREATED.value,
        inputs=mask_value(shown, set(mask)),
        secret_inputs=sealed or None,
        labels={**flow.labels, **(labels or {})},
        trigger=trigger,
        parent_execution_id=parent_execution_id,
        parent_task_run_id=parent_task_run_id,
        created_at=now,
        updated_at=now,
        test=test,
    )
    store.add_execution(session, execution)
    ran = audit.AuditAction.RAN
    details = {"test": True} if test else {}
    audit.record(
        session,
        run_actor(trigger),
        ran,
        namespace,
        "execution",
        execution.id,
        flow=flow_id,
        revision=revision,
        **details,
    )
    return execution


def run_actor(trigger: dict[str, Any] | None) -> str:
    """Who started a run, as far as the trigger tells (a person once the studio and API know who calls)."""
    trigger = trigger or {}
    kind = str(trigger.get("type") or "")
    if trigger.get("actor"):
        return str(trigger["actor"])
    if kind == "webhook":
        return audit.WEBHOOK
    return kind if kind in ("api", "studio", "cli") else audit.SYSTEM
