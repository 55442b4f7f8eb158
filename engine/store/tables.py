"""The database tables. The YAML text of every flow revision is kept verbatim: it is the source of truth."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, String, Text, text
from sqlmodel import AutoString, Field, SQLModel

# Namespace names compare by their bytes on every database (migration 0025): SQLite always does; PostgreSQL is told
# to, as its linguistic collations sort punctuation apart from its bytes. "Below acme" is then the range
# ['acme.', 'acme/') everywhere, which the namespace indexes answer (engine/core/namespaces.py), and a list sorted
# by namespace comes out in the same order on both.
NAMESPACE_LENGTH = 150
NAMESPACE_TYPE = AutoString(NAMESPACE_LENGTH).with_variant(String(NAMESPACE_LENGTH, collation="C"), "postgresql")


def namespace_field(**kwargs: Any) -> Any:
    """A column holding a namespace name: ``namespace`` in every table, and ``namespace.name``."""
    return Field(max_length=NAMESPACE_LENGTH, sa_type=NAMESPACE_TYPE, **kwargs)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Namespace(SQLModel, table=True):
    name: str = namespace_field(primary_key=True)
    description: str | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)


class FlowRecord(SQLModel, table=True):
    """The current revision of a flow (also kept, with every other one, in ``flow_revision``)."""

    __tablename__ = "flow"

    namespace: str = namespace_field(primary_key=True)
    flow_id: str = Field(primary_key=True, max_length=100)
    revision: int
    source: str = Field(sa_column=Column(Text, nullable=False))
    description: str | None = Field(default=None, sa_column=Column(Text))
    labels: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    disabled: bool = False
    deleted: bool = Field(default=False, index=True)
    updated_at: dt.datetime = Field(default_factory=utcnow)
    updated_by: str | None = None


class FlowRevision(SQLModel, table=True):
    __tablename__ = "flow_revision"

    namespace: str = namespace_field(primary_key=True)
    flow_id: str = Field(primary_key=True, max_length=100)
    revision: int = Field(primary_key=True)
    source: str = Field(sa_column=Column(Text, nullable=False))
    source_sha256: str = Field(max_length=64)
    deleted: bool = False  # a tombstone revision records the deletion of the flow
    author: str | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)


class Execution(SQLModel, table=True):
    __table_args__ = (
        # A flow's executions newest first; with test, state and duration, also a flow's charts and the count of an
        # executions page filtered by namespace, from the index alone.
        Index("ix_execution_flow_created", "namespace", "flow_id", "created_at", "test", "state", "duration_ms"),
        Index("ix_execution_state_created", "state", "created_at"),
        # Run-history charts (engine/store/stats.py) group a time window by day, state and duration: carrying
        # state and duration_ms in the index lets them read the index alone, never the (wide, JSON) rows.
        # ``test`` too: the charts leave tests of one task out (engine/store/stats.py).
        Index("ix_execution_created_stats", "created_at", "state", "duration_ms", "test"),
        # Duration percentiles on SQLite read the durations in order from here (engine/store/stats.py).
        Index("ix_execution_duration", "duration_ms", "created_at", "test", "namespace", "flow_id"),
        # The few tests of one task, which the charts of task runs and log lines leave out. On SQLite the condition
        # is written as SQLAlchemy writes it (test = 1): SQLite uses a partial index only for the same term.
        Index("ix_execution_test", "id", sqlite_where=text("test = 1"), postgresql_where=text("test")),
        # The retention purge (engine/store/retention.py) reads the oldest ended executions first.
        Index("ix_execution_ended", "ended_at"),
    )

    id: str = Field(primary_key=True, max_length=36)
    namespace: str = namespace_field()
    flow_id: str = Field(max_length=100)
    flow_revision: int
    state: str = Field(max_length=16)
    inputs: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # SECRET inputs, encrypted like namespace secrets (engine/workspace/secrets.py); ``inputs`` holds ``****`` for them
    secret_inputs: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    outputs: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    labels: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    trigger: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    parent_execution_id: str | None = Field(default=None, max_length=36, index=True)
    parent_task_run_id: str | None = Field(default=None, max_length=36)
    error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: dt.datetime = Field(default_factory=utcnow)
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    duration_ms: int | None = None
    updated_at: dt.datetime = Field(default_factory=utcnow)
    held: bool = False  # paused by a person: no new task starts until resumed
    # A test of one task (the editor's "Test task", engine/services/task_tests.py): kept out of the flow's history,
    # its charts and its flow triggers.
    test: bool = False
    # The flow's SLAs this execution breached (engine/core/sla.py): id, slaId, type, behavior, labels, at, reason.
    # NULL in rows older than the column. Read and written with the execution, so a JSON list, not a table.
    sla_breaches: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON))
    # Goes up whenever task runs of the execution are deleted (store/executions.delete_task_runs): a snapshot kept
    # from an older generation is read again whole (engine/services/snapshots.py).
    runs_generation: int = 0
    # Task runs created for the execution, counted by a trigger on every insert whoever makes it (migration 0023):
    # a snapshot that reads again only the runs that may have changed compares its growth with the runs it holds.
    runs_created: int = 0


class TaskRun(SQLModel, table=True):
    __tablename__ = "task_run"
    __table_args__ = (
        # Covering for per-task statistics (counts, durations, failures): see ix_execution_created_stats. Its
        # execution_id tells the runs of tests of one task apart without reading the row.
        Index(
            "ix_task_run_flow_task_stats",
            *("namespace", "flow_id", "task_id", "created_at", "state", "duration_ms", "execution_id"),
        ),
        Index("ix_task_run_state", "state"),
        # An execution's runs by state and creation: those not settled, those settled since a time, and how many
        # have (engine/services/snapshots.py).
        Index("ix_task_run_execution_state", "execution_id", "state", "created_at"),
        # One task's durations in order, for exact percentiles without a sort (engine/store/task_summaries.py).
        Index(
            "ix_task_run_task_duration", "namespace", "flow_id", "task_id", "duration_ms", "created_at", "execution_id"
        ),
        # Task runs a namespace has in flight, and those held back for it (engine/runtime/fair_share.py).
        Index("ix_task_run_namespace_state", "namespace", "state"),
    )

    id: str = Field(primary_key=True, max_length=36)
    execution_id: str = Field(max_length=36, foreign_key="execution.id")
    namespace: str = namespace_field()
    flow_id: str = Field(max_length=100)
    task_id: str = Field(max_length=100)
    parent_task_run_id: str | None = Field(default=None, max_length=36)
    value: Any = Field(default=None, sa_column=Column(JSON))  # the foreach value of its iteration
    iteration: int | None = None
    state: str = Field(max_length=16)
    kind: str = Field(default="worker", max_length=8)  # "worker", or "executor" for flowables
    # The worker group whose queue the run goes to (task, else flow, else namespace setting); None: the default
    worker_group: str | None = Field(default=None, max_length=64)
    attempt_count: int = 0
    next_attempt_at: dt.datetime | None = None
    retryable: bool = True  # False: the last attempt failed for a reason no retry cures (runtime.ConfigurationError)
    outputs: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # SECRET values among its outputs (a pause's onResume), encrypted by output: {"resumed": {name: sealed}}
    # (engine/workspace/secrets.py); ``outputs`` holds ``****`` for them
    secret_outputs: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    # counters and timers of its last attempt (engine/tasks/metrics.py); NULL when it reported none
    metrics: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON))
    error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: dt.datetime = Field(default_factory=utcnow)
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    duration_ms: int | None = None
    # Raised by every change to the row (the statements that change runs raise it; a trigger does for any other,
    # migration 0024): a snapshot reads again only the unsettled runs whose version it does not hold.
    version: int = 0


# Set beside its own values by every statement that changes task runs: the trigger then leaves the row alone (on
# SQLite it would write it a second time).
NEXT_RUN_VERSION = {"version": TaskRun.__table__.c.version + 1}


class TaskRunDay(SQLModel, table=True):
    """Per-task totals of the task runs created on one closed UTC day (tests of one task left out), for the
    run-history charts (engine/store/task_summaries.py). Only read for days whose ``TaskRunDaySummary`` is done."""

    __tablename__ = "task_run_day"

    day: dt.date = Field(primary_key=True)
    namespace: str = namespace_field(primary_key=True)
    flow_id: str = Field(primary_key=True, max_length=100)
    task_id: str = Field(primary_key=True, max_length=100)
    runs: int
    ended: int  # runs with a duration_ms
    sum_ms: int = Field(sa_column=Column(BigInteger, nullable=False))  # a day of a busy task passes 2**31 ms
    min_ms: int | None = None
    max_ms: int | None = None
    failures: int  # runs in state FAILED


class TaskRunDaySummary(SQLModel, table=True):
    """Whether a day's ``TaskRunDay`` rows are current: "done"; "pending" while computed; "stale" once a database
    trigger saw a task run of that day written (migration 0021)."""

    __tablename__ = "task_run_day_summary"

    day: dt.date = Field(primary_key=True)
    state: str = Field(max_length=8)
    computed_at: dt.datetime | None = None


class TaskRunAttempt(SQLModel, table=True):
    __tablename__ = "task_run_attempt"

    task_run_id: str = Field(primary_key=True, max_length=36, foreign_key="task_run.id")
    attempt: int = Field(primary_key=True)
    state: str = Field(max_length=16)
    worker: str | None = Field(default=None, max_length=200)
    error: str | None = Field(default=None, sa_column=Column(Text))
    metrics: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON))  # what this attempt reported
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None


class LogLine(SQLModel, table=True):
    __tablename__ = "log_line"
    __table_args__ = (
        Index("ix_log_line_execution", "execution_id", "id"),
        # Log lines per day and level, from the index (execution_id: see ix_task_run_flow_task_stats).
        Index("ix_log_line_namespace_time", "namespace", "timestamp", "level", "execution_id"),
        Index("ix_log_line_time_level", "timestamp", "level", "execution_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    execution_id: str = Field(max_length=36)
    namespace: str = namespace_field()
    flow_id: str = Field(max_length=100)
    task_id: str | None = Field(default=None, max_length=100)
    task_run_id: str | None = Field(default=None, max_length=36)
    attempt: int | None = None
    level: str = Field(max_length=8)
    message: str = Field(sa_column=Column(Text, nullable=False))
    timestamp: dt.datetime = Field(default_factory=utcnow)


class TriggerState(SQLModel, table=True):
    __tablename__ = "trigger_state"

    namespace: str = namespace_field(primary_key=True)
    flow_id: str = Field(primary_key=True, max_length=100)
    trigger_id: str = Field(primary_key=True, max_length=100)
    enabled: bool = True
    next_fire_at: dt.datetime | None = Field(default=None, index=True)
    last_fire_at: dt.datetime | None = None
    last_execution_id: str | None = Field(default=None, max_length=36)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: dt.datetime = Field(default_factory=utcnow)


class TriggerFire(SQLModel, table=True):
    """One firing of a trigger, claimed by inserting it: its key (a schedule slot, or the execution a
    flow trigger reacted to) can be inserted once only, so two schedulers never fire a slot twice."""

    __tablename__ = "trigger_fire"

    namespace: str = namespace_field(primary_key=True)
    flow_id: str = Field(primary_key=True, max_length=100)
    trigger_id: str = Field(primary_key=True, max_length=100)
    key: str = Field(primary_key=True, max_length=64)
    execution_id: str = Field(max_length=36)
    backfill: bool = False
    created_at: dt.datetime = Field(default_factory=utcnow)


# Identity: people, their tokens, their roles in namespaces, links shared with outsiders, and the audit trail.
# Secrets (plain tokens, passwords) are never stored: only argon2 hashes of passwords and sha256 digests of
# tokens, which are long random strings, so a fast digest is enough and lets a request find its token by index.


class User(SQLModel, table=True):
    __tablename__ = "user"  # a reserved word in PostgreSQL: SQLAlchemy quotes it, raw SQL must write "user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str | None = Field(default=None, max_length=200)
    password_hash: str = Field(max_length=200, repr=False)  # kept out of logs and tracebacks
    is_admin: bool = False  # a global administrator: every action in every namespace, and user management
    disabled: bool = False
    created_at: dt.datetime = Field(default_factory=utcnow)
    last_login_at: dt.datetime | None = None
    theme: str | None = Field(default=None, max_length=10)  # the studio's light/dark choice; None: the system's


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=64, unique=True, repr=False)  # sha256 hex of the whole token
    prefix: str = Field(max_length=8)  # the first characters of the token, to recognise it in lists
    created_at: dt.datetime = Field(default_factory=utcnow)
    last_used_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None


class LoginSession(SQLModel, table=True):
    """A person signed in to the studio: the session cookie carries the plain token, only its digest is kept."""

    __tablename__ = "login_session"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    token_hash: str = Field(max_length=64, unique=True, repr=False)
    created_at: dt.datetime = Field(default_factory=utcnow)
    expires_at: dt.datetime
    client: str | None = Field(default=None, max_length=200)  # the address it signed in from, for the user


class Membership(SQLModel, table=True):
    """A role granted to a user on a namespace; it covers the namespaces below it too (engine/identity/policy.py)."""

    user_id: int = Field(primary_key=True, foreign_key="user.id")
    namespace: str = namespace_field(primary_key=True, index=True)
    role: str = Field(max_length=16)
    created_at: dt.datetime = Field(default_factory=utcnow)


class ShareLink(SQLModel, table=True):
    """A read-only link to one flow (or one of its revisions) or one execution, for people without an account."""

    __tablename__ = "share_link"
    __table_args__ = (Index("ix_share_link_target", "kind", "namespace", "target_id"),)

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, repr=False)
    kind: str = Field(max_length=16)  # "flow" or "execution"
    namespace: str = namespace_field()
    target_id: str = Field(max_length=100)  # a flow id, or an execution id
    revision: int | None = None  # a flow link pinned to one revision; None follows the current one
    created_by: str = Field(max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow)
    expires_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (
        # A namespace's events newest first (children are read with a prefix range on the same index).
        Index("ix_audit_event_namespace_id", "namespace", "id"),
        Index("ix_audit_event_actor_id", "actor", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = Field(default_factory=utcnow)
    actor: str = Field(max_length=64)  # a username, or "system", "webhook", "share"
    action: str = Field(max_length=32)
    namespace: str | None = namespace_field(default=None)  # None for events about users themselves
    target_kind: str | None = Field(default=None, max_length=32)
    target_id: str | None = Field(default=None, max_length=100)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class NamespaceVariable(SQLModel, table=True):
    """A value flows of the namespace, and of the namespaces below it, read as ``vars.<name>``."""

    __tablename__ = "namespace_variable"

    namespace: str = namespace_field(primary_key=True)
    name: str = Field(primary_key=True, max_length=100)
    value: Any = Field(default=None, sa_column=Column(JSON))
    updated_at: dt.datetime = Field(default_factory=utcnow)
    updated_by: str | None = Field(default=None, max_length=200)


class NamespaceSecret(SQLModel, table=True):
    """A secret read by ``secret('NAME')``; only its ciphertext is stored (engine/identity/crypto.py)."""

    __tablename__ = "namespace_secret"

    namespace: str = namespace_field(primary_key=True)
    name: str = Field(primary_key=True, max_length=100)
    ciphertext: str = Field(sa_column=Column(Text, nullable=False))  # Fernet token (URL-safe base64)
    key_id: str = Field(max_length=32)  # which key encrypted it, to tell a wrong key from a damaged value
    updated_at: dt.datetime = Field(default_factory=utcnow)
    updated_by: str | None = Field(default=None, max_length=200)


class KvEntry(SQLModel, table=True):
    """A value of a namespace's key-value store, read by ``kv('key')`` there and in the namespaces below it."""

    __tablename__ = "kv_entry"

    namespace: str = namespace_field(primary_key=True)
    key: str = Field(primary_key=True, max_length=100)
    value: Any = Field(default=None, sa_column=Column(JSON))
    type: str = Field(max_length=16)  # string, number, boolean, object, array or null: shown without loading values
    expires_at: dt.datetime | None = Field(default=None, index=True)  # None: never expires
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)
    updated_by: str | None = Field(default=None, max_length=200)


class NamespaceTaskDefaults(SQLModel, table=True):
    """Task defaults of a namespace (engine/workspace/task_defaults.py): the YAML as written, and its parsed list.
    One row per namespace, read by primary key along the lineage by the worker for each task run."""

    __tablename__ = "namespace_task_defaults"

    namespace: str = namespace_field(primary_key=True)
    source: str = Field(sa_column=Column(Text, nullable=False))
    defaults: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: dt.datetime = Field(default_factory=utcnow)
    updated_by: str | None = Field(default=None, max_length=200)


class NamespaceSettings(SQLModel, table=True):
    """A namespace's resources (engine/workspace/resources.py): the worker group its task runs go to (inherited by
    the namespaces below unless they name their own) and its limits of running executions and task runs."""

    __tablename__ = "namespace_settings"

    namespace: str = namespace_field(primary_key=True)
    worker_group: str | None = Field(default=None, max_length=64)
    max_running_executions: int | None = None  # None: no limit
    max_running_task_runs: int | None = None  # None: LANNER_NAMESPACE_TASK_RUNS_IN_FLIGHT, the fair-share bound
    updated_at: dt.datetime = Field(default_factory=utcnow)
    updated_by: str | None = Field(default=None, max_length=200)
