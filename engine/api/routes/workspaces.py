"""A namespace as a workspace: its members, variables and secrets (names only); personal tokens; users."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from engine.api.deps import Caller, actor, connections
from engine.api.errors import ApiError
from engine.api.schemas import ERRORS
from engine.identity import authz, tokens, users
from engine.identity.policy import Action, Role
from engine.store.tables import ApiToken, User, utcnow
from engine.workspace import secrets, variables

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


def _person(session: Session, caller: Caller) -> User:
    if caller is authz.LOCAL:
        raise ApiError(409, "no users yet: create the administrator first (lanner user create --admin)")
    return users.get_user(session, caller.name)


def _user(session: Session, username: str) -> User:
    try:
        return users.get_user(session, username)
    except users.UserNotFound as exc:
        raise ApiError(404, str(exc)) from None


@router.get("/namespaces/{namespace}/members", response_model=list[MemberOut], responses=ERRORS)
def list_members(caller: Caller, namespace: str) -> list[MemberOut]:
    """Roles granted on exactly this namespace (grants on its parents apply too)."""
    authz.require(caller, Action.READ, namespace)
    with Session(connections().db) as session:
        return [MemberOut(username=name, role=role) for name, role in users.members(session, namespace)]


@router.put("/namespaces/{namespace}/members/{username}", status_code=204, responses=ERRORS)
def set_member(caller: Caller, namespace: str, username: str, body: RoleIn) -> Response:
    authz.require(caller, Action.MANAGE_MEMBERS, namespace)
    with Session(connections().db) as session:
        try:
            users.grant(session, _user(session, username), namespace, body.role, actor=actor(caller))
        except users.UserError as exc:
            raise ApiError(422, str(exc)) from None
        session.commit()
    return Response(status_code=204)


@router.delete("/namespaces/{namespace}/members/{username}", status_code=204, responses=ERRORS)
def remove_member(caller: Caller, namespace: str, username: str) -> Response:
    authz.require(caller, Action.MANAGE_MEMBERS, namespace)
    with Session(connections().db) as session:
        if not users.revoke(session, _user(session, username), namespace, actor=actor(caller)):
            raise ApiError(404, f"{username} has no role on {namespace}")
        session.commit()
    return Response(status_code=204)


@router.get("/namespaces/{namespace}/variables", response_model=list[VariableOut], responses=ERRORS)
def list_variables(caller: Caller, namespace: str) -> list[VariableOut]:
    """The variables set on this namespace itself (flows also inherit their parents')."""
    authz.require(caller, Action.READ, namespace)
    with Session(connections().db) as session:
        return [
            VariableOut(name=v.name, value=v.value, updated_at=v.updated_at, updated_by=v.updated_by)
            for v in variables.list_variables(session, namespace)
        ]


@router.put("/namespaces/{namespace}/variables/{name}", status_code=204, responses=ERRORS)
def set_variable(caller: Caller, namespace: str, name: str, body: ValueIn) -> Response:
    authz.require(caller, Action.MANAGE_VARIABLES, namespace)
    if isinstance(body.value, dict | list):
        raise ApiError(422, "a variable is a scalar (text, number, boolean or null)")
    try:
        variables.check_name(name)
    except ValueError as exc:
        raise ApiError(422, str(exc)) from None
    with Session(connections().db) as session:
        variables.set_variable(session, namespace, name, body.value, actor=actor(caller))
        session.commit()
    return Response(status_code=204)


@router.delete("/namespaces/{namespace}/variables/{name}", status_code=204, responses=ERRORS)
def delete_variable(caller: Caller, namespace: str, name: str) -> Response:
    authz.require(caller, Action.MANAGE_VARIABLES, namespace)
    with Session(connections().db) as session:
        if not variables.delete_variable(session, namespace, name, actor=actor(caller)):
            raise ApiError(404, f"no variable {name} in {namespace}")
        session.commit()
    return Response(status_code=204)


@router.get("/namespaces/{namespace}/secrets", response_model=list[str], responses=ERRORS)
def list_secrets(caller: Caller, namespace: str) -> list[str]:
    """Names only: a secret's value is never shown again after it is saved."""
    authz.require(caller, Action.READ, namespace)
    with Session(connections().db) as session:
        return secrets.list_secret_names(session, namespace)


@router.put("/namespaces/{namespace}/secrets/{name}", status_code=204, responses=ERRORS)
def set_secret(caller: Caller, namespace: str, name: str, body: SecretIn) -> Response:
    authz.require(caller, Action.MANAGE_SECRETS, namespace)
    with Session(connections().db) as session:
        try:
            secrets.set_secret(session, namespace, name, body.value, actor=actor(caller))
        except ValueError as exc:
            raise ApiError(422, str(exc)) from None
        session.commit()
    return Response(status_code=204)


@router.delete("/namespaces/{namespace}/secrets/{name}", status_code=204, responses=ERRORS)
def delete_secret(caller: Caller, namespace: str, name: str) -> Response:
    authz.require(caller, Action.MANAGE_SECRETS, namespace)
    with Session(connections().db) as session:
        if not secrets.delete_secret(session, namespace, name, actor=actor(caller)):
            raise ApiError(404, f"no secret {name} in {namespace}")
        session.commit()
    return Response(status_code=204)


def _token_out(token: Any, plain: str | None = None) -> TokenOut:
    return TokenOut(
        id=token.id,
        name=token.name,
        prefix=token.prefix,
        created_at=token.created_at,
        last_used_at=token.last_used_at,
        expires_at=token.expires_at,
        revoked=token.revoked_at is not None,
        token=plain,
    )


@router.get("/tokens", response_model=list[TokenOut], responses=ERRORS)
def my_tokens(caller: Caller) -> list[TokenOut]:
    with Session(connections().db) as session:
        return [_token_out(t) for t in tokens.tokens_of(session, _person(session, caller))]


@router.post("/tokens", response_model=TokenOut, status_code=201, responses=ERRORS)
def create_token(caller: Caller, body: TokenIn) -> TokenOut:
    """A personal API token; the answer is the only time its value is shown."""
    expires = utcnow() + dt.timedelta(days=body.days) if body.days else None
    with Session(connections().db) as session:
        token, plain = tokens.create_token(
            session, _person(session, caller), body.name, actor=caller.name, expires_at=expires
        )
        out = _token_out(token, plain)
        session.commit()
    return out


@router.delete("/tokens/{token_id}", status_code=204, responses=ERRORS)
def revoke_token(caller: Caller, token_id: int) -> Response:
    with Session(connections().db) as session:
        person = _person(session, caller)
        found = session.get(ApiToken, token_id)
        if found is None or (found.user_id != person.id and not caller.is_admin):
            raise ApiError(404, f"no token {token_id}")
        tokens.revoke_token(session, token_id, actor=caller.name)
        session.commit()
    return Response(status_code=204)


@router.get("/users", response_model=list[UserOut], responses=ERRORS)
def list_users(caller: Caller) -> list[UserOut]:
    authz.require(caller, Action.MANAGE_USERS, None)
    with Session(connections().db) as session:
        return [
            UserOut(username=u.username, is_admin=u.is_admin, disabled=u.disabled) for u in users.list_users(session)
        ]


@router.post("/users", response_model=UserOut, status_code=201, responses=ERRORS)
def create_user(caller: Caller, body: UserIn) -> UserOut:
    authz.require(caller, Action.MANAGE_USERS, None)
    with Session(connections().db) as session:
        try:
            user = users.create_user(session, body.username, body.password, actor=actor(caller), is_admin=body.is_admin)
        except users.UserError as exc:
            raise ApiError(422, str(exc)) from None
        out = UserOut(username=user.username, is_admin=user.is_admin, disabled=user.disabled)
        session.commit()
    return out
