"""Retention: ended executions older than their flow's ``retention`` (else ``LANNER_RETENTION``) are deleted with
their task runs, attempts, logs and files, in batches; ``lanner purge`` does the same for an age a person gives.

Each batch is one short transaction (``BATCH_SIZE`` executions), so the purge never holds a long lock; files go
after the rows commit (a crash in between leaves files without rows, never rows without files). Running
executions are never deleted: the query only returns ended ones, and the delete path refuses a running one.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session

from engine.core.durations import parse_duration
from engine.core.errors import Forbidden, InvalidInput
from engine.flows.loader import parsed_flows_for
from engine.flows.problems import FlowInvalid
from engine.identity.policy import Principal
from engine.services.executions import delete_files
from engine.storage import Storage, open_storage
from engine.store import flows as flow_store
from engine.store import retention as store
from engine.store import search as search_store
from engine.store.database import session_scope
from engine.store.retention import Cutoffs, ExpiredExecution
from engine.store.tables import utcnow

log = logging.getLogger("lanner.retention")
BATCH_SIZE = 500  # executions per transaction: each commits quickly, whatever the backlog


@dataclass(frozen=True)
class PurgeReport:
    """What a purge deleted (or, with ``dry_run``, would delete)."""

    executions: int = 0
    logs: int = 0
    files: int = 0
    dry_run: bool = False

    def __add__(self, other: PurgeReport) -> PurgeReport:
        return PurgeReport(
            self.executions + other.executions, self.logs + other.logs, self.files + other.files, self.dry_run
        )


class InvalidAge(InvalidInput):
    """``--older-than`` is not a positive duration."""


def parse_age(text: str) -> dt.timedelta:
    """``--older-than``'s value (``30d``, ``12h``, ``PT2M``); ``InvalidAge`` with a message for a person."""
    try:
        age = parse_duration(str(text))
    except ValueError as exc:
        raise InvalidAge(f"--older-than: {exc}") from None
    if age <= dt.timedelta(0):
        raise InvalidAge(f"--older-than must be more than 0, not '{text}'")
    return age


def delete_executions_and_files(db: Engine, expired: list[ExpiredExecution], storage: Storage) -> PurgeReport:
    """Delete these ended executions' rows in one transaction, then their files (``executions.delete_files``, as
    the API's delete does)."""
    ids = [e.id for e in expired]
    try:
        with session_scope(db) as session:
            logs = store.log_line_count(session, ids)
            deleted = search_store.delete_executions(session, ids)
    except search_store.ExecutionRunning as exc:  # restarted since it was found: the next purge skips it
        log.info("purge: batch skipped: %s", exc)
        return PurgeReport()
    files = delete_files([(e.namespace, e.flow_id, e.id) for e in expired], storage)
    return PurgeReport(executions=deleted, logs=logs, files=files)


def _purge(
    db: Engine,
    cutoffs: Cutoffs,
    *,
    namespace: str | None = None,
    flow_id: str | None = None,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    max_batches: int | None = None,
    storage: Storage | None = None,
) -> tuple[PurgeReport, bool]:
    """Batches until none is left (or ``max_batches``); returns the report and whether some may be left."""
    storage = storage or open_storage()
    report = PurgeReport(dry_run=dry_run)
    batches = 0
    while max_batches is None or batches < max_batches:
        batches += 1
        with Session(db) as session:
            # A dry run cannot page by deleting: it looks at them all in one read.
            limit = None if dry_run else batch_size
            expired = store.expired_executions(session, cutoffs, limit=limit, namespace=namespace, flow_id=flow_id)
            if dry_run:
                logs = store.log_line_count(session, [e.id for e in expired])
        if dry_run:
            files = sum(len(storage.files(e.namespace, e.flow_id, e.id)) for e in expired)
            return PurgeReport(len(expired), logs, files, dry_run=True), False
        if not expired:
            return report, False
        report = report + delete_executions_and_files(db, expired, storage)
        if len(expired) < batch_size:
            return report, False
    return report, True


def _cutoff(now: dt.datetime, age: dt.timedelta) -> dt.datetime:
    """``now - age``; for an age longer than the calendar goes back, the first day (nothing ended before it)."""
    try:
        return now - age
    except OverflowError:
        return now.replace(year=1, month=1, day=1)


def retention_cutoffs(db: Engine, default: dt.timedelta | None, now: dt.datetime | None = None) -> Cutoffs:
    """The cutoffs the flows' own ``retention`` and the global ``default`` give at ``now``."""
    now = now or utcnow()
    parsed = parsed_flows_for(db)
    per_flow: dict[tuple[str, str], dt.datetime] = {}
    with Session(db) as session:
        for namespace, flow_id, revision in store.live_flow_revisions(session):
            try:
                flow = parsed.get(
                    namespace,
                    flow_id,
                    revision,
                    lambda ns=namespace, f=flow_id: flow_store.get_flow(session, ns, f).source,
                )
            except FlowInvalid:  # a stored flow that no longer parses (a task type gone) keeps the global retention
                log.warning("purge: flow %s/%s does not parse; the global retention applies", namespace, flow_id)
                continue
            if flow.retention is not None:
                per_flow[(namespace, flow_id)] = _cutoff(now, flow.retention)
    return Cutoffs(default=_cutoff(now, default) if default else None, per_flow=per_flow)


def purge_expired(
    db: Engine,
    default: dt.timedelta | None,
    *,
    now: dt.datetime | None = None,
    batch_size: int = BATCH_SIZE,
    max_batches: int | None = None,
    storage: Storage | None = None,
) -> tuple[PurgeReport, bool]:
    """Delete the executions past their retention (the executor's periodic sweep). Returns what was deleted and
    whether more may be left (``max_batches`` reached)."""
    cutoffs = retention_cutoffs(db, default, now)
    return _purge(db, cutoffs, batch_size=batch_size, max_batches=max_batches, storage=storage)


def purge(
    db: Engine,
    principal: Principal,
    older_than: str | dt.timedelta,
    *,
    namespace: str | None = None,
    flow_id: str | None = None,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    storage: Storage | None = None,
) -> PurgeReport:
    """Delete ended executions that ended more than ``older_than`` ago (of ``namespace`` and below, of ``flow_id``),
    whatever their flows' retention; administrators only (it removes history across namespaces)."""
    if not principal.is_admin:
        raise Forbidden("purging executions needs the admin role")
    age = older_than if isinstance(older_than, dt.timedelta) else parse_age(older_than)
    cutoffs = Cutoffs(default=_cutoff(utcnow(), age))
    report, _ = _purge(
        db, cutoffs, namespace=namespace, flow_id=flow_id, dry_run=dry_run, batch_size=batch_size, storage=storage
    )
    return report
