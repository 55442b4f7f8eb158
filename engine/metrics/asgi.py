"""API requests counted and timed by route template (``/api/v1/executions/{execution_id}``, never the id itself);
what no API route matched (the studio's pages and files when it serves the API) is ``other``."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.metrics import record
from engine.metrics.labels import OTHER


class RequestMetrics:
    """``prefix``: where the API's routers are included (FastAPI keeps a route's own path, without it)."""

    def __init__(self, app: ASGIApp, prefix: str = "") -> None:
        self.app, self.prefix = app, prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not record.ENABLED:
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", None) or OTHER  # set by FastAPI once a route matched
            if route != OTHER and scope["path"].startswith(f"{self.prefix}/") and not route.startswith(self.prefix):
                route = self.prefix + route
            record.api_request(scope["method"], route, status, time.perf_counter() - started)
