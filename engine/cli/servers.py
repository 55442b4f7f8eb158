"""The long-running processes: ``lanner server``, ``studio``, ``api``, ``executor``, ``worker``, ``scheduler`` and
``trigger-listener``."""

from __future__ import annotations

import contextlib
import os
import re
import sys
from dataclasses import replace
from types import ModuleType
from typing import TYPE_CHECKING

import click

from engine.cli.output import fail
from engine.config import load_settings, reset_settings
from engine.flows.spec import WORKER_GROUP_PATTERN
from engine.identity.crypto import SecretKeyMissing, load_key
from engine.metrics.folder import shared_metrics_folder
from engine.runtime.children import spawn
from engine.runtime.connection import redis_url
from engine.runtime.launcher import run_studio
from engine.runtime.memory import collect_less
from engine.services.connections import open_database

if TYPE_CHECKING:
    from fastapi import FastAPI

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


def _monitor(process: str, redis: str, port: int | None) -> None:
    """Metrics and health of this process on its management port (--metrics-port, else LANNER_METRICS_PORT)."""
    from engine.metrics.process import start_process  # after the metrics folder is chosen (lanner server)

    start_process(process, redis_url=redis, port=port)


METRICS_PORT = click.option(
    "--metrics-port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Serve /metrics, /health/live and /health/ready on this port (default: LANNER_METRICS_PORT, else none).",
)


def _require_secret_key() -> None:
    """Refuse to start a process that runs flows when namespace secrets could not be decrypted."""
    try:
        load_key()  # in development this also creates LANNER_HOME/secret.key before any child reads it
    except SecretKeyMissing as exc:
        fail(str(exc))


def _check_groups(_context: click.Context, _parameter: click.Parameter, groups: tuple[str, ...]) -> tuple[str, ...]:
    for group in groups:
        if not re.match(WORKER_GROUP_PATTERN, group) or len(group) > 64:
            raise click.BadParameter(f"'{group}' is not a group name (lowercase letters, digits, - and _)")
    return tuple(dict.fromkeys(groups))


@click.command("worker")
@click.option("--workers", "-n", default=1, show_default=True, help="Worker processes to run.")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@click.option(
    "--group",
    "groups",
    multiple=True,
    callback=_check_groups,
    help="Serve this worker group's task runs (repeatable); without it, those that name no group.",
)
@METRICS_PORT
def worker_command(workers: int, burst: bool, groups: tuple[str, ...], metrics_port: int | None) -> None:
    """Run task workers (RQ) on LANNER_REDIS_URL (or the embedded Redis)."""
    _require_secret_key()
    settings = load_settings()
    open_database(settings.database_url)
    pool = workers > 1 and bool(metrics_port or settings.metrics_port)  # one port for the pool's processes
    with redis_url(settings) as url, shared_metrics_folder() if pool else contextlib.nullcontext():
        _monitor("worker", url, metrics_port)
        _worker().work(url, workers, burst=burst, groups=groups)


@click.command("executor")
@METRICS_PORT
def executor_command(metrics_port: int | None) -> None:
    """Run an executor: it advances executions as their tasks report."""
    _require_secret_key()
    settings = load_settings()
    with redis_url(settings) as url:
        _monitor("executor", url, metrics_port)
        _engine_server().run_executor(settings, url)


@click.command("scheduler")
@METRICS_PORT
def scheduler_command(metrics_port: int | None) -> None:
    """Run the scheduler: schedule triggers and backfills (safe to run more than one)."""
    settings = load_settings()
    open_database(settings.database_url)
    with redis_url(settings) as url:
        _monitor("scheduler", url, metrics_port)
        _engine_server().run_scheduler(settings, url)


@click.command("trigger-listener")
@METRICS_PORT
def trigger_listener_command(metrics_port: int | None) -> None:
    """Run the realtime triggers (RabbitMQ, MQTT, NATS, Redis, Kafka): one execution per message, acknowledged once
    it is committed; several listeners share the triggers (safe to run more than one)."""
    _require_secret_key()
    settings = load_settings()
    open_database(settings.database_url)
    with redis_url(settings) as url:
        _monitor("trigger-listener", url, metrics_port)
        _engine_server().run_trigger_listener(settings, url)


def api_app() -> FastAPI:
    """The app ``lanner api`` serves, built, with what it holds for good left alone by the garbage collector."""
    _, api = _api_serving()
    app = api.create_app()
    collect_less()
    return app


@click.command("api")
@click.option("--port", default=8080, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
def api_command(port: int, host: str) -> None:
    """Serve the REST API alone (the studio also serves it under /api/v1). Docs at /api/v1/docs."""
    uvicorn, _ = _api_serving()
    settings = load_settings()
    open_database(settings.database_url)
    with redis_url(settings) as url:
        os.environ["LANNER_REDIS_URL"] = url
        reset_settings()  # the app reads the settings again, with this URL
        with _present(url, "api"):
            uvicorn.run(api_app(), host=host, port=port, log_level="warning")


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
    """Run all of Lanner on one machine: studio, executor and workers (SQLite + embedded Redis by default).

    Their metrics are shared in one folder for the run: the studio's port serves them all on /metrics."""
    _require_secret_key()
    settings = load_settings()
    open_database(settings.database_url)  # migrate before anything serves
    with shared_metrics_folder(), redis_url(settings) as url:
        server = _engine_server()
        settings = load_settings()
        env = server.child_environment(settings, url)
        env.pop("LANNER_METRICS_PORT", None)  # the parts are scraped through the studio's port, not each on one
        server.stop_on_sigterm()
        parts = [
            spawn([sys.executable, "-m", "engine", part, *extra], env)
            for part, *extra in (("executor",), ("scheduler",), ("trigger-listener",), ("worker", "-n", str(workers)))
        ]
        try:
            with _present(url, "studio"):
                status = run_studio(replace(settings, redis_url=url), host=host, port=port)
        finally:
            for part in parts:
                server.stop_process(part)
    sys.exit(status)
