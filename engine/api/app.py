"""The FastAPI application: routers, error handlers, body limits, OpenAPI at /api/v1/openapi.json."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from engine.api import errors
from engine.api.guards import HttpMiddleware, RequestGuard, refuse
from engine.api.routes import (
    audit,
    auth,
    blueprints,
    cluster,
    connections,
    executions,
    files,
    flow_actions,
    flows,
    inbox,
    kv,
    logs,
    monitoring,
    namespaces,
    preferences,
    triggers,
    webhooks,
    workspaces,
)
from engine.metrics.asgi import RequestMetrics
from engine.metrics.process import start_process
from engine.workspace import uploads

PREFIX = "/api/v1"
MAX_BODY = 2 * 1024 * 1024  # flows and JSON bodies
MAX_UPLOAD = uploads.MAX_UPLOAD_BYTES  # multipart bodies carrying FILE inputs


class BodyLimit(HttpMiddleware):
    """Refuse bodies over the limit with 413 before a route reads them."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers") or [])
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        limit = MAX_UPLOAD if content_type.startswith("multipart/") else MAX_BODY
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await refuse(send, 413, f"the request body is larger than {limit} bytes")
            return
        seen = 0

        async def limited() -> dict:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise errors.ApiError(413, f"the request body is larger than {limit} bytes")
            return message

        await self.app(scope, limited, send)


def create_app() -> FastAPI:
    app = FastAPI(
        title="Lanner API",
        version="1",
        description="Flows, executions, logs, namespaces and webhooks of a Lanner installation.",
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=f"{PREFIX}/docs",
        redoc_url=None,
    )
    errors.install(app)
    routers = (
        *(auth, flows, blueprints, executions, files, logs, namespaces, workspaces, kv, triggers, webhooks, audit),
        inbox,
        connections,
        flow_actions,
        preferences,
        cluster,
    )
    for router in (module.router for module in routers):
        app.include_router(router, prefix=PREFIX)
    app.include_router(monitoring.router)  # /metrics and /health/*: at the root, for Prometheus and probes
    app.add_middleware(RequestGuard)  # inside the body limit: it reads bodies the limit already bounds
    app.add_middleware(BodyLimit)
    app.add_middleware(RequestMetrics, prefix=PREFIX)  # outermost: refused requests are counted too
    start_process("api")
    return app
