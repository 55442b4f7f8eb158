"""What API routes share: the connections (opened once per process) and who is calling."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Concatenate, ParamSpec, TypeVar
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session

from engine.config import load_settings
from engine.identity import authz
from engine.identity.policy import Principal
from engine.identity.sessions import COOKIE_NAME
from engine.runtime.connection import connect
from engine.services.connections import Connections, open_database


@functools.cache
def connections() -> Connections:
    settings = load_settings()
    if not settings.redis_url:
        raise RuntimeError("the API needs LANNER_REDIS_URL (lanner server and lanner api set it)")
    return Connections(open_database(settings.database_url), connect(settings.redis_url))


def bearer_token(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value if scheme.lower() == "bearer" and value else None


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _cross_origin(request: Request) -> bool:
    """A browser request sent by another page than ours (another port of the same host counts: SameSite does
    not stop it). Browsers always send Origin on such writes; programs without it use tokens anyway."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin == "null"
    ours = {request.headers.get("host", ""), request.headers.get("x-forwarded-host", "")}  # behind a proxy too
    return urlsplit(origin).netloc not in ours


def current_principal(request: Request) -> Principal:
    """The caller, from ``Authorization: Bearer`` or the studio's session cookie (401 when neither is valid).

    A session cookie is only honoured for writes coming from the studio's own pages (no cross-site forgery)."""
    bearer = bearer_token(request)
    cookie = request.cookies.get(COOKIE_NAME)
    if cookie and not bearer and request.method not in SAFE_METHODS and _cross_origin(request):
        cookie = None
    with Session(connections().db) as session:
        principal = authz.principal_from(session, bearer=bearer, cookie=cookie)
        session.commit()  # a token's last use
    return principal


Caller = Annotated[Principal, Depends(current_principal)]

Params = ParamSpec("Params")
Answer = TypeVar("Answer")


async def as_caller(
    request: Request,
    work: Callable[Concatenate[Principal, Params], Answer],
    *args: Params.args,
    **kwargs: Params.kwargs,
) -> Answer:
    """``work(caller, ...)`` in one trip to the thread pool, the caller resolved there by ``current_principal``.

    For the routes clients call in loops (a trigger, the poll of an execution): a ``Caller`` dependency and a sync
    route take three trips (the dependency, the route, the check of its answer), and this one trip costs a poll a
    quarter less of the API's CPU (bench/api_calls.py). A route using it is ``async`` and takes the ``Request``."""
    return await run_in_threadpool(_as_caller, request, work, args, kwargs)


def _as_caller(request: Request, work: Callable[..., Answer], args: tuple, kwargs: dict) -> Answer:
    return work(current_principal(request), *args, **kwargs)


def actor(principal: Principal, fallback: str = "api") -> str:
    """The name the audit trail records: the person, or ``fallback`` on a local install without users."""
    return fallback if principal is authz.LOCAL else principal.name
