"""Namespaces with their counts of flows and executions."""

from __future__ import annotations

from fastapi import APIRouter

from engine.api.deps import Caller, connections
from engine.api.schemas import NamespaceOut
from engine.services import workspaces

router = APIRouter(tags=["namespaces"])


@router.get("/namespaces", response_model=list[NamespaceOut])
def list_namespaces(caller: Caller) -> list[NamespaceOut]:
    """The namespaces the caller may read, with their counts."""
    return [
        NamespaceOut.model_validate(view, from_attributes=True)
        for view in workspaces.namespaces(connections().db, caller)
    ]
