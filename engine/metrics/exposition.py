"""The three monitoring paths every process serves: ``/metrics`` (Prometheus' text format), ``/health/live``
(the process answers) and ``/health/ready`` (database reachable with its migrations at head, Redis reachable;
503 with the reasons otherwise).

The API serves them on its own port (``routes()``, outside /api/v1); an executor, a worker pool or a scheduler on
a management port (``serve_management``, from LANNER_METRICS_PORT or ``--metrics-port``), from a thread of its own.
The health paths answer anyone (probes). ``/metrics`` names namespaces, flows and tasks, so it answers a scraper
with the bearer token LANNER_METRICS_TOKEN, or, with no token set, only a scraper on this machine (``may_scrape``).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import redis
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import Engine

from engine.config import load_settings
from engine.metrics import registry
from engine.store.database import schema_problem

log = logging.getLogger("lanner.metrics")
PATHS = ("/metrics", "/health/live", "/health/ready")
Readiness = Callable[[], list[str]]


def metrics_text() -> bytes:
    """This process' metrics; in a shared folder (``lanner server``), those of every process writing to it."""
    folder = registry.folder()
    if folder is None:
        return generate_latest(REGISTRY)
    shared = CollectorRegistry()
    MultiProcessCollector(shared, path=str(folder))
    return generate_latest(shared)


SCRAPE_REFUSED = (
    "the metrics name namespaces, flows and tasks: send LANNER_METRICS_TOKEN as a bearer token "
    "(Authorization: Bearer ...), or scrape from this machine when no token is set"
)


def may_scrape(client_host: str | None, authorization: str | None) -> bool:
    """Whether a request for /metrics is answered: with the token when one is set, else from a loopback address."""
    token = load_settings().metrics_token
    if token:
        return hmac.compare_digest((authorization or "").encode(), f"Bearer {token}".encode())
    try:
        return client_host is not None and ipaddress.ip_address(client_host.split("%")[0]).is_loopback
    except ValueError:  # not an address (a test client's name): not this machine
        return False


def readiness(db: Engine, r: redis.Redis) -> list[str]:
    """What keeps this process from doing its work: empty when ready."""
    problems = []
    if problem := schema_problem(db):
        problems.append(problem)
    try:
        r.ping()
    except redis.RedisError as exc:
        problems.append(f"Redis is unreachable: {type(exc).__name__}: {str(exc)[:200]}")
    return problems


def health_answer(path: str, ready: Readiness, detailed: bool = True) -> tuple[int, dict]:
    """The status and JSON body of ``/health/live`` or ``/health/ready``. The reasons of a 503 quote the drivers
    (hosts, users): only ``detailed`` for whom may also scrape the metrics; a probe needs the status alone."""
    if path == "/health/live":
        return 200, {"status": "live"}
    problems = ready()
    if problems:
        return 503, {"status": "not ready", **({"reasons": problems} if detailed else {})}
    return 200, {"status": "ready"}


class ManagementServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], ready: Readiness) -> None:
        super().__init__(address, _Handler)
        self.ready = ready


class _Handler(BaseHTTPRequestHandler):
    server: ManagementServer

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics" and not may_scrape(self.client_address[0], self.headers.get("Authorization")):
            self._send(401, json.dumps({"detail": SCRAPE_REFUSED}).encode(), "application/json")
        elif path == "/metrics":
            self._send(200, metrics_text(), CONTENT_TYPE_LATEST)
        elif path in PATHS:
            detailed = may_scrape(self.client_address[0], self.headers.get("Authorization"))
            status, body = health_answer(path, self.server.ready, detailed)
            self._send(status, json.dumps(body).encode(), "application/json")
        else:
            self._send(404, json.dumps({"detail": f"no such path: {path}"}).encode(), "application/json")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def serve_management(port: int, ready: Readiness, host: str = "0.0.0.0") -> ManagementServer:  # noqa: S104 - scraped from elsewhere
    """Serve the monitoring paths on ``port`` from a daemon thread until the process ends."""
    server = ManagementServer((host, port), ready)
    threading.Thread(target=server.serve_forever, name="lanner-metrics", daemon=True).start()
    log.info("metrics and health on http://%s:%d/metrics", host, server.server_address[1])
    return server
