"""Flows: search, read, save (deploy), create, delete, validate, revisions, graph.

Access is decided once per call: reading needs ``READ`` on the flow's namespace, changing it ``EDIT_FLOW`` on
the namespace the YAML declares (so a flow cannot be saved elsewhere by renaming it in its text). The store
writes the audit record of each change with the revision it makes.
"""

from __future__ import annotations

from typing import Any

import yaml
from sqlalchemy import Engine

from engine.core.errors import Conflict, InvalidInput
from engine.flows.graph import flow_graph
from engine.flows.loader import load_flow, load_flow_or_raise
from engine.flows.model import Flow
from engine.flows.problems import FlowInvalid
from engine.identity import authz
from engine.identity.policy import Action, Principal
from engine.services.execution_start import flow_at
from engine.services.flow_deploy import deploy_flow
from engine.services.views import DeployView, FlowView, RevisionView, ValidationView
from engine.store import flows as store
from engine.store.database import session_scope
from engine.store.flows import FlowNotFound
from engine.store.tables import FlowRecord

__all__ = ["FlowNotFound"]  # a flow that never existed (``revisions``), for adapters that answer it their own way


def search(
    db: Engine, principal: Principal, namespace: str | None = None, text: str = "", *, with_source: bool = False
) -> list[FlowView]:
    """The flows ``principal`` may read, of ``namespace`` and below when given, whose ``namespace/id``, description
    or YAML source contains ``text`` (any case), all filtered in SQL; ``with_source`` for an export."""
    readable = authz.readable(principal, FlowRecord.namespace)
    with session_scope(db) as session:
        records = store.list_flows(session, namespace or None, where=readable, text=text)
        return [FlowView.of(r, with_source=with_source) for r in records]


def get(db: Engine, principal: Principal, namespace: str, flow_id: str) -> FlowView:
    """The current revision with its YAML source."""
    authz.require_flow(principal, Action.READ, namespace, flow_id)
    with session_scope(db) as session:
        return FlowView.of(store.get_flow(session, namespace, flow_id), with_source=True)


def save(
    db: Engine,
    principal: Principal,
    text: str,
    *,
    filename: str = "<flow>",
    expected: tuple[str, str] | None = None,
    author: str | None = None,
) -> DeployView:
    """Save ``text`` as the flow's newest revision (none when it is unchanged).

    ``FlowInvalid`` (an ``InvalidInput``) lists its problems; with ``expected`` (namespace, id), a text
    declaring another flow is a ``Conflict``.
    """
    if expected:
        authz.require_flow(principal, Action.EDIT_FLOW, *expected)
    flow = load_flow_or_raise(text, filename)
    if expected and (flow.namespace, flow.id) != expected:
        raise Conflict(f"the body declares {flow.namespace}/{flow.id}, not {expected[0]}/{expected[1]}")
    authz.require_flow(principal, Action.EDIT_FLOW, flow.namespace, flow.id)
    with session_scope(db) as session:
        return DeployView.of(store.save_flow(session, flow, text, author=author or principal.name))


def save_all(db: Engine, principal: Principal, texts: list[str], *, author: str | None = None) -> list[DeployView]:
    """Save several flow texts in one transaction: all of them or none (``lanner flow deploy`` of a folder)."""
    parsed = [load_flow_or_raise(text) for text in texts]
    for flow in parsed:
        authz.require_flow(principal, Action.EDIT_FLOW, flow.namespace, flow.id)
    with session_scope(db) as session:
        who = author or principal.name
        saved = [store.save_flow(session, flow, text, author=who) for flow, text in zip(parsed, texts, strict=True)]
    return [DeployView.of(result) for result in saved]


def current_flow(db: Engine, principal: Principal, namespace: str, flow_id: str) -> Flow:
    """The flow model of the current revision (what a run of it gets now: its inputs, to find FILE ones)."""
    authz.require_flow(principal, Action.READ, namespace, flow_id)
    with session_scope(db) as session:
        record = store.get_flow(session, namespace, flow_id)
        return flow_at(session, namespace, flow_id, record.revision, record.source)


def create(db: Engine, principal: Principal, namespace: str, flow_id: str) -> str:
    """A new flow with one task, saved as revision 1; returns its text. ``FlowInvalid`` for a bad id or
    namespace, ``Conflict`` when it exists. A new namespace needs the editor role on one above it."""
    authz.require_flow(principal, Action.EDIT_FLOW, namespace, flow_id)
    flow = {
        "id": flow_id,
        "namespace": namespace,
        "tasks": [{"id": "hello", "type": "log", "message": f"Hello from {flow_id}"}],
    }
    text = yaml.safe_dump(flow, sort_keys=False, allow_unicode=True)
    with session_scope(db) as session:
        try:
            store.get_flow(session, namespace, flow_id)
        except store.FlowNotFound:
            deploy_flow(session, text, author=principal.name)
            return text
    raise Conflict(f"{namespace}/{flow_id} already exists")


def decode_upload(source: bytes, filename: str) -> str:
    """An uploaded YAML file as text; ``InvalidInput`` for one that is not UTF-8."""
    try:
        return source.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{filename}: not UTF-8 text (byte {exc.start})") from None


def delete(db: Engine, principal: Principal, namespace: str, flow_id: str, *, author: str | None = None) -> None:
    """Mark the flow deleted (a tombstone revision); its history stays."""
    authz.require_flow(principal, Action.EDIT_FLOW, namespace, flow_id)
    with session_scope(db) as session:
        store.delete_flow(session, namespace, flow_id, author=author or principal.name)


def validate(text: str, filename: str = "body") -> ValidationView:
    """The line/column problems of ``text``; a text refused outright (too large, too deep, an alias bomb) is
    ``FlowInvalid``, as a save would be."""
    result = load_flow(text, filename)
    if result.refused:
        raise FlowInvalid(result.problems)
    return ValidationView(valid=result.ok, problems=[p.as_dict() for p in result.problems])


def revisions(db: Engine, principal: Principal, namespace: str, flow_id: str) -> list[RevisionView]:
    """Every revision, oldest first (deletions included); ``NotFound`` for a flow that never existed."""
    authz.require_flow(principal, Action.READ, namespace, flow_id)
    with session_scope(db) as session:
        found = store.list_revisions(session, namespace, flow_id)
        if not found:
            raise store.FlowNotFound(f"no flow {namespace}/{flow_id}")
        return [RevisionView.model_validate(r) for r in found]


def revision_source(db: Engine, principal: Principal, namespace: str, flow_id: str, revision: int) -> str:
    """A revision's YAML source, byte for byte."""
    authz.require_flow(principal, Action.READ, namespace, flow_id)
    with session_scope(db) as session:
        return store.get_revision(session, namespace, flow_id, revision).source


def graph(
    db: Engine, principal: Principal, namespace: str, flow_id: str, revision: int | None = None
) -> dict[str, Any]:
    """The flow's nodes and edges at ``revision`` (the current one by default)."""
    authz.require_flow(principal, Action.READ, namespace, flow_id)
    with session_scope(db) as session:
        record = store.get_flow(session, namespace, flow_id)
        flow = flow_at(session, namespace, flow_id, revision or record.revision)
    return flow_graph(flow).as_dict()
