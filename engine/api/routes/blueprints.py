"""Blueprints: the gallery of ready flows, one blueprint with its YAML, and a new flow made from one."""

from __future__ import annotations

import getpass
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from engine.api.deps import Caller, actor, connections
from engine.api.schemas import ERRORS, DeployOut
from engine.identity.policy import Principal
from engine.services import blueprints
from engine.services.views import BlueprintView

router = APIRouter(tags=["blueprints"])


class UseIn(BaseModel):
    """Where the new flow goes: a namespace the caller edits and a flow id there that is still free."""

    model_config = ConfigDict(extra="forbid")

    namespace: str = Field(max_length=300)
    id: str = Field(max_length=200)


@router.get("/blueprints", response_model=list[BlueprintView], response_model_exclude_none=True, responses=ERRORS)
def list_blueprints(
    caller: Caller,
    category: Annotated[str | None, Query(max_length=50)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> list[BlueprintView]:
    """The gallery (without the YAML), of one ``category`` and matching ``q`` in titles, summaries, tags and
    task types when given."""
    return blueprints.search(category, q or "")


@router.get("/blueprints/{blueprint_id}", response_model=BlueprintView, responses=ERRORS)
def get_blueprint(caller: Caller, blueprint_id: str) -> BlueprintView:
    """One blueprint with its YAML ``source``."""
    return blueprints.get(blueprint_id)


def _use(caller: Principal, blueprint_id: str, body: UseIn) -> DeployOut:
    author = actor(caller, getpass.getuser())
    deployed = blueprints.use(connections().db, caller, blueprint_id, body.namespace, body.id, author=author)
    return DeployOut.model_validate(deployed, from_attributes=True)


@router.post("/blueprints/{blueprint_id}/use", response_model=DeployOut, status_code=201, responses=ERRORS)
async def use_blueprint(caller: Caller, blueprint_id: str, body: UseIn) -> DeployOut:
    """Create the flow ``namespace``/``id`` from the blueprint (the editor role on the namespace); 409 when it
    exists, 422 for a bad name."""
    return await run_in_threadpool(_use, caller, blueprint_id, body)
