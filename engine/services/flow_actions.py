"""What people do with whole flows beside editing them: duplicate one, export flows (YAML, or a namespace as a zip),
list the flows deleted lately and restore one.

Access is decided here, through ``engine.identity.authz``, as for every flow service: a copy is saved through the
same path as any flow (``engine.services.flows.save``: ``EDIT_FLOW`` on the namespace the copy declares); an export
holds only what the caller may read; a deleted flow is listed and restored only for those who may edit its namespace.
"""

from __future__ import annotations

import io
import zipfile

from sqlalchemy import Engine

from engine.core.errors import Conflict
from engine.flows import yaml_edit
from engine.flows.loader import load_flow_or_raise
from engine.identity import authz
from engine.identity.policy import Action, Principal, can
from engine.services import flows as flow_service
from engine.services.views import DeployView, FlowView
from engine.store import flows as store
from engine.store.database import session_scope
from engine.store.tables import FlowRecord


def duplicate(
    db: Engine, principal: Principal, namespace: str, flow_id: str, new_id: str, new_namespace: str | None = None
) -> DeployView:
    """Save a copy of the flow as ``new_namespace/new_id`` (the same namespace by default), byte for byte but for
    its ``id`` and ``namespace``. ``Conflict`` when that flow exists, ``FlowInvalid`` for a bad id or namespace."""
    target_namespace = (new_namespace or namespace).strip()
    new_id = new_id.strip()
    source = flow_service.get(db, principal, namespace, flow_id).source or ""  # reading it is checked here
    text = yaml_edit.set_flow_property(source, "id", new_id)
    if target_namespace != namespace:
        text = yaml_edit.set_flow_property(text, "namespace", target_namespace)
    load_flow_or_raise(text, f"{target_namespace}/{new_id}")  # a bad id or namespace is named before anything else
    authz.require_flow(principal, Action.EDIT_FLOW, target_namespace, new_id)
    with session_scope(db) as session:
        try:
            store.get_flow(session, target_namespace, new_id)
        except store.FlowNotFound:
            pass
        else:
            raise Conflict(f"{target_namespace}/{new_id} already exists: choose another id")
    return flow_service.save(db, principal, text)


def export_name(namespace: str, flow_id: str) -> str:
    """The file a flow is exported as (what ``lanner flow export`` writes too)."""
    return f"{namespace}.{flow_id}.yml"


def zip_name(namespace: str) -> str:
    return f"{namespace or 'flows'}.zip"


def namespace_zip(db: Engine, principal: Principal, namespace: str | None) -> bytes:
    """A zip of every flow of ``namespace`` (and below; every namespace for None) the caller may read, one YAML
    file each, byte for byte as saved."""
    if namespace:
        authz.require(principal, Action.READ, namespace, what=f"namespace {namespace}")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for flow in flow_service.search(db, principal, namespace or None, with_source=True):
            archive.writestr(export_name(flow.namespace, flow.id), flow.source or "")
    return buffer.getvalue()


def deleted(db: Engine, principal: Principal, namespace: str | None = None) -> list[FlowView]:
    """Flows deleted lately, newest deletion first: those of namespaces the caller may edit flows in."""
    with session_scope(db) as session:
        records = store.list_deleted_flows(session, where=authz.readable(principal, FlowRecord.namespace))
        return [
            FlowView.of(r)
            for r in records
            if can(principal, Action.EDIT_FLOW, r.namespace)
            and (not namespace or r.namespace == namespace or r.namespace.startswith(namespace + "."))
        ]


def restore(db: Engine, principal: Principal, namespace: str, flow_id: str, *, author: str | None = None) -> DeployView:
    """Bring a deleted flow back as a new revision holding the source it had when it was deleted; audited as
    restored. ``NotFound`` for a flow that is not deleted."""
    authz.require_flow(principal, Action.EDIT_FLOW, namespace, flow_id)
    who = author or principal.name
    with session_scope(db) as session:
        record = store.deleted_flow(session, namespace, flow_id)
        flow = load_flow_or_raise(record.source, f"{namespace}/{flow_id}")
        result = store.save_flow(session, flow, record.source, author=who)
        store.record_restore(session, namespace, flow_id, result.revision, author=who)
        return DeployView.of(result)
