"""Hostile request shapes refused before any route sees them: NUL characters and JSON nested too deep.

PostgreSQL cannot store a NUL character in text or JSON, and Python's ``json`` recurses once per nesting level
(a 100,000-deep body ends in ``RecursionError``): both used to be 500s. Checked once here for every request,
so no route has to remember; the answer is a 400 that says what is wrong.
"""

from __future__ import annotations

import json
from itertools import accumulate

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.api.errors import ApiError

MAX_JSON_DEPTH = 100  # nested objects and arrays in a JSON body; flows' YAML has the same bound
MAX_JSON_CONTAINERS = 50_000  # objects and arrays in one body: building each one costs (the GC most of all)

_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'[]{}"')
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
INLINE_CHECK_BYTES = 64 * 1024  # larger bodies are checked in a thread: the event loop serves everyone else


def _unescaped(raw: bytes) -> bytes:
    """Without its escaped backslashes: what a backslash still starts is an escape (``\\u0000``, ``\\"``).
    Replacing runs from the left pairs them the way JSON does."""
    return raw.replace(b"\\\\", b"")


def json_shape(raw: bytes) -> tuple[int, int]:
    """How deeply the arrays and objects of a JSON text nest, and how many there are, counted without building
    them (brackets inside strings do not count). Linear, iterative, and without a container per value."""
    skeleton = _unescaped(raw).replace(b'\\"', b"").translate(None, _NOT_STRUCTURE)
    if b'"' in skeleton:
        skeleton = b"".join(skeleton.split(b'"')[::2])  # what lies between quotes is in strings
    containers = skeleton.count(b"[") + skeleton.count(b"{")
    if containers <= MAX_JSON_DEPTH:
        return containers, containers  # an upper bound is enough: most bodies end here
    return max(accumulate(map(_STEP.__getitem__, skeleton)), default=0), containers


def body_problem(raw: bytes, content_type: str) -> str | None:
    """Why a (non-multipart) body is refused, or None."""
    if b"\x00" in raw:
        return "the body holds a NUL character, which is not accepted"
    if content_type.startswith("application/x-www-form-urlencoded") and b"%00" in raw:
        return "a form field holds a NUL character (%00), which is not accepted"
    looks_like_json = "json" in content_type or raw.lstrip()[:1] in (b"{", b"[")
    if not looks_like_json:
        return None
    if b"\\u0000" in _unescaped(raw):
        return "the JSON body holds a NUL character (\\u0000), which is not accepted"
    depth, containers = json_shape(raw)
    if depth > MAX_JSON_DEPTH:
        return f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels"
    if containers > MAX_JSON_CONTAINERS:
        return f"the JSON body holds more than {MAX_JSON_CONTAINERS} arrays and objects"
    return None


def url_problem(scope: Scope) -> str | None:
    if "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b"").lower():
        return "the URL holds a NUL character (%00), which is not accepted"
    return None


def refuse_nul(value: str, what: str) -> str:
    """``value`` unchanged, or a 400 naming ``what`` (for fields of multipart bodies, which stay streamed)."""
    if "\x00" in value:
        raise ApiError(400, f"{what} holds a NUL character, which is not accepted")
    return value


class HttpMiddleware:
    """An ASGI middleware that looks at HTTP requests (``http``); anything else (lifespan) passes through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.http(scope, receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


class RequestGuard(HttpMiddleware):
    """Reads a non-multipart body once (the body limit already bounds it), checks it, and hands the same bytes
    to the route."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        problem = url_problem(scope)
        if problem:
            await refuse(send, 400, problem)
            return
        headers = dict(scope.get("headers") or [])
        content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
        if content_type.startswith("multipart/") or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        try:
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    await self.app(scope, receive, send)  # the client left: let the route see it
                    return
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    break
        except ApiError as exc:  # the body limit
            await refuse(send, exc.status, exc.message)
            return
        raw = b"".join(chunks)
        if len(raw) > INLINE_CHECK_BYTES:  # reading 2 MiB takes a moment: not on the event loop
            problem = await anyio.to_thread.run_sync(body_problem, raw, content_type)
        else:
            problem = body_problem(raw, content_type)
        if problem:
            await refuse(send, 400, problem)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # after the body: only a disconnect can come
            replayed = True
            return {"type": "http.request", "body": raw, "more_body": False}

        await self.app(scope, replay, send)


async def refuse(send: Send, status: int, message: str) -> None:
    """Answer ``{"message": ...}`` with ``status`` before any route sees the request."""
    body = json.dumps({"message": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
