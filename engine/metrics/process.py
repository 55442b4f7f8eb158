"""What each long-running process does once at start for monitoring: its logs' format, its info metric, timing
of its database calls, and its management port (executor, worker pool, scheduler)."""

from __future__ import annotations

from engine.config import load_settings
from engine.metrics import record, timing
from engine.metrics.exposition import ManagementServer, readiness, serve_management
from engine.metrics.log_format import configure_logs


def start_process(process: str, *, redis_url: str | None = None, port: int | None = None) -> ManagementServer | None:
    """Set up monitoring for ``process`` (api, executor, worker, scheduler); with ``port`` (else
    LANNER_METRICS_PORT), serve /metrics and /health/* on it, ready when the database and ``redis_url`` answer."""
    settings = load_settings()
    record.configure(settings)
    timing.forget_children()
    configure_logs(process, settings.log_format)
    record.process_started(process)
    timing.time_database()
    port = port or settings.metrics_port
    if port is None or redis_url is None:
        return None
    from engine.runtime.connection import connect
    from engine.store.database import create_database_engine

    db, r = create_database_engine(settings.database_url), connect(redis_url)
    return serve_management(port, lambda: readiness(db, r))
