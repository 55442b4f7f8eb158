"""Chaos: a cluster of separate processes keeps every promise while its parts are killed.

Two executors and two worker pools (``worker -n 2``) on the test's database and a private Redis run a
few hundred executions of a mixed flow (parallel, foreach, a task that fails its first attempt, a
script writing numbered log lines). Meanwhile, at seeded random moments, worker pools are SIGKILLed
with their children and restarted, an executor is SIGKILLed and restarted, and Redis is SIGKILLed and
restarted once from its append-only file and once empty. The database is the source of truth, so:

- every execution ends, SUCCESS, within a bound after the last fault (the flow's retry policy absorbs
  attempts lost with a killed worker);
- no task run is left waiting or running;
- no attempt of a task run started while another one was running, and none succeeded twice;
- the successful attempt of the script wrote its side effect once and its log lines exactly once.

A side effect may be repeated when a worker dies after the script ended but before the attempt was
recorded: that is at-least-once delivery, counted and checked to come only from a lost attempt.

Figures are printed (``pytest tests/engine/test_chaos.py -s``) and put in every assertion's message.
``LANNER_CHAOS_SEED`` and ``LANNER_CHAOS_EXECUTIONS`` change the seed and the load. It runs on PostgreSQL
where reachable (as the other tests find it), else on SQLite: both would add minutes to the suite.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import random
import re
import signal
import subprocess
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from rq import Worker
from sqlmodel import Session, col, func, select

from engine.core.states import TERMINAL
from engine.runtime.connection import redis_server_binary
from engine.store.tables import Execution, LogLine, TaskRun, TaskRunAttempt
from tests.support.cluster import Cluster
from tests.support.ports import free_port
from tests.support.postgres import postgres_admin

pytestmark = pytest.mark.slow

SEED = int(os.environ.get("LANNER_CHAOS_SEED", "12"))
EXECUTIONS = int(os.environ.get("LANNER_CHAOS_EXECUTIONS", "200"))
WORKER_KILLS = 6  # a worker pool at a random moment
WORKER_KILLS_AS_THEY_START = 3  # a pool restarted and killed again just as it takes its first jobs
RUNS_PER_EXECUTION = 10  # task runs of one execution of the chaos flow (flowables and foreach iterations included)
LINES = 100  # log lines written by each attempt of the script
# Short recovery settings: a lost worker is noticed in 2 x 3 s, lost events and timers within seconds.
RECOVERY = {
    "LANNER_HEARTBEAT_INTERVAL": "0.5",
    "LANNER_HEARTBEAT_TIMEOUT": "3",
    "LANNER_SWEEP_INTERVAL": "0.5",
    "LANNER_STALE_AFTER": "3",
    "LANNER_EVENT_CLAIM_IDLE": "2",
    "LANNER_QUEUED_RECOVERY_AFTER": "5",  # a job taken by a worker that died before claiming its run
}
# After the last fault: a lost attempt is failed within 2 heartbeat timeouts, a job lost with a worker is
# sent again within 5 s, a lock left by a killed executor expires after 30 s, and the rest of the work
# (at most a tenth) must drain on a loaded machine; anything beyond is stuck.
SETTLE_BOUND = 120.0


def chaos_flow(markers: Path) -> str:
    marker = f"{markers}/{{{{ taskrun.id }}}}_{{{{ taskrun.attempt }}}}"
    return f"""
id: chaos
namespace: chaos
retry: {{type: constant, interval: 200ms, maxAttempts: 10}}
tasks:
  - {{id: start, type: return, value: "{{{{ execution.id }}}}"}}
  - id: fan
    type: parallel
    tasks:
      - id: flaky
        type: shell
        commands:
          - 'echo "attempt {{{{ taskrun.attempt }}}}"'
          - '[ {{{{ taskrun.attempt }}}} -gt 1 ] || exit 3'
      - {{id: side, type: return, value: side}}
  - id: each
    type: foreach
    values: [1, 2, 3]
    concurrencyLimit: 0
    tasks:
      - {{id: item, type: return, value: "{{{{ taskrun.value }}}}"}}
  - id: lines
    type: shell
    commands:
      - 'read up _ < /proc/uptime; echo "start $up" >> {marker}'
      - 'i=1; while [ $i -le {LINES} ]; do echo "line $i"; i=$((i+1)); done'
      - 'read up _ < /proc/uptime; echo "end $up" >> {marker}'
  - {{id: end, type: return, value: "{{{{ outputs.start.value }}}}"}}
"""


class PrivateRedis:
    """A redis-server of the test's own on a TCP port, with an append-only file, to kill and restart."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port, self.generation = folder, free_port(), 0
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    @property
    def data(self) -> Path:
        return self.folder / f"data{self.generation}"

    def start(self) -> None:
        self.data.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                redis_server_binary(),
                *("--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.data)),
                *("--appendonly", "yes", "--save", "", "--logfile", str(self.folder / "redis.log")),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        probe = redis.Redis.from_url(self.url, socket_timeout=1)
        deadline = time.monotonic() + 20
        while True:
            try:
                if probe.ping():
                    return
            except redis.RedisError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    log = (self.folder / "redis.log").read_text()
                    raise RuntimeError(f"private Redis did not start: {log}") from None
                time.sleep(0.05)

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def restart(self, *, empty: bool, down_for: float) -> None:
        self.kill()
        time.sleep(down_for)
        if empty:
            self.generation += 1  # a new folder: no append-only file, nothing comes back
        self.start()


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children[ppid].append(int(entry.name))
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending += children.get(pid, [])
    return found


def kill_tree(process: subprocess.Popen) -> None:
    """SIGKILL a process and every descendant (worker children run in sessions of their own)."""
    for pid in _descendants(process.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait(10)


def fault_plan(rng: random.Random) -> list[tuple[float, str]]:
    """(share of the task runs done, fault): faults come while work is under way, however fast the machine."""
    plan = [(rng.uniform(0.05, 0.9), "kill-workers") for _ in range(WORKER_KILLS)]
    plan += [(rng.uniform(0.05, 0.9), "kill-workers-as-they-start") for _ in range(WORKER_KILLS_AS_THEY_START)]
    plan.append((rng.uniform(0.1, 0.8), "kill-executor"))
    plan.append((rng.uniform(0.2, 0.35), "restart-redis-with-data"))
    plan.append((rng.uniform(0.45, 0.6), "restart-redis-empty"))
    return sorted(plan)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path / "redis")
    server.start()
    yield server
    server.kill()


def _wait_for(client: redis.Redis) -> None:
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            return
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _databases() -> list:
    """PostgreSQL where reachable, else SQLite: one run keeps the suite's time (LANNER_CHAOS_DATABASES=sqlite,postgres
    runs both)."""
    wanted = os.environ.get("LANNER_CHAOS_DATABASES")
    if wanted:
        names = [name.strip() for name in wanted.split(",")]
    else:
        admin = postgres_admin()
        names = ["postgres" if admin else "sqlite"]
        if admin:
            admin.dispose()
    return [pytest.param(name, marks=pytest.mark.postgres) if name == "postgres" else name for name in names]


@pytest.mark.timeout(600)
@pytest.mark.parametrize("database_url", _databases(), indirect=True)
def test_a_cluster_under_chaos_loses_nothing_and_runs_nothing_twice(database_url, private_redis, tmp_path: Path):
    rng = random.Random(SEED)
    home = tmp_path / "home"
    home.mkdir()
    markers = tmp_path / "markers"
    markers.mkdir()
    cluster = Cluster(home, database_url, private_redis.url)
    cluster.env.update(RECOVERY)
    faults: Counter[str] = Counter()
    figures: dict[str, object] = {"seed": SEED, "database": database_url.split(":", 1)[0]}
    try:
        namespace, flow_id = cluster.deploy(chaos_flow(markers))
        for name in ("executor-a", "executor-b"):
            cluster.start_executor(name)
        for name in ("workers-a", "workers-b"):
            cluster.start_workers(2, name)

        from engine.services import commands

        execution_ids = [commands.start_execution(cluster.conn, namespace, flow_id) for _ in range(EXECUTIONS)]
        began = last_fault = last_progress = time.monotonic()
        plan, done = fault_plan(rng), 0
        while plan and time.monotonic() - last_progress < SETTLE_BOUND:
            time.sleep(0.2)
            now_done = _runs_done(cluster)
            if now_done > done:
                done, last_progress = now_done, time.monotonic()
            if done < plan[0][0] * RUNS_PER_EXECUTION * EXECUTIONS:
                continue
            _, fault = plan.pop(0)
            if fault.startswith("kill-workers"):
                name = rng.choice(["workers-a", "workers-b"])
                kill_tree(cluster.processes.pop(name))
                time.sleep(rng.uniform(0.2, 1.5))
                pool = cluster.start_workers(2, name)
                if fault == "kill-workers-as-they-start":
                    _wait_until_registered(cluster, pool)
                    time.sleep(rng.uniform(0, 1.0))  # while a first job is between RQ and the database
                    kill_tree(cluster.processes.pop(name))
                    cluster.start_workers(2, name)
            elif fault == "kill-executor":
                name = rng.choice(["executor-a", "executor-b"])
                kill_tree(cluster.processes.pop(name))
                time.sleep(rng.uniform(0.5, 2.0))
                cluster.start_executor(name)
            else:
                private_redis.restart(empty=fault.endswith("empty"), down_for=rng.uniform(0.5, 1.5))
                _wait_for(cluster.redis)
            faults[fault] += 1
            last_fault = time.monotonic()
        figures["executions"] = len(execution_ids)
        figures["faults"] = dict(faults)
        figures["worker_pools_killed"] = faults["kill-workers"] + 2 * faults["kill-workers-as-they-start"]
        figures["faults_during_s"] = round(last_fault - began, 1)

        settled = _wait_until_settled(cluster, execution_ids, last_fault + SETTLE_BOUND)
        figures["settled_after_last_fault_s"] = round(settled - last_fault, 1) if settled else None
        report = _check(cluster, execution_ids, markers, figures)
        print(f"\nchaos figures: {report}")
        assert settled is not None, (
            f"not every execution ended within {SETTLE_BOUND:g}s of the last fault: {report['problems'][:15]}\n{report}"
        )
        problems = report.pop("problems")
        assert not problems, f"{len(problems)} problem(s), the first: {problems[:15]}\nfigures: {report}"
    finally:
        for process in cluster.processes.values():
            if process.poll() is None:
                kill_tree(process)
        cluster.db.dispose()


def _wait_until_registered(cluster: Cluster, pool: subprocess.Popen, timeout: float = 60) -> None:
    """Until a worker of ``pool`` has registered with RQ (it dequeues its first job next)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = set(_descendants(pool.pid))
        if any(worker.pid in pids for worker in Worker.all(connection=cluster.redis)):
            return
        time.sleep(0.02)


def _runs_done(cluster: Cluster) -> int:
    with Session(cluster.db) as session:
        return session.exec(select(func.count()).where(TaskRun.state == "SUCCESS")).one()


def _wait_until_settled(cluster: Cluster, execution_ids: list[str], deadline: float) -> float | None:
    """When every execution had ended, or None if some had not by ``deadline``."""
    terminal = [state.value for state in TERMINAL]
    while time.monotonic() < deadline:
        with Session(cluster.db) as session:
            open_ = session.exec(
                select(Execution.id).where(col(Execution.id).in_(execution_ids), col(Execution.state).not_in(terminal))
            ).all()
        if not open_:
            return time.monotonic()
        time.sleep(0.5)
    return None


def _check(cluster: Cluster, execution_ids: list[str], markers: Path, figures: dict) -> dict:
    """Every promise, checked from the database and the markers; figures and problems found."""
    problems: list[tuple[str, str]] = []
    with Session(cluster.db) as session:
        executions = session.exec(select(Execution).where(col(Execution.id).in_(execution_ids))).all()
        runs = session.exec(select(TaskRun).where(col(TaskRun.execution_id).in_(execution_ids))).all()
        attempts = session.exec(
            select(TaskRunAttempt).where(col(TaskRunAttempt.task_run_id).in_([run.id for run in runs]))
        ).all()
        lines = session.exec(
            select(LogLine.task_run_id, LogLine.attempt, LogLine.message)
            .where(col(LogLine.execution_id).in_(execution_ids), LogLine.task_id == "lines")
            .order_by(col(LogLine.id))
        ).all()
    states = Counter(execution.state for execution in executions)
    figures["execution_states"] = dict(states)
    figures["task_runs"], figures["attempts"] = len(runs), len(attempts)
    for execution in executions:
        if execution.state != "SUCCESS":
            problems.append((f"execution ended {execution.state}", execution.id))
    by_run: dict[str, list[TaskRunAttempt]] = defaultdict(list)
    for attempt in attempts:
        by_run[attempt.task_run_id].append(attempt)
    lost = 0
    for run in runs:
        tries = sorted(by_run[run.id], key=lambda a: a.attempt)
        lost += sum(map(_lost, tries))
        where = f"{run.execution_id}/{run.task_id}[{run.iteration}] run {run.id}"
        if run.state not in {s.value for s in TERMINAL}:
            problems.append((f"task run left {run.state}", where))
        if [a.state for a in tries].count("SUCCESS") > 1:
            problems.append(("succeeded twice", f"{where}: {[(a.attempt, a.state) for a in tries]}"))
        for before, after in itertools.pairwise(tries):
            if before.ended_at is None or after.started_at < before.ended_at:
                problems.append(("attempts overlapped", f"{where}: {after.attempt} started while {before.attempt} ran"))
        if run.kind == "worker" and run.state == "SUCCESS" and (not tries or tries[-1].state != "SUCCESS"):
            problems.append(("SUCCESS without a successful attempt", where))
        if run.task_id == "flaky" and tries and tries[0].state != "FAILED":
            problems.append(("first attempt of flaky did not fail", f"{where}: {tries[0].state}"))
    figures["attempts_lost_with_a_worker"] = lost
    figures.update(_check_side_effects_and_logs(runs, by_run, lines, markers, problems))
    figures["problem_kinds"] = dict(Counter(kind for kind, _ in problems))
    figures["problems"] = problems
    return figures


def _lost(attempt: TaskRunAttempt | None) -> bool:
    """An attempt failed by the executor because its worker vanished."""
    return attempt is not None and attempt.state == "FAILED" and "no heartbeat" in (attempt.error or "")


def _check_side_effects_and_logs(runs, by_run, lines, markers: Path, problems: list[tuple[str, str]]) -> dict:
    spans: dict[str, dict[int, tuple[float, float | None]]] = defaultdict(dict)
    for path in markers.iterdir():
        run_id, attempt = path.name.rsplit("_", 1)
        text = path.read_text()
        starts = re.findall(r"^start (\S+)$", text, re.M)
        ends = re.findall(r"^end (\S+)$", text, re.M)
        if not starts:
            continue  # killed between creating the file and writing to it
        if len(starts) != 1 or len(ends) > 1:
            problems.append(("a script ran twice in one attempt", f"run {run_id} attempt {attempt}: {text!r}"))
        spans[run_id][int(attempt)] = (float(starts[0]), float(ends[0]) if ends else None)
    logged: dict[tuple[str, int], list[str]] = defaultdict(list)
    for run_id, attempt, message in lines:
        if message.startswith("line "):
            logged[(run_id, attempt)].append(message)
    expected = [f"line {i}" for i in range(1, LINES + 1)]
    repeated = 0
    for run in (run for run in runs if run.task_id == "lines"):
        tries = {a.attempt: a for a in by_run[run.id]}
        mine = spans.get(run.id, {})
        finished = [n for n, (_, end) in mine.items() if end is not None]
        repeated += len(finished) > 1
        for attempt in finished:
            if tries.get(attempt) is None or (tries[attempt].state != "SUCCESS" and not _lost(tries[attempt])):
                problems.append(
                    ("side effect of an attempt neither successful nor lost", f"run {run.id}: {tries.get(attempt)}")
                )
        ordered = sorted((start, end, n) for n, (start, end) in mine.items())
        for (_, end, n), (start, _, m) in itertools.pairwise(ordered):
            killed_unfinished = end is None and _lost(tries.get(n))  # killed with its worker: no end
            if (end is None or start < end) and not killed_unfinished:
                problems.append(("scripts of two attempts overlapped", f"run {run.id}: {m} started while {n} ran"))
        if run.state == "SUCCESS":
            winner = run.attempt_count
            if winner not in finished:
                problems.append(("success without its side effect", f"run {run.id} attempt {winner}"))
            if logged.get((run.id, winner)) != expected:
                got = logged.get((run.id, winner), [])
                problems.append(
                    (
                        "log lines incomplete or repeated",
                        f"run {run.id} attempt {winner}: {len(got)} lines, {len(set(got))} distinct",
                    )
                )
    return {"side_effects_repeated_after_a_lost_attempt": repeated}
