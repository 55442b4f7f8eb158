"""Flows for the studio: the flows list and namespace selector, a flow's text, and saving, creating, importing,
deleting, duplicating, exporting and restoring a flow, each through ``engine.services.flows`` and
``engine.services.flow_actions`` (which decide access)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from engine.identity.policy import Principal
from engine.services import flow_actions
from engine.services import flows as flow_service
from engine.services.connections import database
from studio.services.access import reachable_namespaces


@dataclass(frozen=True)
class FlowSummary:
    namespace: str
    flow_id: str
    revision: int
    description: str | None  # the whole text: the list words it
    updated_at: dt.datetime
    disabled: bool


def list_flows(principal: Principal, namespace: str | None = None, search: str = "") -> list[FlowSummary]:
    """The flows ``principal`` may read (filtered in SQL), of ``namespace`` and below when given."""
    return [
        FlowSummary(
            r.namespace,
            r.id,
            r.revision,
            r.description,
            r.updated_at,
            r.disabled,
        )
        for r in flow_service.search(database(), principal, namespace or None, search)
    ]


def namespaces(principal: Principal) -> list[str]:
    """What the namespace selector offers: every existing namespace ``principal`` may read."""
    return reachable_namespaces(principal)


def flow_source(principal: Principal, namespace: str, flow_id: str) -> str:
    return flow_service.get(database(), principal, namespace, flow_id).source or ""


def save_flow(principal: Principal, text: str, filename: str = "<flow>") -> str:
    """Save a new revision (none when the text is unchanged); returns what happened.

    Raises ``FlowInvalid`` for a flow with problems; the namespace the text declares is the one checked, so
    a flow cannot be saved into a namespace by renaming it in the editor."""
    return flow_service.save(database(), principal, text, filename=filename).message


def create_flow(principal: Principal, namespace: str, flow_id: str) -> str:
    """A new flow with one task, saved as revision 1; raises ``FlowInvalid`` for a bad id or namespace, and
    ``Conflict`` (a ``ValueError``) when it exists. A new namespace needs the editor role on a namespace above it
    (or a global administrator)."""
    return flow_service.create(database(), principal, namespace, flow_id)


def import_flow(principal: Principal, source: bytes, filename: str) -> tuple[str, str, str]:
    """Save an uploaded YAML file as a flow's newest revision: (namespace, flow id, what happened).

    Raises ``FlowInvalid`` whose problems name the file, line and column, or ``InvalidInput`` (a
    ``ValueError``) for a file that is not text."""
    deployed = flow_service.save(database(), principal, flow_service.decode_upload(source, filename), filename=filename)
    return deployed.namespace, deployed.id, deployed.message


def delete_flow(principal: Principal, namespace: str, flow_id: str) -> None:
    flow_service.delete(database(), principal, namespace, flow_id)


def duplicate_flow(principal: Principal, namespace: str, flow_id: str, new_id: str, new_namespace: str = "") -> str:
    """Save a copy of the flow as ``new_namespace/new_id`` (its own namespace when none is given), through the same
    save path and checks as any flow; returns what happened. ``Conflict`` when it exists, ``FlowInvalid`` for a bad
    id or namespace."""
    copied = flow_actions.duplicate(database(), principal, namespace, flow_id, new_id, new_namespace or None)
    return copied.message


def export_flow(principal: Principal, namespace: str, flow_id: str) -> tuple[str, str]:
    """(file name, YAML source byte for byte) of a flow the person may read."""
    return flow_actions.export_name(namespace, flow_id), flow_source(principal, namespace, flow_id)


def export_namespace(principal: Principal, namespace: str | None) -> tuple[str, bytes]:
    """(file name, zip) of every flow of ``namespace`` and below (every namespace for None) the person may read."""
    return flow_actions.zip_name(namespace or "flows"), flow_actions.namespace_zip(database(), principal, namespace)


def deleted_flows(principal: Principal, namespace: str | None = None) -> list[FlowSummary]:
    """Flows deleted lately that the person may restore (those of namespaces they may edit), newest first."""
    return [
        FlowSummary(r.namespace, r.id, r.revision, r.description, r.updated_at, r.disabled)
        for r in flow_actions.deleted(database(), principal, namespace)
    ]


def restore_flow(principal: Principal, namespace: str, flow_id: str) -> str:
    """Bring a deleted flow back with the source it had when it was deleted; returns what happened."""
    restored = flow_actions.restore(database(), principal, namespace, flow_id)
    return f"restored {namespace}/{flow_id} (revision {restored.revision})"


def flow_has_inputs(principal: Principal, namespace: str, flow_id: str) -> bool:
    """Whether a run of the flow asks for inputs (the list then opens the run dialog rather than start it)."""
    return bool(flow_service.current_flow(database(), principal, namespace, flow_id).inputs)
