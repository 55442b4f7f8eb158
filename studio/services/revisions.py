"""A flow's history in the editor: its revisions, one revision's text, and the side-by-side diff of two."""

from __future__ import annotations

import difflib
from typing import Any

from engine.identity.policy import Principal
from engine.services import flows as flow_service
from engine.services.connections import database


def revisions(principal: Principal, namespace: str, flow_id: str) -> list[dict[str, Any]]:
    """Every revision, newest first (deletions included), typed; none for a flow never saved."""
    try:
        found = flow_service.revisions(database(), principal, namespace, flow_id)
    except flow_service.FlowNotFound:
        return []  # a flow without revisions has no history to list
    return [
        {
            "revision": r.revision,
            "created": r.created_at,
            "author": r.author,
            "deleted": bool(r.deleted),
        }
        for r in reversed(found)
    ]


def revision_source(principal: Principal, namespace: str, flow_id: str, revision: int) -> str:
    return flow_service.revision_source(database(), principal, namespace, flow_id, revision)


def revision_diff(before: str, after: str, before_name: str, after_name: str) -> list[dict[str, str]]:
    """Side-by-side rows (left, right, kind) of two texts: equal, changed, added or removed lines."""
    rows: list[dict[str, str]] = []
    left, right = before.splitlines(), after.splitlines()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=left, b=right, autojunk=False).get_opcodes():
        span = max(i2 - i1, j2 - j1)
        for offset in range(span):
            a = left[i1 + offset] if i1 + offset < i2 else ""
            b = right[j1 + offset] if j1 + offset < j2 else ""
            rows.append({"left": a, "right": b, "kind": tag})
    return rows
