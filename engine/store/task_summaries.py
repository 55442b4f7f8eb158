"""Per-task totals of task runs for the run-history charts (engine/store/stats.py), from per-day summaries of
closed days plus the raw task runs of the rest of a window, with exactly the raw answer.

At 10,000,000 task runs a month, the slowest and most failing tasks of 30 days read every run (2.3 s on
SQLite). ``task_run_day`` holds, per closed UTC day and task, the totals of the runs created that day (tests of
one task left out, like every chart); a chart reads them for the whole summarized days of its window and the runs
themselves for the rest: the partial days at its ends, yesterday, today, and any day not summarized yet. Charts
never depend on the summaries having been computed: a missing day is read raw, correct and only slower.

Staleness: database triggers (migration 0021) mark a day "stale" whenever a task run created that day (before
today) is written, whatever writes it (a restart, a deletion, a retention purge, a late end), so a day is read
from its summary only while its marker says "done". Only days that ended a full day ago are summarized.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, case, delete, func, insert, or_, update
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from engine.core.states import State
from engine.store.tables import Execution, TaskRun, TaskRunDay, TaskRunDaySummary

Key = tuple[str, str, str]  # (namespace, flow_id, task_id)
DONE, PENDING, STALE = "done", "pending", "stale"
HORIZON_DAYS = 400  # days older than this are never summarized (retention has usually removed them)
DAYS_PER_SWEEP = 31  # a sweep summarizes at most this many days, newest first: a month's window at once
DAY = dt.timedelta(days=1)
# A day is summarized once it ended a day and this long ago: on PostgreSQL, yesterday's runs (which the hot path
# still ends after midnight) do not lock a marker (migration 0021), so a write to a day must not begin before its
# day was "yesterday" for the database and commit after a sweep read it; an hour of margin also covers clocks apart.
SETTLE = dt.timedelta(hours=1)
FIGURES = ("runs", "ended", "sum_ms", "min_ms", "max_ms", "failures")  # the totals of a task_run_day row


@dataclass
class Totals:
    """A task's runs, those with a duration (``ended``), their sum, min and max duration, and FAILED runs."""

    runs: int = 0
    ended: int = 0
    sum_ms: int = 0
    min_ms: int | None = None
    max_ms: int | None = None
    failures: int = 0

    def add(self, runs: int, ended: int, sum_ms: Any, min_ms: Any, max_ms: Any, failures: int) -> None:
        self.runs += runs
        self.ended += ended
        self.sum_ms += int(sum_ms or 0)
        if min_ms is not None:
            self.min_ms = min_ms if self.min_ms is None else min(self.min_ms, min_ms)
        if max_ms is not None:
            self.max_ms = max_ms if self.max_ms is None else max(self.max_ms, max_ms)
        self.failures += failures

    @property
    def avg_ms(self) -> float | None:
        return self.sum_ms / self.ended if self.ended else None


@dataclass
class Window:
    """Which whole days of a window were read from summaries, and the totals per task."""

    totals: dict[Key, Totals] = field(default_factory=dict)
    summarized: list[dt.date] = field(default_factory=list)


def utc(t: dt.datetime) -> dt.datetime:
    """``t`` in UTC (a naive time is taken as UTC, as the store writes them)."""
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)


def midnight(t: dt.datetime) -> dt.datetime:
    return t.replace(hour=0, minute=0, second=0, microsecond=0)


def _start(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def real_runs() -> ColumnElement[bool]:
    """Task runs of real executions: tests of one task are no runs of their flow (same rule as stats._where)."""
    return col(TaskRun.execution_id).not_in(select(Execution.id).where(col(Execution.test)))


def on_summaries(where: ColumnElement[bool] | None) -> ColumnElement[bool] | None:
    """A condition on ``TaskRun.namespace`` (``engine.identity.authz.readable``) made a condition on
    ``TaskRunDay.namespace``: the access rule stays written once, in engine/identity/authz."""
    if where is None:
        return None
    runs = TaskRun.__table__  # type: ignore[attr-defined]

    def swap(element: Any) -> Any:
        if getattr(element, "table", None) is runs:
            if element.key != "namespace":  # only the namespace is in a summary: refuse to drop a condition
                raise ValueError(f"a task-run chart condition may only test the namespace, not {element.key}")
            return TaskRunDay.__table__.c.namespace  # type: ignore[attr-defined]
        return None

    return visitors.replacement_traverse(where, {}, swap)


def _lowest(column: str, *where: Any, correlate: Any = None) -> Any:
    """The first ``column`` of task_run in (namespace, flow_id, task_id) order among the rows ``where`` allows:
    one seek along ix_task_run_flow_task_stats (an alias of its own, so that nesting never correlates by mistake)."""
    run = TaskRun.__table__.alias()  # type: ignore[attr-defined]
    conditions = [condition(run) for condition in where]
    statement = select(run.c[column]).where(*conditions).order_by(run.c.namespace, run.c.flow_id, run.c.task_id)
    if correlate is not None:
        statement = statement.correlate(correlate)
    return statement.limit(1).scalar_subquery()


@functools.cache  # built once: building it took 9 ms, and the executor's sweep summarizes up to a month of days
def _key_walk() -> Any:
    """Every (namespace, flow_id, task_id) of task_run, in order, by recursion, a few index seeks each (a loose
    index scan): a few hundred seeks where ``SELECT DISTINCT`` reads all 10,000,000 index entries. Each step is the
    next task of the flow, else the first task of the namespace's next flow, else of the next namespace; a row
    comparison would not do: SQLite seeks on its first column only. The last row is all NULL."""
    keys = select(
        _lowest("namespace").label("namespace"),
        _lowest("flow_id").label("flow_id"),
        _lowest("task_id").label("task_id"),
    ).cte("task_keys", recursive=True)
    ns, flow, task = keys.c.namespace, keys.c.flow_id, keys.c.task_id
    next_task = _lowest(
        "task_id",
        lambda r: r.c.namespace == ns,
        lambda r: r.c.flow_id == flow,
        lambda r: r.c.task_id > task,
        correlate=keys,
    )
    next_flow = _lowest("flow_id", lambda r: r.c.namespace == ns, lambda r: r.c.flow_id > flow, correlate=keys)
    next_namespace = _lowest("namespace", lambda r: r.c.namespace > ns, correlate=keys)
    same_flow, same_namespace = next_task.is_not(None), next_flow.is_not(None)
    step = select(
        case((or_(same_flow, same_namespace), ns), else_=next_namespace),
        case(
            (same_flow, flow),
            (same_namespace, next_flow),
            else_=_lowest("flow_id", lambda r: r.c.namespace == next_namespace, correlate=keys),
        ),
        case(
            (same_flow, next_task),
            (
                same_namespace,
                _lowest("task_id", lambda r: r.c.namespace == ns, lambda r: r.c.flow_id == next_flow, correlate=keys),
            ),
            else_=_lowest("task_id", lambda r: r.c.namespace == next_namespace, correlate=keys),
        ),
    ).where(ns.is_not(None))
    return keys.union_all(step)


def _raw(
    session: Session,
    start: dt.datetime,
    end: dt.datetime,
    namespace: str | None,
    flow_id: str | None,
    where: ColumnElement[bool] | None,
) -> list[tuple[str, str, str, int, int, int, int | None, int | None, int]]:
    """(namespace, flow_id, task_id, *FIGURES) of each task with real task runs created in [start, end).

    Each task found by the key walk is one range read of ix_task_run_flow_task_stats (namespace, flow_id,
    task_id, created_at, ...): reading two days of a month costs two days' entries, without an index on
    created_at that the hot path would pay for. Its totals come back packed in one JSON array, from a correlated
    subquery, because a join grouped by task makes SQLite sort every run read (5 times slower)."""
    keys = _key_walk()
    duration, state, created = col(TaskRun.duration_ms), col(TaskRun.state), col(TaskRun.created_at)
    pack = func.json_build_array if session.get_bind().dialect.name == "postgresql" else func.json_array
    totals = (
        select(
            pack(
                func.count(),
                func.count(duration),
                func.coalesce(func.sum(duration), 0),
                func.min(duration),
                func.max(duration),
                func.count(case((state == State.FAILED.value, 1))),
            )
        )
        .where(
            TaskRun.namespace == keys.c.namespace,
            TaskRun.flow_id == keys.c.flow_id,
            TaskRun.task_id == keys.c.task_id,
            created >= start,
            created < end,
            real_runs(),
            *([] if where is None else [where]),
        )
        .correlate(keys)
        .scalar_subquery()
    )
    scope = [c == v for c, v in ((keys.c.namespace, namespace), (keys.c.flow_id, flow_id)) if v is not None]
    statement = select(keys.c.namespace, keys.c.flow_id, keys.c.task_id, totals).where(
        keys.c.namespace.is_not(None), *scope
    )
    found = []
    for ns, flow, task, packed in session.execute(statement):
        figures = json.loads(packed) if isinstance(packed, str) else packed
        if figures[0]:  # a task without runs in the range
            found.append((ns, flow, task, *figures))
    return found


def window_totals(
    session: Session,
    since: dt.datetime,
    until: dt.datetime,
    *,
    namespace: str | None = None,
    flow_id: str | None = None,
    where: ColumnElement[bool] | None = None,
) -> Window:
    """Totals per task of the real task runs created in [since, until): summaries for the window's whole days
    marked done, raw task runs for the rest."""
    since, until = utc(since), utc(until)
    first = since if since == midnight(since) else midnight(since) + DAY  # the window's first whole day
    last = midnight(until)  # ... and the midnight ending its last one
    done: list[dt.date] = []
    if first < last:
        # The done days first, then their rows: a day marked stale between the two reads keeps its last
        # totals (its rows are replaced whole, in one transaction), so no day is counted twice or missed.
        marker = col(TaskRunDaySummary.day)
        done = sorted(
            session.execute(
                select(marker).where(TaskRunDaySummary.state == DONE, marker >= first.date(), marker < last.date())
            ).scalars()
        )
    result = Window(summarized=done)
    if done:
        totals = select(
            TaskRunDay.namespace,
            TaskRunDay.flow_id,
            TaskRunDay.task_id,
            func.sum(TaskRunDay.runs),
            func.sum(TaskRunDay.ended),
            func.sum(TaskRunDay.sum_ms),
            func.min(TaskRunDay.min_ms),
            func.max(TaskRunDay.max_ms),
            func.sum(TaskRunDay.failures),
        ).where(col(TaskRunDay.day).in_(done))
        for column, value in ((TaskRunDay.namespace, namespace), (TaskRunDay.flow_id, flow_id)):
            if value is not None:
                totals = totals.where(column == value)
        if (summary_where := on_summaries(where)) is not None:
            totals = totals.where(summary_where)
        totals = totals.group_by(TaskRunDay.namespace, TaskRunDay.flow_id, TaskRunDay.task_id)
        for ns, flow, task, *figures in session.execute(totals):
            result.totals.setdefault((ns, flow, task), Totals()).add(
                *(int(v) if v is not None else None for v in figures)
            )
    for start, end in _gaps(since, until, done):
        for ns, flow, task, *figures in _raw(session, start, end, namespace, flow_id, where):
            result.totals.setdefault((ns, flow, task), Totals()).add(*figures)
    return result


def _gaps(since: dt.datetime, until: dt.datetime, done: list[dt.date]) -> list[tuple[dt.datetime, dt.datetime]]:
    """[since, until) without the done days, as few ranges as possible."""
    gaps, start = [], since
    for day in done:
        if _start(day) > start:
            gaps.append((start, _start(day)))
        start = max(start, _start(day) + DAY)
    if start < until:
        gaps.append((start, until))
    return gaps


def summarize_closed_days(
    db: Engine, now: dt.datetime, *, max_days: int = DAYS_PER_SWEEP, horizon_days: int = HORIZON_DAYS
) -> list[dt.date]:
    """Summarize up to ``max_days`` closed days (ended a full day before ``now``, within ``horizon_days``) that
    have no current summary, newest first; returns the days marked done.

    Race-free, on PostgreSQL (READ COMMITTED) as on SQLite, in three steps, a transaction per day and step (the
    sweep never holds two markers' locks, so it never deadlocks with a writer):
    1. mark the day "pending" and commit. The triggers upsert the marker of every summarizable day whose task runs
       they see written, so this upsert waits for any transaction that wrote such a run and has not committed.
    2. read the day's totals, in a snapshot taken after step 1 committed: every write whose trigger ran before
       step 1 is committed, and seen.
    3. ``UPDATE marker SET state='done' WHERE state='pending'``, and replace the day's rows, in one transaction. A
       write whose trigger ran after step 1 left the marker "stale" (or holds its lock until it commits, and the
       update waits, then finds it stale): the update changes nothing, the day's rows are left alone, and a next
       sweep summarizes it. A write after step 3 marks the day stale again.
    The triggers upsert "stale" rather than delete the marker: deleting a marker that does not exist yet takes no
    lock, and a write begun before step 1 and committed after step 2's snapshot would go unseen. (On PostgreSQL,
    writes to yesterday's runs only update an existing marker, see ``SETTLE``.) Step 2 reads outside any write
    transaction: on SQLite the writers (the engine) are never held up by it.
    """
    today = midnight(utc(now) - SETTLE).date()
    newest, oldest = today - 2 * DAY, today - dt.timedelta(days=horizon_days)  # yesterday is not closed a day ago
    with Session(db) as session:
        done = set(
            session.execute(
                select(TaskRunDaySummary.day).where(
                    TaskRunDaySummary.state == DONE, col(TaskRunDaySummary.day) >= oldest
                )
            ).scalars()
        )
    days = []
    day = newest
    while day >= oldest and len(days) < max_days:
        if day not in done:
            days.append(day)
        day -= DAY
    if not days:
        return []
    for day in days:  # step 1, a transaction per day: the sweep never holds two markers' locks (no deadlock)
        with Session(db) as session:
            session.execute(_upsert(session, day, PENDING))
            session.commit()
    rows: dict[dt.date, list[dict[str, Any]]] = {day: [] for day in days}
    with Session(db) as session:  # step 2: a day at a time, each task's runs of the day along the index
        for day in days:
            for ns, flow, task, *figures in _raw(session, _start(day), _start(day) + DAY, None, None, None):
                row = {
                    "day": day,
                    "namespace": ns,
                    "flow_id": flow,
                    "task_id": task,
                    **dict(zip(FIGURES, figures, strict=True)),
                }
                rows[day].append(row)
    summarized = []
    for day in days:  # step 3, a transaction per day too
        with Session(db) as session:
            marked = session.execute(
                update(TaskRunDaySummary)
                .where(col(TaskRunDaySummary.day) == day, TaskRunDaySummary.state == PENDING)
                .values(state=DONE, computed_at=utc(now))
            )
            if marked.rowcount != 1:  # a task run of that day was written meanwhile: its totals may be stale
                continue
            session.execute(delete(TaskRunDay).where(col(TaskRunDay.day) == day))
            if rows[day]:
                session.execute(insert(TaskRunDay), rows[day])
            session.commit()
            summarized.append(day)
    return summarized


def _upsert(session: Session, day: dt.date, state: str) -> Any:
    """INSERT the day's marker, or set the state of the existing one (the same statement on both databases)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    statement = upsert(TaskRunDaySummary).values(day=day, state=state)
    return statement.on_conflict_do_update(index_elements=["day"], set_={"state": state})
