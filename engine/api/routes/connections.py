"""Testing a database task's connection (the studio's "Test connection" button)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from engine.api.deps import Caller, connections
from engine.api.schemas import ERRORS
from engine.services import connection_test

router = APIRouter(tags=["connections"])


class ConnectionTestIn(BaseModel):
    namespace: str = Field(max_length=150)
    """The namespace whose secrets and task defaults the task is tested with."""
    task: dict[str, Any]
    """The task as in the flow: its type and url or connection (expressions may call secret())."""


class ConnectionTestOut(BaseModel):
    ok: bool
    message: str


@router.post("/connections/test", response_model=ConnectionTestOut, responses=ERRORS)
def test_connection(caller: Caller, body: ConnectionTestIn) -> ConnectionTestOut:
    """Connect and run SELECT 1 within 5 s; the message names host and database, never the password."""
    result = connection_test.test_connection(connections().db, caller, body.namespace, body.task)
    return ConnectionTestOut(ok=result.ok, message=result.message)
