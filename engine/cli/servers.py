"""The long-running processes: ``lanner server``, ``studio``, ``api``, ``executor``, ``worker`` and ``scheduler``."""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import replace
from types import ModuleType

import click

from engine.cli.output import fail
from engine.config import load_settings, reset_settings
from engine.identity.crypto import SecretKeyMissing, load_key
from engine.runtime.children import spawn
from engine.runtime.connection import redis_url
from engine.runtime.launcher import run_studio
from engine.services.connections import open_database

# The worker (RQ), the executor and the API app are heavy: each is loaded here, by the command that runs it,
# so that `lanner --help` and every other command start without them.


def _worker() -> ModuleType:
    from engine.runtime import worker

    return worker


def _engine_server() -> ModuleType:
    """engine.runtime.server: the executor and scheduler loops, and process supervision (it imports the worker)."""
    from engine.runtime import server

    return server


def _api_serving() -> tuple[ModuleType, ModuleType]:
    """uvicorn and engine.api (the FastAPI app)."""
    import uvicorn

    from engine import api

    return uvicorn, api


def _present(url: str, kind: str) -> contextlib.AbstractContextManager:
    """This process shows on the Cluster page (its heartbeat in Redis) while it serves."""
    from engine.runtime import cluster  # loads RQ: only in the commands that serve
    from engine.runtime.connection import connect

    return cluster.present(connect(url), cluster.ProcessKind(kind))


def _require_secret_key() -> None:
    """Refuse to start a process that runs flows when namespace secrets could not be decrypted."""
    try:
        load_key()  # in development this also creates LANNER_HOME/secret.key before any child reads it
    except SecretKeyMissing as exc:
        fail(str(exc))


@click.command("worker")
@click.option("--workers", "-n", default=1, show_default=True, help="Worker processes to run.")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def worker_command(workers: int, burst: bool) -> None:
    """Run task workers (RQ) on LANNER_REDIS_URL (or the embedded Redis)."""
    _require_secret_key()
    settings = load_settings()
    open_database(settings.database_url)
    with redis_url(settings) as url:
        _worker().work(url, workers, burst=burst)


@click.command("executor")
def executor_command() -> None:
    """Run an executor: it advances executions as their tasks report."""
    _require_secret_key()
    settings = load_settings()
    with redis_url(settings) as url:
        _engine_server().run_executor(settings, url)


@click.command("scheduler")
def scheduler_command() -> None:
    """Run the scheduler: schedule triggers and backfills (safe to run more than one)."""
    settings = load_settings()
    open_database(settings.database_url)
    with redis_url(settings) as url:
        _engine_server().run_scheduler(settings, url)


@click.command("api")
@click.option("--port", default=8080, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
def api_command(port: int, host: str) -> None:
    """Serve the REST API alone (the studio also serves it under /api/v1). Docs at /api/v1/docs."""
    uvicorn, api = _api_serving()
    settings = load_settings()
    open_database(settings.database_url)
    with redis_url(settings) as url:
        os.environ["LANNER_REDIS_URL"] = url
        reset_settings()  # the app reads the settings again, with this URL
        with _present(url, "api"):
            uvicorn.run(api.create_app(), host=host, port=port, log_level="warning")


@click.command("studio")
@click.option("--port", default=3000, show_default=True)
@click.option("--host", default="0.0.0.0", show_default=True)  # noqa: S104 - the studio is meant to be reached
def studio_command(port: int, host: str) -> None:
    """Run only the studio (a cluster runs executors and workers as their own services)."""
    settings = load_settings()
    open_database(settings.database_url)
    with redis_url(settings) as url, _present(url, "studio"):
        status = run_studio(replace(settings, redis_url=url), host=host, port=port)
    sys.exit(status)


@click.command("server")
@click.option("--port", default=3000, show_default=True, help="Port of the studio (UI and API on one port).")
@click.option("--workers", "-n", default=max(os.cpu_count() or 2, 2), show_default=True, help="Worker processes.")
@click.option(
    "--host",
    default="0.0.0.0",  # noqa: S104 - the studio is meant to be reached
    show_default=True,
)
def server_command(port: int, host: str, workers: int) -> None:
    """Run all of Lanner on one machine: studio, executor and workers (SQLite + embedded Redis by default)."""
    server = _engine_server()
    _require_secret_key()
    settings = load_settings()
    open_database(settings.database_url)  # migrate before anything serves
    with redis_url(settings) as url:
        env = server.child_environment(settings, url)
        server.stop_on_sigterm()
        parts = [
            spawn([sys.executable, "-m", "engine", part, *extra], env)
            for part, *extra in (("executor",), ("scheduler",), ("worker", "-n", str(workers)))
        ]
        try:
            with _present(url, "studio"):
                status = run_studio(replace(settings, redis_url=url), host=host, port=port)
        finally:
            for part in parts:
                server.stop_process(part)
    sys.exit(status)
