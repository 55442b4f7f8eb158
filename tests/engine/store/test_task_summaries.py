"""Per-day task-run summaries (engine/store/task_summaries.py) on SQLite and PostgreSQL: the charts give exactly
the raw answer with and without them, and every write to a summarized day (whatever writes it) makes a database
trigger take that day's summary out of use until it is computed again."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
import sqlalchemy
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import delete, update
from sqlmodel import Session, SQLModel, select

from engine.identity import authz
from engine.identity.policy import Principal, Role
from engine.services import retention
from engine.storage.local import LocalStorage
from engine.store import search, stats, task_summaries
from engine.store.database import session_scope
from engine.store.tables import Execution, TaskRun, TaskRunDay, TaskRunDaySummary

UTC = dt.UTC
DAYS_BACK = 8
# Real time: the triggers compare created_at with the database's own clock (runs of today never touch a summary).
# NOW, TODAY, SWEEP, CLOSED and WINDOWS are set again before each test (_today_for_the_whole_test): a suite that
# crosses midnight must not test with the day it was imported on.
NOW: dt.datetime
TODAY: dt.datetime
SWEEP: dt.datetime  # a sweep's time for which today's date is TODAY's, whatever the hour
CLOSED: list[dt.date]  # days a sweep may summarize
WINDOWS: list[tuple[dt.datetime, dt.datetime]]
TASKS = [("acme", "etl", "extract"), ("acme", "etl", "load"), ("acme.sub", "etl", "load"), ("beta", "etl", "load")]
VIEWER = Principal("viewer", memberships={"acme": Role.VIEWER})  # acme and acme.sub, never beta


def _at(days_back: int, hour: int) -> dt.datetime:
    return TODAY - dt.timedelta(days=days_back) + dt.timedelta(hours=hour)


@pytest.fixture
def history(database):
    """Runs of four tasks over nine days (today included), three a day each, of varied states and durations, one
    never started; and a test execution of one task on a closed day, slow and failing, that no figure may count."""
    with session_scope(database) as session:
        number = 0
        for days_back in range(DAYS_BACK + 1):
            for hour in (1, 11, 23):
                if days_back == 0 and hour > NOW.hour:
                    continue
                execution = f"e{days_back}-{hour}"
                session.add(
                    Execution(
                        id=execution,
                        namespace="acme",
                        flow_id="etl",
                        flow_revision=1,
                        state="SUCCESS",
                        created_at=_at(days_back, hour),
                        ended_at=_at(days_back, hour),
                    )
                )
                session.flush()
                for ns, flow, task in TASKS:
                    number += 1
                    never_started = number % 11 == 0
                    session.add(
                        TaskRun(
                            id=f"t{number}",
                            execution_id=execution,
                            namespace=ns,
                            flow_id=flow,
                            task_id=task,
                            state="FAILED" if number % 3 == 0 else "SUCCESS",
                            created_at=_at(days_back, hour),
                            duration_ms=None if never_started else (number * 37) % 5000 + 10,
                        )
                    )
        session.add(
            Execution(
                id="tested",
                namespace="acme",
                flow_id="etl",
                flow_revision=1,
                state="FAILED",
                test=True,
                created_at=_at(3, 12),
                ended_at=_at(3, 12),
            )
        )
        session.flush()
        session.add(
            TaskRun(
                id="t-tested",
                execution_id="tested",
                namespace="acme",
                flow_id="etl",
                task_id="load",
                state="FAILED",
                created_at=_at(3, 12),
                duration_ms=9_000_000,
            )
        )
    return database


def _set_the_clock(now: dt.datetime) -> None:
    global NOW, TODAY, SWEEP, CLOSED, WINDOWS
    NOW = now
    TODAY = now.replace(hour=0, minute=0, second=0, microsecond=0)
    SWEEP = TODAY + task_summaries.SETTLE
    CLOSED = [(TODAY - dt.timedelta(days=n)).date() for n in range(2, DAYS_BACK + 1)]
    WINDOWS = [
        (TODAY - dt.timedelta(days=7), NOW),  # whole days to now
        (_at(6, 12), _at(2, 12)),  # cuts its first and last day in half
        (_at(5, 0), _at(3, 0)),  # exactly two closed days
        (_at(4, 23), _at(4, 23) + dt.timedelta(minutes=30)),  # within one day
    ]


_set_the_clock(dt.datetime.now(UTC))
MARGIN = dt.timedelta(minutes=2)  # longer than any test here takes


@pytest.fixture(autouse=True)
def _today_for_the_whole_test():
    """Each test sees one UTC day from its first write to its last check: close to midnight it waits the day out,
    then takes the clock again (the database's triggers and sweeps read their own)."""
    now = dt.datetime.now(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
    if midnight - now < MARGIN:
        time.sleep((midnight - now).total_seconds() + 1)
        now = dt.datetime.now(UTC)
    _set_the_clock(now)


def _charts(database, where_viewer: bool = False) -> list:
    where = authz.readable(VIEWER, TaskRun.namespace) if where_viewer else None
    found = []
    with Session(database) as session:
        for since, until in WINDOWS:
            found.append(stats.top_tasks(session, since, until, by="slowest", limit=3, where=where))
            found.append(stats.top_tasks(session, since, until, by="failing", where=where))
            found.append(stats.top_tasks(session, since, until, by="slowest", limit=100, namespace="acme", where=where))
            found.append(stats.task_durations(session, since, until, flow_id="etl", where=where))
            found.append(stats.task_durations(session, since, until, namespace="acme", flow_id="etl", where=where))
    return found


def _raw_charts(database, where_viewer: bool = False) -> list:
    """The charts with every summary out of use (read raw, as before any sweep)."""
    with session_scope(database) as session:
        session.execute(update(TaskRunDaySummary).values(state=task_summaries.STALE))
    return _charts(database, where_viewer)


def _states(database) -> dict[dt.date, str]:
    with Session(database) as session:
        return {day: state for day, state in session.execute(select(TaskRunDaySummary.day, TaskRunDaySummary.state))}


def test_the_charts_give_the_raw_answer_from_summaries(history):
    raw, raw_viewer = _raw_charts(history), _raw_charts(history, where_viewer=True)
    assert raw[0] and raw[3], "the history has tasks in the window"

    summarized = task_summaries.summarize_closed_days(history, SWEEP)

    assert sorted(summarized)[-len(CLOSED) :] == sorted(CLOSED)  # yesterday and today never
    assert (TODAY - dt.timedelta(days=1)).date() not in summarized
    with Session(history) as session:
        window = task_summaries.window_totals(session, *WINDOWS[0])
        rows = session.execute(select(TaskRunDay).where(TaskRunDay.day == CLOSED[1])).scalars().all()
    assert window.summarized == sorted(CLOSED[:6])  # the whole closed days of the window were read from summaries
    # the test execution's run (3 days back) is left out of that day's summary, as from every chart
    assert max(r.max_ms or 0 for r in rows) < 9_000_000 and sum(r.runs for r in rows) == 3 * len(TASKS)
    assert _charts(history) == raw
    assert _charts(history, where_viewer=True) == raw_viewer


def test_a_viewer_never_sees_another_namespaces_tasks_in_summaries(history):
    task_summaries.summarize_closed_days(history, SWEEP)
    charts = _charts(history, where_viewer=True)
    assert all(charts[:3]) and {row["namespace"] for rows in charts for row in rows} == {"acme", "acme.sub"}
    with Session(history) as session:
        everyone = stats.top_tasks(session, _at(7, 0), _at(2, 0), by="slowest", limit=100)
    assert "beta" in {row["namespace"] for row in everyone}


def test_a_condition_on_anything_but_the_namespace_is_refused_for_summaries():
    with pytest.raises(ValueError):
        task_summaries.on_summaries(TaskRun.flow_id == "etl")


def _update_an_old_run(database) -> None:
    with session_scope(database) as session:
        old = update(TaskRun).where(TaskRun.created_at == _at(4, 11), TaskRun.task_id == "extract")
        session.execute(old.values(state="FAILED", duration_ms=4_999_999))


def _delete_an_execution(database) -> None:
    with session_scope(database) as session:
        assert search.delete_executions(session, ["e4-11"]) == 1


def _purge_by_retention(database, tmp_path) -> None:
    report, _ = retention.purge_expired(
        database, dt.timedelta(days=6), now=NOW, storage=LocalStorage(tmp_path / "storage")
    )
    assert report.executions >= 3


def _insert_a_late_run(database) -> None:
    with session_scope(database) as session:
        session.add(
            TaskRun(
                id="late",
                execution_id="e5-1",
                namespace="acme",
                flow_id="etl",
                task_id="extract",
                state="FAILED",
                created_at=_at(5, 2),
                duration_ms=7_777_777,
            )
        )


def _make_an_execution_a_test(database) -> None:
    with session_scope(database) as session:
        session.execute(update(Execution).where(Execution.id == "e3-23").values(test=True))


@pytest.mark.parametrize(
    "write",
    [_update_an_old_run, _delete_an_execution, _purge_by_retention, _insert_a_late_run, _make_an_execution_a_test],
)
def test_a_write_to_a_summarized_day_takes_its_summary_out_of_use(history, write, tmp_path):
    task_summaries.summarize_closed_days(history, SWEEP)
    assert all(_states(history)[day] == "done" for day in CLOSED)
    before = _charts(history)

    write(history, tmp_path) if write is _purge_by_retention else write(history)

    stale = {day for day, state in _states(history).items() if state != "done"}
    assert stale and stale <= set(CLOSED) | {(TODAY - dt.timedelta(days=n)).date() for n in range(DAYS_BACK + 1)}
    after = _charts(history)
    assert after != before  # the write changed a closed day's figures ...
    assert after == _raw_charts(history)  # ... and the charts show it
    task_summaries.summarize_closed_days(history, SWEEP)  # summarized again: still the raw answer
    assert all(_states(history)[day] == "done" for day in CLOSED)
    assert _charts(history) == _raw_charts(history)


def test_todays_runs_never_touch_a_summary(history):
    task_summaries.summarize_closed_days(history, SWEEP)
    with session_scope(history) as session:
        session.execute(update(TaskRun).where(TaskRun.created_at >= TODAY).values(state="FAILED"))
        session.execute(delete(TaskRun).where(TaskRun.created_at >= TODAY))
    assert all(_states(history)[day] == "done" for day in CLOSED)


def test_a_write_between_reading_a_day_and_marking_it_done_leaves_it_unsummarized(history):
    """The sweep reads a day's totals, then a task run of that day is written (by another connection, before the
    sweep marks the day done): the day must not be marked done with totals that miss the write."""
    day = CLOSED[0]
    written = []

    def write_once(_connection, _cursor, statement, *_):  # once the day's totals are read
        if not written and "json" in statement and statement.lstrip().upper().startswith("WITH"):
            written.append(True)
            _update_an_old_run_on(history, _at(2, 11))

    sqlalchemy.event.listen(history, "after_cursor_execute", write_once)
    try:
        summarized = task_summaries.summarize_closed_days(history, SWEEP, max_days=1)
    finally:
        sqlalchemy.event.remove(history, "after_cursor_execute", write_once)
    assert written and summarized == [] and _states(history)[day] == "stale"
    assert _charts(history) == _raw_charts(history)
    assert task_summaries.summarize_closed_days(history, SWEEP, max_days=1) == [day]
    assert _charts(history) == _raw_charts(history)


def _update_an_old_run_on(database, created_at: dt.datetime) -> None:
    with database.connect() as connection:  # its own connection and transaction, committed
        connection.execute(
            update(TaskRun).where(TaskRun.created_at == created_at).values(duration_ms=4_444_444, state="FAILED")
        )
        connection.commit()


def test_a_write_begun_before_the_sweep_and_committed_during_it_is_counted(history):
    """A transaction writes a run of a closed day (its trigger runs) and commits only while the sweep is under
    way: the sweep waits for it at its first step, so its totals include the write."""
    day = CLOSED[0]
    writer = history.connect()
    writer.execute(update(TaskRun).where(TaskRun.created_at == _at(2, 11)).values(duration_ms=4_444_444))
    done: list = []
    sweep = threading.Thread(
        target=lambda: done.append(task_summaries.summarize_closed_days(history, SWEEP, max_days=1))
    )
    sweep.start()
    time.sleep(0.5)
    writer.commit()
    writer.close()
    sweep.join(timeout=30)
    assert done == [[day]]
    with Session(history) as session:
        maxima = session.execute(select(TaskRunDay.max_ms).where(TaskRunDay.day == day)).scalars().all()
    assert 4_444_444 in maxima
    assert _charts(history) == _raw_charts(history)


def test_the_migration_creates_the_tables_and_index_as_the_models_declare(database):
    with database.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert [d for d in diff if "task_run" in str(d)] == []


@pytest.mark.parametrize("database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_yesterdays_runs_ending_after_midnight_lock_no_marker_on_postgresql(history):
    """The hot path still ends runs created before midnight: on PostgreSQL they must not all queue on one marker
    row (the sweep only summarizes days before yesterday, after an hour more)."""
    yesterday = (TODAY - dt.timedelta(days=1)).date()
    with session_scope(history) as session:
        session.execute(delete(TaskRunDaySummary))
        session.execute(update(TaskRun).where(TaskRun.created_at == _at(1, 11)).values(state="FAILED"))
        session.execute(update(TaskRun).where(TaskRun.created_at == _at(2, 11)).values(state="FAILED"))
    assert _states(history) == {CLOSED[0]: "stale"} and yesterday not in _states(history)
