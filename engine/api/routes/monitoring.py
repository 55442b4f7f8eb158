"""/metrics, /health/live and /health/ready of the API process, at the root of its port (outside /api/v1):
for Prometheus and for probes. The health paths answer anyone; /metrics (whose series name namespaces, flows and
tasks) a scraper with LANNER_METRICS_TOKEN, or one on this machine when no token is set."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from engine.api.deps import connections
from engine.metrics.exposition import (
    CONTENT_TYPE_LATEST,
    SCRAPE_REFUSED,
    health_answer,
    may_scrape,
    metrics_text,
    readiness,
)

router = APIRouter(include_in_schema=False)


def _problems() -> list[str]:
    try:
        opened = connections()
    except Exception as exc:  # no Redis configured, or the database cannot be opened at all
        return [f"the API's connections cannot be opened: {exc}"]
    return readiness(opened.db, opened.redis)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    if not may_scrape(request.client.host if request.client else None, request.headers.get("authorization")):
        return JSONResponse({"detail": SCRAPE_REFUSED}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
    return Response(await run_in_threadpool(metrics_text), media_type=CONTENT_TYPE_LATEST)


@router.get("/health/live")
async def live() -> JSONResponse:
    status, body = health_answer("/health/live", _problems)
    return JSONResponse(body, status_code=status)


@router.get("/health/ready")
async def ready(request: Request) -> JSONResponse:
    detailed = may_scrape(request.client.host if request.client else None, request.headers.get("authorization"))
    status, body = await run_in_threadpool(health_answer, "/health/ready", _problems, detailed)
    return JSONResponse(body, status_code=status)
