"""A namespace's key-value store: list (own and inherited), read, set and delete entries."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from engine.api.deps import Caller, actor, connections
from engine.api.errors import ApiError
from engine.api.schemas import ERRORS
from engine.services import kv
from engine.services.kv import KvEntryView

router = APIRouter(tags=["kv"])


class KvIn(BaseModel):
    """``value``: any JSON; ``ttl`` (``PT1H``, ``1h``) or ``expiresAt`` (ISO-8601), not both; ``overwrite: false``
    refuses (409) a key the namespace already holds."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    value: Any
    ttl: str | None = Field(default=None, max_length=100)
    expires_at: dt.datetime | None = None
    overwrite: bool = True


@router.get("/namespaces/{namespace}/kv", response_model=list[KvEntryView], responses=ERRORS)
def list_entries(caller: Caller, namespace: str) -> list[KvEntryView]:
    """Every entry the namespace's flows read: its own (``own: true``) and those inherited from the nearest
    namespace above that sets the key (``origin``). Expired entries are not listed."""
    return kv.entries(connections().db, caller, namespace)


@router.get("/namespaces/{namespace}/kv/{key}", response_model=KvEntryView, responses=ERRORS)
def get_entry(caller: Caller, namespace: str, key: str) -> KvEntryView:
    """The entry ``kv('key')`` reads in the namespace (its own or inherited); 404 when none or expired."""
    return kv.entry(connections().db, caller, namespace, key)


@router.put("/namespaces/{namespace}/kv/{key}", response_model=KvEntryView, responses=ERRORS)
def set_entry(caller: Caller, namespace: str, key: str, body: KvIn) -> KvEntryView:
    return kv.set_entry(
        connections().db, caller, namespace, key, body.value, ttl=body.ttl, expires_at=body.expires_at,
        overwrite=body.overwrite, actor=actor(caller),
    )  # fmt: skip


@router.delete("/namespaces/{namespace}/kv/{key}", status_code=204, responses=ERRORS)
def delete_entry(caller: Caller, namespace: str, key: str) -> Response:
    """Deletes the namespace's own entry (an inherited one belongs to its namespace); 404 when it has none."""
    if not kv.delete_entry(connections().db, caller, namespace, key, actor=actor(caller)):
        raise ApiError(404, f"no kv key {key} in {namespace}")
    return Response(status_code=204)
