"""The studio's one way into the engine. Pages and states call these functions, never Redis or SQL."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlalchemy import Engine

from engine.config import load_settings
from engine.store import flows as flow_store
from engine.store.database import open_database, session_scope


@functools.cache
def _database() -> Engine:
    return open_database(load_settings().database_url)


@dataclass(frozen=True)
class FlowSummary:
    namespace: str
    flow_id: str
    revision: int
    description: str
    updated_at: str
    disabled: bool


def list_flows(namespace: str | None = None, search: str = "") -> list[FlowSummary]:
    needle = search.strip().lower()
    with session_scope(_database()) as session:
        records = flow_store.list_flows(session, namespace or None)
    return [
        FlowSummary(
            r.namespace,
            r.flow_id,
            r.revision,
            (r.description or "").strip().splitlines()[0] if r.description else "",
            r.updated_at.strftime("%Y-%m-%d %H:%M"),
            r.disabled,
        )
        for r in records
        if not needle or needle in f"{r.namespace}/{r.flow_id} {r.description or ''}".lower()
    ]


def namespaces() -> list[str]:
    with session_scope(_database()) as session:
        return sorted({r.namespace for r in flow_store.list_flows(session)})


def flow_source(namespace: str, flow_id: str) -> str:
    with session_scope(_database()) as session:
        return flow_store.get_flow(session, namespace, flow_id).source
