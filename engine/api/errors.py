"""Errors as JSON with the right status; bad input is never a 500."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine.flows.problems import FlowInvalid
from engine.identity.authz import Unauthenticated
from engine.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.services.inbox import StorageDown


class ApiError(Exception):
    def __init__(self, status: int, message: str, **details: object) -> None:
        super().__init__(message)
        self.status, self.message, self.details = status, message, details


def label_filters(values: list[str]) -> dict[str, str]:
    """``KEY:VALUE`` query parameters (repeatable ``label=``) as a mapping; 400 for anything else."""
    pairs = {}
    for value in values:
        key, sep, wanted = value.partition(":")
        if not sep or not key:
            raise ApiError(400, f"label filter '{value}' is not KEY:VALUE")
        pairs[key] = wanted
    return pairs


def _body(message: str, **details: object) -> dict:
    return {"message": message, **details}


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(_body(exc.message, **exc.details), status_code=exc.status)

    @app.exception_handler(FlowInvalid)
    async def flow_invalid(_: Request, exc: FlowInvalid) -> JSONResponse:
        problems = [p.as_dict() for p in exc.problems]
        return JSONResponse(_body("the flow is invalid", problems=problems), status_code=422)

    # The service layer's refusals (engine/services/errors.py), whichever part raised them: one status each.
    @app.exception_handler(InvalidInput)
    async def invalid_input(_: Request, exc: InvalidInput) -> JSONResponse:
        return JSONResponse(_body(str(exc), **exc.details), status_code=422)

    @app.exception_handler(NotFound)
    async def not_found(_: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse(_body(str(exc).strip("'\"")), status_code=404)

    @app.exception_handler(Unauthenticated)
    async def unauthenticated(_: Request, exc: Unauthenticated) -> JSONResponse:
        return JSONResponse(_body(str(exc)), status_code=401, headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(Forbidden)
    async def forbidden(_: Request, exc: Forbidden) -> JSONResponse:
        return JSONResponse(_body(str(exc)), status_code=403)

    @app.exception_handler(StorageDown)
    async def _storage_down(_: Request, exc: StorageDown) -> JSONResponse:
        return JSONResponse(_body(f"the internal storage cannot be reached: {exc}"), status_code=503)

    @app.exception_handler(Conflict)
    async def conflict(_: Request, exc: Conflict) -> JSONResponse:
        return JSONResponse(_body(str(exc)), status_code=409)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"location": [str(p) for p in e.get("loc", ())], "message": e.get("msg", "")} for e in exc.errors()]
        return JSONResponse(_body("invalid request", errors=errors), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(_body(str(exc.detail)), status_code=exc.status_code)
