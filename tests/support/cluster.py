"""A real Lanner engine in separate processes (executor, workers, API...) on one database and one Redis."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

from sqlmodel import Session

from engine.core.states import State
from engine.runtime.connection import connect
from engine.services import commands
from engine.services.flow_deploy import deploy_flow
from engine.store import executions as store
from engine.store.database import open_database, session_scope
from tests.support.forks import ForkedProcess, start_lanner

HEARTBEAT = {"LANNER_HEARTBEAT_INTERVAL": "0.3", "LANNER_HEARTBEAT_TIMEOUT": "2"}


class Cluster:
    """Executor and worker processes on one database and one Redis database, with helpers for tests."""

    def __init__(self, home: Path, database_url: str, redis_url: str) -> None:
        self.home, self.database_url, self.redis_url = home, database_url, redis_url
        self.env = {
            **os.environ,
            "LANNER_HOME": str(home),
            "LANNER_DATABASE_URL": database_url,
            "LANNER_REDIS_URL": redis_url,
            **HEARTBEAT,
        }
        self.db = open_database(database_url)
        self.redis = connect(redis_url)
        self.redis.flushdb()
        self.conn = commands.Connections(self.db, self.redis)
        self.processes: dict[str, ForkedProcess | subprocess.Popen] = {}

    def start(self, name: str, *args: str) -> ForkedProcess | subprocess.Popen:
        log = open(self.home / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        process = start_lanner(list(args), self.env, stdout=log)
        self.processes[name] = process
        return process

    def start_executor(self, name: str = "executor") -> ForkedProcess | subprocess.Popen:
        return self.start(name, "executor")

    def start_workers(self, count: int = 2, name: str = "worker") -> ForkedProcess | subprocess.Popen:
        return self.start(name, "worker", "-n", str(count))

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        process = self.processes.pop(name)
        _signal_group(process, sig)
        process.wait(10)

    def stop(self, grace: float = 10.0) -> None:
        """Stop every process, even when one of them does not stop (it is killed, and the rest still stop).

        All are told to stop at once, then waited for, so their shutdowns overlap instead of adding up; with
        ``grace=0`` they are killed outright (a test's teardown: a worker pool's graceful stop takes seconds)."""
        stopping = list(self.processes.items())
        self.processes.clear()
        for _, process in stopping:
            _signal_group(process, signal.SIGTERM if grace > 0 else signal.SIGKILL)
        deadline = time.monotonic() + (grace if grace > 0 else 5.0)
        for _, process in stopping:
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(5)

    def deploy(self, yaml: str) -> tuple[str, str]:
        with session_scope(self.db) as session:
            result = deploy_flow(session, yaml)
        return result.namespace, result.flow_id

    def run(self, yaml: str, inputs: dict | None = None, **options) -> str:
        namespace, flow_id = self.deploy(yaml)
        return commands.start_execution(self.conn, namespace, flow_id, inputs=inputs or {}, **options)

    def execution(self, execution_id: str):
        with Session(self.db) as session:
            return store.get_execution(session, execution_id)

    def runs(self, execution_id: str) -> dict[str, object]:
        with Session(self.db) as session:
            return {
                (r.task_id if r.iteration is None else f"{r.task_id}[{r.iteration}]"): r
                for r in store.task_runs(session, execution_id)
            }

    def wait(self, execution_id: str, *states: State, timeout: float = 30.0):
        wanted = {s.value for s in states} if states else {s.value for s in State if s.terminal}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            execution = self.execution(execution_id)
            if execution.state in wanted:
                return execution
            time.sleep(0.05)
        logs = "\n".join(p.read_text()[-3000:] for p in self.home.glob("*.log"))
        raise AssertionError(f"execution stayed {execution.state}, runs {self.runs(execution_id)}\n{logs}")

    def wait_for_run(self, execution_id: str, task_id: str, state: State, timeout: float = 30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = self.runs(execution_id).get(task_id)
            if run is not None and run.state == state.value:
                return run
            time.sleep(0.05)
        raise AssertionError(f"task {task_id} never reached {state}: {self.runs(execution_id).get(task_id)}")

    def logs(self, execution_id: str) -> list:
        from engine.store.logs import read_logs

        with Session(self.db) as session:
            return read_logs(session, execution_id, limit=100_000)


def _signal_group(process: ForkedProcess | subprocess.Popen, sig: int) -> None:
    """Signal the process's group unless the process has ended and been reaped (a test's own kill may have done
    it): its pid, and so that group id, may already belong to another process, which would get the signal."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
