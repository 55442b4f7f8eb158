"""Retention: ended executions past their flow's (else the global) retention go with their task runs, attempts,
logs and files, in batches; running ones and younger ones stay; ``lanner purge`` does it for an age given."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import Session, func, select

from engine.cli import main
from engine.core.states import State
from engine.flows.loader import load_flow, load_flow_or_raise
from engine.identity import authz
from engine.identity.policy import Principal, Role
from engine.runtime.connection import connect
from engine.runtime.executor import Executor
from engine.runtime.purge import PURGE_KEY
from engine.services import flows, retention
from engine.storage import Address
from engine.storage.local import LocalStorage
from engine.store import kv as kv_store
from engine.store.database import session_scope
from engine.store.tables import Execution, LogLine, TaskRun, TaskRunAttempt, utcnow
from engine.workspace import kv as workspace_kv
from tests.support.ids import unique

ADMIN = authz.LOCAL
FLOW = "id: {id}\nnamespace: {ns}\n{extra}tasks:\n  - {{id: a, type: log, message: hi}}\n"


def _flow(database, namespace: str = "acme", retention_text: str | None = None) -> str:
    flow_id = unique("f")
    extra = f"retention: {retention_text}\n" if retention_text else ""
    flows.save(database, ADMIN, FLOW.format(id=flow_id, ns=namespace, extra=extra))
    return flow_id


def _execution(
    database,
    storage: LocalStorage,
    namespace: str,
    flow_id: str,
    *,
    ended_days_ago: float,
    state: State = State.SUCCESS,
) -> str:
    """An execution that ended ``ended_days_ago`` (or, not ended, still ``state``), with a task run, an attempt,
    two log lines and a file under its storage prefix."""
    execution_id, run_id = str(uuid.uuid4()), str(uuid.uuid4())
    ended = utcnow() - dt.timedelta(days=ended_days_ago)
    terminal = state in (State.SUCCESS, State.FAILED, State.KILLED, State.WARNING)
    with Session(database) as session:
        session.add(
            Execution(
                id=execution_id,
                namespace=namespace,
                flow_id=flow_id,
                flow_revision=1,
                state=state.value,
                created_at=ended - dt.timedelta(minutes=1),
                ended_at=ended if terminal else None,
            )
        )
        session.flush()
        session.add(
            TaskRun(
                id=run_id, execution_id=execution_id, namespace=namespace, flow_id=flow_id, task_id="a", state=state
            )
        )
        session.flush()
        session.add(TaskRunAttempt(task_run_id=run_id, attempt=1, state=state.value, worker="w"))
        for message in ("one", "two"):
            session.add(
                LogLine(execution_id=execution_id, namespace=namespace, flow_id=flow_id, level="INFO", message=message)
            )
        session.commit()
    source = storage.root.parent / f"{execution_id}.csv"
    source.write_text("a,b\n1,2\n")
    storage.put(Address(namespace, flow_id, execution_id, "a", 1, "data.csv"), source)
    return execution_id


def _exists(database, execution_id: str) -> bool:
    with Session(database) as session:
        return session.get(Execution, execution_id) is not None


def _rows(database, table, execution_id: str) -> int:
    with Session(database) as session:
        if table is TaskRunAttempt:
            statement = (
                select(func.count())
                .select_from(TaskRunAttempt)
                .join(TaskRun)
                .where(TaskRun.execution_id == execution_id)
            )
        else:
            statement = select(func.count()).select_from(table).where(table.execution_id == execution_id)
        return session.exec(statement).one()


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    (tmp_path / "storage").mkdir()
    return LocalStorage(tmp_path / "storage")


def test_expired_executions_go_with_their_runs_logs_and_files_younger_and_running_ones_stay(database, storage):
    namespace = unique("ns")
    flow_id = _flow(database, namespace)
    old = _execution(database, storage, namespace, flow_id, ended_days_ago=40)
    young = _execution(database, storage, namespace, flow_id, ended_days_ago=5)
    running = _execution(database, storage, namespace, flow_id, ended_days_ago=400, state=State.RUNNING)

    report, more = retention.purge_expired(database, dt.timedelta(days=30), storage=storage)

    assert (report.executions, report.logs, report.files, more) == (1, 2, 1, False)
    assert not _exists(database, old)
    assert [_rows(database, t, old) for t in (TaskRun, TaskRunAttempt, LogLine)] == [0, 0, 0]
    assert storage.files(namespace, flow_id, old) == []
    for kept in (young, running):
        assert _exists(database, kept)
        assert [_rows(database, t, kept) for t in (TaskRun, TaskRunAttempt, LogLine)] == [1, 1, 2]
        assert len(storage.files(namespace, flow_id, kept)) == 1


def test_no_global_retention_keeps_everything_but_a_flow_retention_overrides_it_both_ways(database, storage):
    namespace = unique("ns")
    short = _flow(database, namespace, "1d")  # shorter than the global one
    long = _flow(database, namespace, "100d")  # longer than the global one
    plain = _flow(database, namespace)
    short_old = _execution(database, storage, namespace, short, ended_days_ago=3)
    long_kept = _execution(database, storage, namespace, long, ended_days_ago=40)
    plain_old = _execution(database, storage, namespace, plain, ended_days_ago=40)

    report, _ = retention.purge_expired(database, None, storage=storage)  # LANNER_RETENTION unset
    assert report.executions == 1
    assert not _exists(database, short_old)
    assert _exists(database, long_kept) and _exists(database, plain_old)

    report, _ = retention.purge_expired(database, dt.timedelta(days=30), storage=storage)
    assert report.executions == 1
    assert _exists(database, long_kept) and not _exists(database, plain_old)


def test_a_backlog_larger_than_a_batch_goes_in_several_batches_and_the_sweep_stops_after_its_share(database, storage):
    namespace = unique("ns")
    flow_id = _flow(database, namespace, "1d")
    ids = [_execution(database, storage, namespace, flow_id, ended_days_ago=2 + i) for i in range(7)]

    report, more = retention.purge_expired(database, None, batch_size=3, max_batches=2, storage=storage)
    assert (report.executions, report.files, more) == (6, 6, True)
    assert [_exists(database, i) for i in ids] == [True] + [False] * 6  # the oldest went first

    report, more = retention.purge_expired(database, None, batch_size=3, max_batches=2, storage=storage)
    assert (report.executions, more) == (1, False)


def test_the_executor_sweep_purges_once_per_interval_across_executors(database, redis_server, storage, monkeypatch):
    monkeypatch.setenv("LANNER_STORAGE_URL", f"file://{storage.root}")
    namespace = unique("ns")
    flow_id = _flow(database, namespace, "1d")
    r = connect(redis_server)
    r.delete(PURGE_KEY)
    first = Executor(database, r, name=unique("e"), purge_interval=60)
    second = Executor(database, r, name=unique("e"), purge_interval=60)
    old = _execution(database, storage, namespace, flow_id, ended_days_ago=2)
    first.purge.run_once()
    assert not _exists(database, old) and storage.files(namespace, flow_id, old) == []
    again = _execution(database, storage, namespace, flow_id, ended_days_ago=2)
    second.purge.run_once()  # within the interval another executor purged: it leaves it for later
    assert _exists(database, again)
    r.delete(PURGE_KEY)


def test_the_executor_purge_also_drops_expired_kv_rows(database, redis_server):
    namespace = unique("ns")
    with session_scope(database) as session:
        workspace_kv.set_entry(session, namespace, "short", 1, actor="ana", ttl="1s")
        workspace_kv.set_entry(session, namespace, "long", 2, actor="ana", ttl="1h")
    time.sleep(1.1)
    r = connect(redis_server)
    r.delete(PURGE_KEY)
    Executor(database, r, name=unique("e"), purge_interval=60).purge.run_once()
    with session_scope(database) as session:
        assert kv_store.entry(session, namespace, "short") is None  # the row itself is gone, not only hidden
        assert kv_store.entry(session, namespace, "long") is not None
    r.delete(PURGE_KEY)


def test_purge_by_age_filters_namespace_and_flow_dry_run_deletes_nothing_and_needs_an_admin(database, storage):
    namespace = unique("ns")
    kept_flow, purged_flow = _flow(database, namespace), _flow(database, namespace)
    other_ns = unique("ns")
    other_flow = _flow(database, other_ns)
    kept = _execution(database, storage, namespace, kept_flow, ended_days_ago=10)
    purged = _execution(database, storage, namespace, purged_flow, ended_days_ago=10)
    elsewhere = _execution(database, storage, other_ns, other_flow, ended_days_ago=10)

    dry = retention.purge(database, ADMIN, "7d", namespace=namespace, dry_run=True, storage=storage)
    assert (dry.executions, dry.logs, dry.files, dry.dry_run) == (2, 4, 2, True)
    assert _exists(database, kept) and _exists(database, purged)

    done = retention.purge(database, ADMIN, "7d", namespace=namespace, flow_id=purged_flow, storage=storage)
    assert (done.executions, done.logs, done.files) == (1, 2, 1)
    assert _exists(database, kept) and not _exists(database, purged) and _exists(database, elsewhere)

    assert retention.purge(database, ADMIN, "1000000d", storage=storage).executions == 0  # before year 1: none

    with pytest.raises(PermissionError, match="admin"):
        retention.purge(database, Principal(name="ed", memberships={namespace: Role.EDITOR}), "7d", storage=storage)
    for bad in ("soon", "0s", ""):
        with pytest.raises(ValueError, match="--older-than"):
            retention.purge(database, ADMIN, bad, storage=storage)


def test_the_purge_command_prints_counts_and_refuses_a_bad_age(database, database_url, storage, tmp_path):
    namespace = unique("ns")
    flow_id = _flow(database, namespace)
    old = [_execution(database, storage, namespace, flow_id, ended_days_ago=31) for _ in range(2)]
    young = _execution(database, storage, namespace, flow_id, ended_days_ago=1)
    env = {
        "LANNER_HOME": str(tmp_path / "home"),
        "LANNER_DATABASE_URL": database_url,
        "LANNER_STORAGE_URL": f"file://{storage.root}",
        "LANNER_SERVER": "",
    }

    def purge(*args: str):
        return CliRunner().invoke(main, ["purge", *args], env=env)

    dry = purge("--older-than", "30d", "--namespace", namespace, "--dry-run")
    assert (dry.exit_code, dry.stdout.strip()) == (0, "would delete 2 execution(s), 4 log line(s), 2 file(s)")
    assert all(_exists(database, e) for e in old)

    done = purge("--older-than", "30d", "--namespace", namespace, "--flow", flow_id, "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout) == {"executions": 2, "logs": 4, "files": 2, "dryRun": False}
    assert not any(_exists(database, e) for e in old) and _exists(database, young)

    for bad, message in (
        ("thirty days", "'thirty days' is not a duration"),
        ("0s", "must be more than 0"),
        ("99999999999d", "too long a duration"),
    ):
        refused = purge("--older-than", bad)
        assert refused.exit_code == 1 and refused.stdout == ""
        assert refused.stderr.startswith("error: --older-than") and message in refused.stderr


PASSWORD = "a long enough password"


@pytest.mark.slow
def test_purge_on_a_server_is_for_administrators_and_counts_what_it_deleted(api):
    cluster = api.cluster
    namespace = unique("ns")
    storage = LocalStorage(cluster.home / "storage")  # the server's own storage (LANNER_HOME/storage)
    flow_id = _flow(cluster.db, namespace)
    old = _execution(cluster.db, storage, namespace, flow_id, ended_days_ago=10)
    assert api.post("/auth/setup", json={"username": "boss", "password": PASSWORD}).status_code == 201
    boss = api.post("/auth/login", json={"username": "boss", "password": PASSWORD}).cookies
    assert api.post("/users", json={"username": "ed", "password": PASSWORD}, cookies=boss).status_code == 201
    granted = api.put(f"/namespaces/{namespace}/members/ed", json={"role": "editor"}, cookies=boss)
    assert granted.status_code == 204, granted.text
    tokens = {}
    for name in ("boss", "ed"):
        cookies = api.post("/auth/login", json={"username": name, "password": PASSWORD}).cookies
        tokens[name] = api.post("/tokens", json={"name": "cli"}, cookies=cookies).json()["token"]

    def purge(who: str, *args: str):
        env = {"LANNER_SERVER": str(api.base_url).removesuffix("/api/v1"), "LANNER_TOKEN": tokens[who]}
        return CliRunner().invoke(main, ["purge", "--namespace", namespace, *args], env=env)

    refused = purge("ed", "--older-than", "7d")
    assert refused.exit_code == 1 and "admin" in refused.stderr and _exists(cluster.db, old)
    bad = api.post(
        "/executions/purge", params={"olderThan": "soon"}, headers={"Authorization": f"Bearer {tokens['boss']}"}
    )
    assert bad.status_code in (400, 422) and "--older-than" in bad.text
    done = purge("boss", "--older-than", "7d")
    assert done.exit_code == 0, done.output
    assert done.stdout.strip() == "deleted 1 execution(s), 2 log line(s), 1 file(s)"
    assert not _exists(cluster.db, old) and storage.files(namespace, flow_id, old) == []


def test_a_flow_retention_is_a_duration_set_from_the_studio_form():
    from studio import services  # the studio's editor: the flow settings form writes the YAML

    text = "id: f\nnamespace: n\ntasks:\n  - {id: a, type: log, message: hi}\n"
    assert "retention" in [f["name"] for f in services.flow_form(text)]
    flow = load_flow_or_raise(services.set_flow_setting(text, "retention", "30d"))
    assert flow.retention == dt.timedelta(days=30)
    for bad, message in (("a month", "not a duration"), ("99999999999d", "too long a duration")):
        problems = load_flow(text.replace("tasks:", f"retention: {bad}\ntasks:")).problems
        assert problems and "retention" in str(problems[0]) and message in str(problems[0])


def test_a_running_executor_purges_a_flow_s_runs_once_past_its_retention(cluster_factory):
    cluster = cluster_factory()
    cluster.env.update({"LANNER_PURGE_INTERVAL": "0.5", "LANNER_RETENTION": "1h"})  # read by `lanner executor`
    cluster.start_executor()
    cluster.start_workers(1)
    short = f"id: {unique('f')}\nnamespace: acme\nretention: 1s\ntasks:\n  - {{id: a, type: log, message: hi}}\n"
    kept = f"id: {unique('f')}\nnamespace: acme\ntasks:\n  - {{id: a, type: log, message: hi}}\n"
    short_id, kept_id = cluster.run(short), cluster.run(kept)
    assert cluster.wait(short_id).state == "SUCCESS" and cluster.wait(kept_id).state == "SUCCESS"
    deadline = time.monotonic() + 15
    while _exists(cluster.db, short_id) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _exists(cluster.db, short_id) and _rows(cluster.db, LogLine, short_id) == 0
    assert _exists(cluster.db, kept_id)  # LANNER_RETENTION (1h) keeps the other flow's run
