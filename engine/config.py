"""Where Lanner keeps its data, which servers it talks to and its tuning: every ``LANNER_*`` setting, from the
environment, read once per process (``load_settings()``); nothing else reads a ``LANNER_*`` variable.

A process that changes its own environment afterwards (the ``api`` command learning the embedded Redis' URL,
a test's ``monkeypatch.setenv``) calls ``reset_settings()`` so the next ``load_settings()`` reads it again.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from engine.core.durations import parse_duration
from engine.identity.policy import SubflowReach

_REACHES = tuple(reach.value for reach in SubflowReach)
_YES = ("1", "true", "yes")
_NO = ("0", "false", "no", "off")
_LOG_FORMATS = ("text", "json")


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    redis_url: str | None  # None: start an embedded Redis under ``home``
    mode: str = "development"  # LANNER_MODE; "production" refuses shortcuts such as a generated secret key
    secret_key: str | None = None  # LANNER_SECRET_KEY: encrypts namespace secrets (see engine/identity/crypto.py)
    subflow_reach: str = "root"  # LANNER_SUBFLOW_REACH: where a flow may start subflows (engine/identity/policy.py)
    max_output_bytes: int = 1024 * 1024  # LANNER_MAX_OUTPUT_BYTES: a larger output value fails its task
    cookie_secure: bool = False  # LANNER_COOKIE_SECURE: the session cookie over HTTPS only
    expression_timeout: float = 1.0  # LANNER_EXPRESSION_TIMEOUT: seconds one rendering may take
    expression_max_size: int = 10_000_000  # LANNER_EXPRESSION_MAX_SIZE: most characters/items an expression builds
    heartbeat_interval: float = 1.0  # LANNER_HEARTBEAT_INTERVAL: seconds between a worker's heartbeats
    heartbeat_timeout: float = 10.0  # LANNER_HEARTBEAT_TIMEOUT: a worker silent this long is taken for dead
    sweep_interval: float = 1.0  # LANNER_SWEEP_INTERVAL: seconds between the executor's sweeps
    stale_after: float = 10.0  # LANNER_STALE_AFTER: an execution untouched this long is looked at again
    event_claim_idle: float = 10.0  # LANNER_EVENT_CLAIM_IDLE: an event a dead executor held is taken over after it
    queued_recovery_after: float = 10.0  # LANNER_QUEUED_RECOVERY_AFTER: a queued run without a job gets a new one
    transform_memory: str = "512MB"  # LANNER_TRANSFORM_MEMORY: DuckDB's memory for data.transform, past it spills
    worker_fork: bool = False  # LANNER_WORKER_FORK=1: RQ's forking worker (for comparison in bench/engine.py)
    worker_prefetch: bool = True  # LANNER_WORKER_PREFETCH=0: no next job taken as an attempt ends (prefetch.py)
    storage_url: str | None = None  # LANNER_STORAGE_URL: where task files are kept (engine/storage); None: under home
    storage_endpoint: str | None = None  # LANNER_STORAGE_ENDPOINT: an S3-compatible server's URL; None: AWS
    storage_region: str | None = None  # LANNER_STORAGE_REGION; None: AWS_REGION / ~/.aws, as boto3 finds it
    storage_access_key: str | None = None  # LANNER_STORAGE_ACCESS_KEY; None: AWS_ACCESS_KEY_ID or boto3's chain
    storage_secret_key: str | None = None  # LANNER_STORAGE_SECRET_KEY; None: AWS_SECRET_ACCESS_KEY or boto3's chain
    # LANNER_ENVIRONMENTS_DIR: cached script environments (engine/tasks/environments.py); None: home/environments
    environments_dir: Path | None = None
    # LANNER_PYTHON_INDEX_URL, LANNER_PYTHON_EXTRA_INDEX_URL (space separated): where `dependencies` of python tasks
    # come from; unset: the indexes pip is configured with on the worker (pip config), else PyPI
    python_index_url: str | None = None
    python_extra_index_urls: tuple[str, ...] = ()
    npm_registry: str | None = None  # LANNER_NPM_REGISTRY: where node tasks' `dependencies` come from; None: npm's own
    retention: dt.timedelta | None = None  # LANNER_RETENTION: ended executions older than this are purged; None: kept
    purge_interval: float = 60.0  # LANNER_PURGE_INTERVAL: seconds between the executor's purges of expired executions
    # LANNER_PUBLIC_URL: the studio's address as people reach it, for links in notifications (execution pages)
    public_url: str = "http://localhost:3000"
    # LANNER_WORKER_GRACE_PERIOD: seconds a worker told to stop (SIGTERM) lets its running task run finish before
    # handing it back to the queue; under Kubernetes' default 30 s termination grace period
    worker_grace_period: float = 25.0
    # LANNER_NAMESPACE_TASK_RUNS_IN_FLIGHT: task runs one namespace may have queued or running at once (its fair share;
    # a namespace's own max running task runs lowers it), engine/runtime/fair_share.py
    namespace_task_runs_in_flight: int = 32
    test_pause_before_claim: str | None = None  # LANNER_TEST_PAUSE_BEFORE_CLAIM: a test hook (engine/runtime/worker.py)
    # Monitoring (engine/metrics): LANNER_METRICS=0 switches the Prometheus metrics off (the hooks do nothing)
    metrics: bool = True
    metrics_port: int | None = None  # LANNER_METRICS_PORT: the management port of an executor, worker or scheduler
    # LANNER_METRICS_TOKEN: the bearer token a scraper sends for /metrics; unset, only this machine may scrape (the
    # series name namespaces, flows and tasks: not for anyone who can reach the port)
    metrics_token: str | None = None
    # LANNER_METRICS_DIR: prometheus_client's multiprocess folder, shared by the processes of one `lanner server`
    # (or one `lanner worker -n N`) so one port serves them all; set by those commands, per run
    metrics_dir: Path | None = None
    # LANNER_METRICS_MAX_NAMESPACES / _FLOWS / _TASKS / _TASK_METRICS: distinct label values a process exports
    # before it puts the next ones under "other" (engine/metrics/labels.py)
    metrics_max_namespaces: int = 100
    metrics_max_flows: int = 500
    metrics_max_tasks: int = 2000
    metrics_max_task_metrics: int = 200
    log_format: str = "text"  # LANNER_LOG_FORMAT: "json" prints the processes' logs as one JSON object per line

    @property
    def production(self) -> bool:
        return self.mode == "production"

    @property
    def environments(self) -> Path:
        return self.environments_dir or self.home / "environments"

    @property
    def embedded_database(self) -> bool:
        return self.database_url.startswith("sqlite")


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    text = (env.get(name) or "").strip().replace("_", "")
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {text!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be more than 0, not {text!r}")
    return value


def _whole_number(env: Mapping[str, str], name: str, default: int, what: str) -> int:
    text = (env.get(name) or str(default)).strip().replace("_", "")
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{name} must be a positive number of {what}, not {text!r}")
    return int(text)


def _port(env: Mapping[str, str], name: str) -> int | None:
    text = (env.get(name) or "").strip()
    if not text:
        return None
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"{name} must be a port number (1 to 65535), not {text!r}")
    return int(text)


def _log_format(env: Mapping[str, str]) -> str:
    text = (env.get("LANNER_LOG_FORMAT") or "text").strip().lower()
    if text not in _LOG_FORMATS:
        raise ValueError(f"LANNER_LOG_FORMAT must be one of {', '.join(_LOG_FORMATS)}, not {text!r}")
    return text


def _retention(env: Mapping[str, str]) -> dt.timedelta | None:
    text = (env.get("LANNER_RETENTION") or "").strip()
    if not text:
        return None
    try:
        value = parse_duration(text)
    except ValueError as exc:
        raise ValueError(f"LANNER_RETENTION: {exc}") from None
    if value <= dt.timedelta(0):
        raise ValueError(f"LANNER_RETENTION must be more than 0, not {text!r}")
    return value


def read_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings ``environ`` (default: this process' environment) gives, read now (no cache)."""
    env = os.environ if environ is None else environ
    home = Path(env.get("LANNER_HOME") or ".lanner").expanduser().resolve()
    database_url = env.get("LANNER_DATABASE_URL") or f"sqlite:///{home / 'lanner.db'}"
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]
    reach = (env.get("LANNER_SUBFLOW_REACH") or "root").strip().lower()
    if reach not in _REACHES:
        raise ValueError(f"LANNER_SUBFLOW_REACH must be one of {', '.join(_REACHES)}, not {reach!r}")
    return Settings(
        home=home,
        database_url=database_url,
        redis_url=env.get("LANNER_REDIS_URL") or None,
        mode=(env.get("LANNER_MODE") or "development").strip().lower(),
        secret_key=env.get("LANNER_SECRET_KEY") or None,
        subflow_reach=reach,
        max_output_bytes=_whole_number(env, "LANNER_MAX_OUTPUT_BYTES", 1024 * 1024, "bytes"),
        cookie_secure=(env.get("LANNER_COOKIE_SECURE") or "").strip().lower() in _YES,
        expression_timeout=_number(env, "LANNER_EXPRESSION_TIMEOUT", 1.0),
        expression_max_size=_whole_number(env, "LANNER_EXPRESSION_MAX_SIZE", 10_000_000, "items or characters"),
        heartbeat_interval=_number(env, "LANNER_HEARTBEAT_INTERVAL", 1.0),
        heartbeat_timeout=_number(env, "LANNER_HEARTBEAT_TIMEOUT", 10.0),
        sweep_interval=_number(env, "LANNER_SWEEP_INTERVAL", 1.0),
        stale_after=_number(env, "LANNER_STALE_AFTER", 10.0),
        event_claim_idle=_number(env, "LANNER_EVENT_CLAIM_IDLE", 10.0),
        queued_recovery_after=_number(env, "LANNER_QUEUED_RECOVERY_AFTER", 10.0),
        transform_memory=(env.get("LANNER_TRANSFORM_MEMORY") or "").strip() or "512MB",
        worker_fork=env.get("LANNER_WORKER_FORK") == "1",
        worker_prefetch=(env.get("LANNER_WORKER_PREFETCH") or "1").strip().lower() not in _NO,
        storage_url=(env.get("LANNER_STORAGE_URL") or "").strip() or None,
        storage_endpoint=(env.get("LANNER_STORAGE_ENDPOINT") or "").strip() or None,
        storage_region=(env.get("LANNER_STORAGE_REGION") or "").strip() or None,
        storage_access_key=env.get("LANNER_STORAGE_ACCESS_KEY") or None,
        storage_secret_key=env.get("LANNER_STORAGE_SECRET_KEY") or None,
        environments_dir=Path(env["LANNER_ENVIRONMENTS_DIR"]).expanduser().resolve()
        if (env.get("LANNER_ENVIRONMENTS_DIR") or "").strip()
        else None,
        python_index_url=(env.get("LANNER_PYTHON_INDEX_URL") or "").strip() or None,
        python_extra_index_urls=tuple((env.get("LANNER_PYTHON_EXTRA_INDEX_URL") or "").split()),
        npm_registry=(env.get("LANNER_NPM_REGISTRY") or "").strip() or None,
        retention=_retention(env),
        purge_interval=_number(env, "LANNER_PURGE_INTERVAL", 60.0),
        public_url=(env.get("LANNER_PUBLIC_URL") or "").strip().rstrip("/") or "http://localhost:3000",
        worker_grace_period=_number(env, "LANNER_WORKER_GRACE_PERIOD", 25.0),
        namespace_task_runs_in_flight=_whole_number(env, "LANNER_NAMESPACE_TASK_RUNS_IN_FLIGHT", 32, "task runs"),
        test_pause_before_claim=env.get("LANNER_TEST_PAUSE_BEFORE_CLAIM") or None,
        metrics=(env.get("LANNER_METRICS") or "1").strip().lower() not in _NO,
        metrics_port=_port(env, "LANNER_METRICS_PORT"),
        metrics_token=(env.get("LANNER_METRICS_TOKEN") or "").strip() or None,
        metrics_dir=Path(env["LANNER_METRICS_DIR"]).expanduser().resolve()
        if (env.get("LANNER_METRICS_DIR") or "").strip()
        else None,
        metrics_max_namespaces=_whole_number(env, "LANNER_METRICS_MAX_NAMESPACES", 100, "label values"),
        metrics_max_flows=_whole_number(env, "LANNER_METRICS_MAX_FLOWS", 500, "label values"),
        metrics_max_tasks=_whole_number(env, "LANNER_METRICS_MAX_TASKS", 2000, "label values"),
        metrics_max_task_metrics=_whole_number(env, "LANNER_METRICS_MAX_TASK_METRICS", 200, "label values"),
        log_format=_log_format(env),
    )


@functools.cache
def _process_settings() -> Settings:
    return read_settings()


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """This process' settings, read from its environment the first time and kept; ``environ``: read those instead."""
    return _process_settings() if environ is None else read_settings(environ)


def reset_settings() -> None:
    """Forget the kept settings: the next ``load_settings()`` reads the environment again."""
    _process_settings.cache_clear()
