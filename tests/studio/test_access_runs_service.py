"""Who sees and does what in the studio's executions, dashboard, triggers and audit services.

Real users with real memberships, on a real database (SQLite, and PostgreSQL when reachable): a history of
runs in two namespaces, ``north`` and ``south``; each person must see exactly their namespaces' part of it.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event, update

from engine.identity import authz, users
from engine.identity.policy import Principal
from engine.services.flow_deploy import deploy_flow
from engine.store.database import session_scope
from engine.store.tables import Execution, LogLine, TaskRun, TriggerState
from studio import services
from studio.components.logs import LogLine as PanelLine
from studio.pages.dashboard.state import Kpis
from studio.services import audit_trail, history, triggers
from studio.services import executions as runs

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
FLOW = """\
id: etl
namespace: {namespace}
tasks:
  - {{id: extract, type: log, message: hi}}
triggers:
  - {{id: daily, type: schedule, cron: '0 6 * * *'}}
"""


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=dt.UTC)


# id, namespace, state, created, duration (s) or None (not ended)
EXECUTIONS = [
    ("n1", "north", "SUCCESS", at(9, 10), 10),
    ("n2", "north", "FAILED", at(10, 9), 20),
    ("n3", "north", "RUNNING", at(10, 11), None),
    ("s1", "south", "SUCCESS", at(8, 10), 30),
    ("s2", "south", "SUCCESS", at(10, 8), 40),
    ("s3", "south", "FAILED", at(10, 10), 50),
    ("s4", "south", "RUNNING", at(10, 11, 30), None),
]
NEXT_FIRE = {"north": at(11, 6), "south": at(10, 13)}
# name, global admin, role on north
PEOPLE = [
    ("root", True, None),
    ("viewer", False, "viewer"),
    ("operator", False, "operator"),
    ("editor", False, "editor"),
    ("boss", False, "admin"),
    ("outsider", False, None),
]


@pytest.fixture
def seeded(db) -> None:
    """The flow etl in north and south, its trigger states, and EXECUTIONS with a task run and a log line each,
    in the studio's database (``db``, which has no Redis: an unchecked action would fail another way)."""
    with session_scope(db) as session:
        for namespace in ("north", "south"):
            deploy_flow(session, FLOW.format(namespace=namespace), author="test")
            session.add(
                TriggerState(namespace=namespace, flow_id="etl", trigger_id="daily", next_fire_at=NEXT_FIRE[namespace])
            )
        session.flush()
        for execution_id, namespace, state, created, seconds in EXECUTIONS:
            ended = seconds is not None
            session.add(
                Execution(
                    id=execution_id,
                    namespace=namespace,
                    flow_id="etl",
                    flow_revision=1,
                    state=state,
                    created_at=created,
                    started_at=created,
                    ended_at=created + dt.timedelta(seconds=seconds) if ended else None,
                    duration_ms=seconds * 1000 if ended else None,
                )
            )
            session.flush()
            run_state = "FAILED" if state == "FAILED" else state
            session.add(
                TaskRun(
                    id=f"t-{execution_id}",
                    execution_id=execution_id,
                    namespace=namespace,
                    flow_id="etl",
                    task_id="extract",
                    state=run_state,
                    created_at=created,
                    duration_ms=seconds * 1000 if ended else None,
                    outputs={"secret_of": namespace},
                )
            )
            level = "ERROR" if state == "FAILED" else "INFO"
            session.add(
                LogLine(
                    execution_id=execution_id,
                    namespace=namespace,
                    flow_id="etl",
                    task_id="extract",
                    level=level,
                    message=f"line of {execution_id}",
                    timestamp=created,
                )
            )


@pytest.fixture
def people(db, seeded) -> dict[str, Principal]:
    found = {}
    with session_scope(db) as session:
        for name, is_admin, role in PEOPLE:
            user = users.create_user(session, name, "a long password", actor="test", is_admin=is_admin)
            if role:
                users.grant(session, user, "north", role, actor="test")
            found[name] = users.principal_for(session, user)
    return found


def ids(rows) -> list[str]:
    return sorted(r["id"] for r in rows)


def test_executions_are_listed_searched_and_counted_for_readers_only(people):
    viewer, outsider, root = people["viewer"], people["outsider"], people["root"]
    rows, total = runs.search_executions(viewer)
    assert (ids(rows), total) == (["n1", "n2", "n3"], 3)
    assert runs.search_executions(viewer, namespace="south") == ([], 0)
    assert runs.search_executions(viewer, text="s") == ([], 0)  # "s1".startswith("s"): filtered all the same
    assert runs.search_executions(viewer, states=["FAILED"])[1] == 1
    assert runs.search_executions(outsider) == ([], 0)
    assert runs.search_executions(root)[1] == 7


def test_one_execution_is_read_by_its_namespace_only(people):
    viewer, outsider = people["viewer"], people["outsider"]
    info = runs.detail(viewer, "n2")
    assert (info["namespace"], info["state"]) == ("north", "FAILED")
    assert (info["may_kill"], info["may_restart"], info["may_resume"]) == (False, False, False)
    assert runs.detail(people["operator"], "n2")["may_restart"] is True
    latest, spans = runs.task_runs(viewer, "n2")
    assert latest["extract"]["outputs"] == {"secret_of": "north"} and len(spans) == 0  # no attempts seeded
    assert [PanelLine.of(line).text.split()[-1] for line in runs.logs(viewer, "n2")] == ["n2"]
    for read in (runs.detail, runs.task_runs, runs.logs):
        with pytest.raises(authz.NotVisible, match=r"^no execution s1$"):
            read(viewer, "s1")
        with pytest.raises(authz.NotVisible, match=r"^no execution n1$"):
            read(outsider, "n1")
    with pytest.raises(authz.NotVisible, match=r"^no execution nope$"):  # the same answer as for a missing one
        runs.detail(viewer, "nope")


def test_actions_need_their_role(people, db):
    viewer, outsider, operator, editor = people["viewer"], people["outsider"], people["operator"], people["editor"]
    for act in (runs.kill, runs.restart):
        with pytest.raises(authz.Forbidden, match="needs the operator role"):
            act(viewer, "n3")
        with pytest.raises(authz.NotVisible):
            act(outsider, "n3")
        with pytest.raises(authz.NotVisible):
            act(editor, "s4")
    with pytest.raises(authz.Forbidden):
        runs.replay(viewer, "n2", "extract")
    with pytest.raises(authz.Forbidden):
        runs.resume(viewer, "n3", {})
    with pytest.raises(authz.Forbidden):
        runs.act(viewer, "kill", ["n3"])
    with pytest.raises(authz.Forbidden, match="needs the editor role"):
        runs.act(operator, "delete", ["n1"])
    with pytest.raises(authz.NotVisible):
        runs.act(editor, "delete", ["n1", "s1"])  # one invisible execution stops the whole batch
    assert runs.search_executions(people["root"])[1] == 7
    assert runs.act(editor, "delete", ["n1"]) == "deleted 1 execution(s)"
    with session_scope(db) as session:
        assert session.get(Execution, "n1") is None and session.get(Execution, "s1") is not None
    assert runs.bulk_actions(viewer) == {"kill": False, "restart": False, "delete": False}
    assert runs.bulk_actions(operator) == {"kill": True, "restart": True, "delete": False}
    assert runs.bulk_actions(people["root"]) == {"kill": True, "restart": True, "delete": True}


def test_dashboard_counts_only_visible_namespaces(people):
    w = history.window("7d", now=NOW)
    viewer, outsider, root = people["viewer"], people["outsider"], people["root"]
    numbers = history.kpis(viewer, w)
    assert numbers["next_fire_at"].startswith("2026-03-11T06:00")  # north's trigger, not south's sooner one
    assert {k: v for k, v in numbers.items() if k != "next_fire_at"} == {
        "runs_today": 2,
        "ended": 2,
        "succeeded": 1,
        "success_ratio": 0.5,
        "failures": 1,
        "running_now": 1,
    }
    everything = history.kpis(root, w)
    assert (everything["runs_today"], everything["ended"], everything["running_now"]) == (5, 5, 2)
    assert everything["next_fire_at"].startswith("2026-03-10T13:00")
    nothing = history.kpis(outsider, w)
    assert (nothing["runs_today"], nothing["ended"], nothing["running_now"], nothing["next_fire_at"]) == (0, 0, 0, None)
    assert history.executions_per_day(viewer, w)["counts"] == [
        {"day": "2026-03-09", "state": "SUCCESS", "count": 1},
        {"day": "2026-03-10", "state": "FAILED", "count": 1},
        {"day": "2026-03-10", "state": "RUNNING", "count": 1},
    ]
    assert [p["id"] for p in history.duration_points(viewer, w)["points"]] == ["n2", "n1"]
    assert history.duration_points(outsider, w)["count"] == 0
    assert [(t["namespace"], t["count"]) for t in history.slowest_tasks(viewer, w)] == [("north", 3)]
    assert [(t["namespace"], t["failures"]) for t in history.most_failing_tasks(viewer, w)] == [("north", 1)]
    assert [t["count"] for t in history.task_durations(viewer, w, "", "etl")] == [3]
    assert history.log_lines_per_day(viewer, w) == [
        {"day": "2026-03-09", "level": "INFO", "count": 1},
        {"day": "2026-03-10", "level": "ERROR", "count": 1},
        {"day": "2026-03-10", "level": "INFO", "count": 1},
    ]
    assert sum(row["count"] for row in history.log_lines_per_day(root, w)) == 7
    assert history.flow_ids(viewer) == ["etl"] and history.flow_ids(outsider) == []
    board = history.dashboard(viewer, w, "south")  # a namespace they may not read: as empty as one without runs
    assert (board.kpis["runs_today"], board.execution_ids, board.slowest) == (0, [], [])
    assert Kpis.of(board.kpis).runs_today == "0"
    board = history.dashboard(viewer, w, flow_id="etl")
    assert Kpis.of(board.kpis).runs_today == "2" and board.execution_ids == ["n2", "n1"]
    assert {row["namespace"] for row in board.slowest + board.failing} == {"north"}


def test_triggers_are_listed_switched_and_backfilled_by_their_roles(people):
    viewer, outsider, editor = people["viewer"], people["outsider"], people["editor"]
    listed = triggers.list_triggers(viewer, now=NOW)
    assert [(t.namespace, t.trigger_id, t.may_edit, t.may_backfill) for t in listed] == [
        ("north", "daily", False, False)
    ]
    assert [t.namespace for t in triggers.list_triggers(editor, now=NOW)] == ["north"]
    assert all(t.may_edit for t in triggers.list_triggers(editor, now=NOW))
    assert triggers.list_triggers(outsider, now=NOW) == []
    assert triggers.list_triggers(viewer, "south", now=NOW) == []
    assert len(triggers.list_triggers(people["root"], now=NOW)) == 2
    with pytest.raises(authz.Forbidden, match="needs the editor role"):
        triggers.set_enabled(viewer, "north", "etl", "daily", False)
    with pytest.raises(authz.NotVisible, match=r"^no flow south/etl$"):
        triggers.set_enabled(editor, "south", "etl", "daily", False)
    triggers.set_enabled(editor, "north", "etl", "daily", False)
    assert not triggers.list_triggers(viewer, now=NOW)[0].enabled_by_person
    window = ("2026-03-01T00:00", "2026-03-02T23:00")
    with pytest.raises(authz.Forbidden):
        triggers.start_backfill(viewer, "north", "etl", "daily", *window)
    with pytest.raises(authz.NotVisible):
        triggers.start_backfill(outsider, "north", "etl", "daily", *window)
    assert triggers.start_backfill(editor, "north", "etl", "daily", *window).total == 2
    with pytest.raises(authz.Forbidden):
        triggers.backfill_action(viewer, "north", "etl", "daily", "cancel")
    with pytest.raises(authz.NotVisible):
        triggers.backfill_action(outsider, "north", "etl", "daily", "cancel")
    assert triggers.backfill_action(editor, "north", "etl", "daily", "cancel").cancelled
    trail = audit_trail.events(people["boss"], "north")
    assert [(e["actor"], e["action"]) for e in trail[:2]] == [("editor", "changed"), ("editor", "disabled")]


def test_the_audit_trail_is_for_namespace_and_global_administrators(people):
    viewer, boss, root = people["viewer"], people["boss"], people["root"]
    assert audit_trail.audit_namespaces(viewer) == [] and not audit_trail.sees_everything(viewer)
    with pytest.raises(authz.Forbidden):
        audit_trail.events(viewer, "north")
    with pytest.raises(authz.Forbidden):
        audit_trail.events(viewer)
    with pytest.raises(authz.NotVisible):
        audit_trail.events(people["outsider"], "north")
    assert audit_trail.audit_namespaces(boss) == ["north"] and not audit_trail.sees_everything(boss)
    own = audit_trail.events(boss, "north")
    assert own and {e["namespace"] for e in own} == {"north"}
    with pytest.raises(authz.NotVisible):
        audit_trail.events(boss, "south")
    with pytest.raises(authz.Forbidden):
        audit_trail.events(boss)  # every namespace, and events of none (users, sign-ins): global admins only
    assert audit_trail.audit_namespaces(root) == ["north", "south"] and audit_trail.sees_everything(root)
    assert {"north", ""} <= {e["namespace"] for e in audit_trail.events(root, limit=500)}


def _ends_after_read(db, execution_id: str, nth: int):
    """Ends the execution and its task runs, as the worker and the executor would, right after the ``nth`` read of
    the execution or task run tables: the moment a page reading them apart would see two different instants."""
    seen = 0

    def after_cursor_execute(_conn, _cursor, statement, *_):
        nonlocal seen
        text = statement.lstrip().upper()
        if not text.startswith("SELECT") or ("TASK_RUN" not in text and "EXECUTION" not in text):
            return
        seen += 1
        if seen == nth:
            with db.begin() as other:
                other.execute(update(TaskRun).where(TaskRun.execution_id == execution_id).values(state="SUCCESS"))
                other.execute(update(Execution).where(Execution.id == execution_id).values(state="SUCCESS"))

    event.listen(db, "after_cursor_execute", after_cursor_execute)
    return lambda: event.remove(db, "after_cursor_execute", after_cursor_execute)


@pytest.mark.parametrize("nth", [1, 2, 3, 4, 5])
def test_the_badge_and_the_nodes_are_read_as_of_one_instant(people, db, nth):
    """Issue 12: the run badge said CREATED (or RUNNING) above nodes that were all SUCCESS, or, read the other way
    round, SUCCESS above running nodes, which then never caught up since a page stops following an ended run."""
    root = people["root"]
    views = {
        "editor's run": lambda: (lambda s: (s["state"], s["tasks"]))(services.run_status(root, "n3", 0)),
        "execution page": lambda: (lambda v: (v[0]["state"], v[1]))(runs.detail_with_runs(root, "n3")),
    }
    for name, read in views.items():
        with db.begin() as connection:  # running again, before each read
            connection.execute(update(TaskRun).where(TaskRun.execution_id == "n3").values(state="RUNNING"))
            connection.execute(update(Execution).where(Execution.id == "n3").values(state="RUNNING"))
        stop = _ends_after_read(db, "n3", nth)
        try:
            state, tasks = read()
        finally:
            stop()
        node_states = sorted({run["state"] for run in tasks.values()})
        assert (state, node_states) in [("RUNNING", ["RUNNING"]), ("SUCCESS", ["SUCCESS"])], name
