"""Signing in and out of the studio (an HttpOnly session cookie), the first administrator, and "who am I".

The studio's sign-in page posts a plain HTML form here, so the password never passes through the studio's
websocket state and the cookie is set by the server (JavaScript cannot read it).
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from engine.api.deps import Caller, connections
from engine.api.errors import ApiError
from engine.api.guards import refuse_nul
from engine.config import load_settings
from engine.identity import audit, authz, login_limit, users
from engine.identity import sessions as login_sessions
from engine.identity.sessions import COOKIE_NAME, LIFETIME

router = APIRouter(tags=["auth"])


class MeOut(BaseModel):
    username: str
    is_admin: bool
    sign_in_required: bool
    memberships: dict[str, str]


async def _fields(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = await request.json()
        except ValueError:
            raise ApiError(400, "the body is not JSON") from None
        return body if isinstance(body, dict) else {}
    try:
        form = await request.form()
    except Exception as exc:  # starlette raises its own parser errors for malformed bodies
        raise ApiError(400, f"the body is not a form: {exc}") from None
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _wants_html(request: Request) -> bool:
    return not request.headers.get("content-type", "").startswith("application/json")


def _safe_next(value: object) -> str:
    """Only a path of this site: an open redirect would let a phishing link borrow our sign-in page."""
    text = str(value or "/")
    parts = urlsplit(text)
    if parts.scheme or parts.netloc or not text.startswith("/") or text.startswith("//") or "\\" in text:
        return "/"
    return text


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or load_settings().cookie_secure


def _signed_in(request: Request, response: Response, plain: str) -> Response:
    response.set_cookie(
        COOKIE_NAME,
        plain,
        max_age=int(LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )
    return response


def _refused(request: Request, page: str, message: str, next_path: str, status: int) -> Response:
    if _wants_html(request):
        return RedirectResponse(f"{page}?error={quote(message)}&next={quote(next_path)}", status_code=303)
    return JSONResponse({"message": message}, status_code=status)


@router.post("/auth/login", responses={303: {"description": "signed in (HTML form)"}})
async def login(request: Request) -> Response:
    """Sign in with ``username`` and ``password`` (an HTML form or JSON); sets the session cookie."""
    fields = await _fields(request)
    username = refuse_nul(str(fields.get("username", "")), "the username").strip().lower()
    password = refuse_nul(str(fields.get("password", "")), "the password")
    next_path = _safe_next(fields.get("next"))
    redis = connections().redis
    client = _client(request)
    verdict = login_limit.check(redis, username, client)
    if not verdict.allowed:
        response = _refused(
            request, "/login", f"too many failed attempts: try again in {verdict.retry_after} s", next_path, 429
        )
        response.headers["Retry-After"] = str(verdict.retry_after)
        return response
    if verdict.delay:  # a name under attack from elsewhere: slower, never refused
        await asyncio.sleep(verdict.delay)
    # Password hashing is slow on purpose: in a thread, so the event loop goes on serving everyone else.
    signed_in = await run_in_threadpool(_sign_in, username, password, client)
    if signed_in is None:
        return _refused(request, "/login", "wrong username or password", next_path, 401)
    body, plain = signed_in
    if _wants_html(request):
        return _signed_in(request, RedirectResponse(next_path, status_code=303), plain)
    return _signed_in(request, JSONResponse(body), plain)


def _sign_in(username: str, password: str, client: str | None) -> tuple[dict[str, Any], str] | None:
    """The answer's body and the new session's cookie value; None (counted as a failure) for a wrong password."""
    redis = connections().redis
    with Session(connections().db) as session:
        user = users.authenticate(session, username, password)
        if user is None:
            audit.record(session, audit.SYSTEM, audit.AuditAction.LOGIN_FAILED, None, "user", username[:64])
            session.commit()
            login_limit.record_failure(redis, username, client)
            return None
        _, plain = login_sessions.open_session(session, user, client=client)
        body = {"username": user.username, "is_admin": user.is_admin}
        session.commit()
    login_limit.record_success(redis, username, client)
    return body, plain


@router.post("/auth/logout", responses={303: {"description": "signed out (HTML form)"}})
async def logout(request: Request) -> Response:
    plain = request.cookies.get(COOKIE_NAME)
    if plain:
        with Session(connections().db) as session:
            login_sessions.close_session(session, plain)
            session.commit()
    response: Response = Response(status_code=204)
    if _wants_html(request):
        response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="lax", secure=_secure(request))
    return response


@router.post("/auth/setup", responses={303: {"description": "administrator created (HTML form)"}})
async def setup(request: Request) -> Response:
    """Create the first administrator, once: refused (409) as soon as any user exists."""
    fields = await _fields(request)
    username = refuse_nul(str(fields.get("username", "")), "the username").strip().lower()
    password = refuse_nul(str(fields.get("password", "")), "the password")
    confirm = fields.get("confirm")
    if confirm is not None and str(confirm) != password:
        return _refused(request, "/setup", "the two passwords differ", "/", 422)
    # The lock's wait and the password hash are blocking work: never on the event loop.
    outcome = await run_in_threadpool(_first_administrator, username, password, _client(request))
    if isinstance(outcome, tuple):
        page, message, status = outcome
        return _refused(request, page, message, "/", status)
    plain = outcome
    if _wants_html(request):
        return _signed_in(request, RedirectResponse("/flows", status_code=303), plain)
    return _signed_in(request, JSONResponse({"username": username, "is_admin": True}, status_code=201), plain)


def _first_administrator(username: str, password: str, client: str | None) -> str | tuple[str, str, int]:
    """The new administrator's session (its cookie value), or why not: (page to show, message, status)."""
    redis = connections().redis
    # One setup at a time across processes: two people racing to be the first admin must not both win.
    with redis.lock("lanner:setup-lock", timeout=30, blocking_timeout=10), Session(connections().db) as session:
        if authz.sign_in_required(session):
            return "/login", "the administrator already exists: sign in", 409
        try:
            user = users.create_user(session, username, password, actor=username or "setup", is_admin=True)
        except users.UserError as exc:
            return "/setup", str(exc), 422
        _, plain = login_sessions.open_session(session, user, client=client)
        session.commit()
    return plain


@router.get("/auth/me", response_model=MeOut)
def me(caller: Caller) -> MeOut:
    with Session(connections().db) as session:
        required = authz.sign_in_required(session)
    return MeOut(
        username=caller.name,
        is_admin=caller.is_admin,
        sign_in_required=required,
        memberships={name: role.value for name, role in caller.memberships.items()},
    )
