"""A namespace as a workspace: its members, variables and secrets (names only); personal tokens; users."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from engine.api.deps import Caller, actor, connections
from engine.api.errors import ApiError
from engine.api.schemas import ERRORS
from engine.identity import lifetimes
from engine.identity.policy import Role
from engine.services import members, people, resources, task_defaults, workspaces

router = APIRouter(tags=["workspaces"])


class MemberOut(BaseModel):
    username: str
    role: Role


class RoleIn(BaseModel):
    role: Role


class VariableOut(BaseModel):
    name: str
    value: Any
    updated_at: dt.datetime
    updated_by: str | None


class ValueIn(BaseModel):
    value: Any


class SecretIn(BaseModel):
    value: str = Field(min_length=1, max_length=65536)


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    days: int | None = Field(default=None, ge=1, le=3650)


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    expires_at: dt.datetime | None
    revoked: bool
    token: str | None = None  # only in the answer that creates it


class UserIn(BaseModel):
    username: str
    password: str
    is_admin: bool = False


class UserOut(BaseModel):
    username: str
    is_admin: bool
    disabled: bool


def _no_content(done: bool = True, missing: str = "") -> Response:
    """204 once the change is made; 404 ``missing`` when there was nothing to delete."""
    if not done:
        raise ApiError(404, missing)
    return Response(status_code=204)


@router.get("/namespaces/{namespace}/members", response_model=list[MemberOut], responses=ERRORS)
def list_members(caller: Caller, namespace: str) -> list[MemberOut]:
    """Roles granted on exactly this namespace (grants on its parents apply too)."""
    return [
        MemberOut.model_validate(m, from_attributes=True) for m in members.members(connections().db, caller, namespace)
    ]


@router.put("/namespaces/{namespace}/members/{username}", status_code=204, responses=ERRORS)
def set_member(caller: Caller, namespace: str, username: str, body: RoleIn) -> Response:
    members.set_role(connections().db, caller, namespace, username, body.role, actor=actor(caller))
    return _no_content()


@router.delete("/namespaces/{namespace}/members/{username}", status_code=204, responses=ERRORS)
def remove_member(caller: Caller, namespace: str, username: str) -> Response:
    done = members.remove(connections().db, caller, namespace, username, actor=actor(caller))
    return _no_content(done, f"{username} has no role on {namespace}")


@router.get("/namespaces/{namespace}/variables", response_model=list[VariableOut], responses=ERRORS)
def list_variables(caller: Caller, namespace: str) -> list[VariableOut]:
    """The variables set on this namespace itself (flows also inherit their parents')."""
    found = workspaces.variables_of(connections().db, caller, namespace)
    return [VariableOut.model_validate(v, from_attributes=True) for v in found]


@router.put("/namespaces/{namespace}/variables/{name}", status_code=204, responses=ERRORS)
def set_variable(caller: Caller, namespace: str, name: str, body: ValueIn) -> Response:
    workspaces.set_variable(connections().db, caller, namespace, name, body.value, actor=actor(caller))
    return _no_content()


@router.delete("/namespaces/{namespace}/variables/{name}", status_code=204, responses=ERRORS)
def delete_variable(caller: Caller, namespace: str, name: str) -> Response:
    done = workspaces.delete_variable(connections().db, caller, namespace, name, actor=actor(caller))
    return _no_content(done, f"no variable {name} in {namespace}")


@router.get("/namespaces/{namespace}/secrets", response_model=list[str], responses=ERRORS)
def list_secrets(caller: Caller, namespace: str) -> list[str]:
    """Names only: a secret's value is never shown again after it is saved."""
    return workspaces.secret_names(connections().db, caller, namespace)


@router.put("/namespaces/{namespace}/secrets/{name}", status_code=204, responses=ERRORS)
def set_secret(caller: Caller, namespace: str, name: str, body: SecretIn) -> Response:
    workspaces.set_secret(connections().db, caller, namespace, name, body.value, actor=actor(caller))
    return _no_content()


@router.delete("/namespaces/{namespace}/secrets/{name}", status_code=204, responses=ERRORS)
def delete_secret(caller: Caller, namespace: str, name: str) -> Response:
    done = workspaces.delete_secret(connections().db, caller, namespace, name, actor=actor(caller))
    return _no_content(done, f"no secret {name} in {namespace}")


class TaskDefaultsIn(BaseModel):
    source: str = Field(max_length=200_000)
    """The YAML list of {type, values, forced}, as written (empty: none)."""


class TaskDefaultsOut(BaseModel):
    namespace: str
    source: str
    defaults: list[dict[str, Any]]
    updated_by: str | None = None
    inherited: list[dict[str, Any]] = []


@router.get("/namespaces/{namespace}/task-defaults", response_model=TaskDefaultsOut, responses=ERRORS)
def get_task_defaults(caller: Caller, namespace: str) -> TaskDefaultsOut:
    """The namespace's own task defaults, and those it inherits (nearest first)."""
    found = task_defaults.task_defaults_of(connections().db, caller, namespace)
    return TaskDefaultsOut.model_validate(found, from_attributes=True)


@router.put("/namespaces/{namespace}/task-defaults", response_model=TaskDefaultsOut, responses=ERRORS)
def set_task_defaults(caller: Caller, namespace: str, body: TaskDefaultsIn) -> TaskDefaultsOut:
    """Replace them; 422 with problems (line, column, message) when the YAML is wrong."""
    db = connections().db
    task_defaults.set_task_defaults(db, caller, namespace, body.source, actor=actor(caller))
    return TaskDefaultsOut.model_validate(task_defaults.task_defaults_of(db, caller, namespace), from_attributes=True)


class ResourcesOut(BaseModel):
    namespace: str
    worker_group: str | None
    """Set on the namespace itself; ``inherited_worker_group`` is the nearest parent's when it sets none."""
    inherited_worker_group: str | None
    max_running_executions: int | None
    max_running_task_runs: int | None
    updated_by: str | None = None


class ResourcesIn(BaseModel):
    """The settings to change (the others are kept); null clears one."""

    model_config = {"extra": "forbid"}
    worker_group: str | None = Field(default=None, max_length=64)
    max_running_executions: int | None = None
    max_running_task_runs: int | None = None


@router.get("/namespaces/{namespace}/resources", response_model=ResourcesOut, responses=ERRORS)
def get_resources(caller: Caller, namespace: str) -> ResourcesOut:
    """The namespace's worker group and limits."""
    found = resources.resources_of(connections().db, caller, namespace)
    return ResourcesOut.model_validate(found, from_attributes=True)


@router.patch("/namespaces/{namespace}/resources", response_model=ResourcesOut, responses=ERRORS)
def set_resources(caller: Caller, namespace: str, body: ResourcesIn) -> ResourcesOut:
    """Change the settings the body names: the worker group needs the namespace's admin role, limits a global
    administrator; 422 naming a wrong value."""
    values = body.model_dump(exclude_unset=True)
    found = resources.set_resources(connections().db, caller, namespace, values, actor=actor(caller))
    return ResourcesOut.model_validate(found, from_attributes=True)


@router.get("/tokens", response_model=list[TokenOut], responses=ERRORS)
def my_tokens(caller: Caller) -> list[TokenOut]:
    return [TokenOut.model_validate(t, from_attributes=True) for t in people.tokens_of(connections().db, caller)]


@router.post("/tokens", response_model=TokenOut, status_code=201, responses=ERRORS)
def create_token(caller: Caller, body: TokenIn) -> TokenOut:
    """A personal API token; the answer is the only time its value is shown."""
    expires = lifetimes.now() + dt.timedelta(days=body.days) if body.days else None
    made = people.create_token(connections().db, caller, body.name, expires_at=expires, actor=caller.name)
    return TokenOut.model_validate(made, from_attributes=True)


@router.delete("/tokens/{token_id}", status_code=204, responses=ERRORS)
def revoke_token(caller: Caller, token_id: int) -> Response:
    people.revoke_token(connections().db, caller, token_id, any_owner=True, actor=caller.name)
    return _no_content()


@router.get("/users", response_model=list[UserOut], responses=ERRORS)
def list_users(caller: Caller) -> list[UserOut]:
    return [UserOut.model_validate(u, from_attributes=True) for u in people.list_users(connections().db, caller)]


@router.post("/users", response_model=UserOut, status_code=201, responses=ERRORS)
def create_user(caller: Caller, body: UserIn) -> UserOut:
    made = people.create_user(
        connections().db, caller, body.username, body.password, is_admin=body.is_admin, actor=actor(caller)
    )
    return UserOut.model_validate(made, from_attributes=True)
