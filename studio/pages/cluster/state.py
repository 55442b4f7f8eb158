"""Cluster page: the executors, schedulers, workers and servers alive (from their heartbeats), the task runs each
worker holds, the queue waiting for workers, whether the database and Redis answer. For global administrators.

Heartbeats are not announced (nothing wakes the page when a process dies), so an open page reads the view again
every ``REFRESH_SECONDS`` while it is shown, and stops when its viewer leaves or loses the right to see it."""

import asyncio
import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import quote

import reflex as rx

from engine.identity import authz
from studio import display
from studio.services import cluster
from studio.services.cluster import ClusterView, HeldRun, ProcessView
from studio.session import SessionState

REFRESH_SECONDS = 1.0
ROUTE = "/cluster"
ANSWERS = "answers"


@dataclass
class RunLink:
    """A task run a worker holds: ``namespace/flow · task``, linking to its execution."""

    label: str
    href: str

    @classmethod
    def of(cls, run: HeldRun) -> "RunLink":
        return cls(f"{run.namespace}/{run.flow_id} · {run.task_id}", f"/executions/{quote(run.execution_id)}")


@dataclass
class ProcessRow:
    """A live process as the table shows it."""

    name: str
    kind: str
    host: str
    pid: str
    version: str
    state: str
    last_beat: str  # "0.4 s ago"
    started: str
    metrics_url: str
    runs: list[RunLink] = field(default_factory=list)

    @classmethod
    def of(cls, process: ProcessView, now: dt.datetime) -> "ProcessRow":
        age = max(int((now - process.last_beat).total_seconds() * 1000), 0)
        return cls(
            name=process.name,
            kind=process.kind,
            host=process.host,
            pid=str(process.pid),
            version=process.version,
            state=process.state,
            last_beat=f"{display.elapsed(age)} ago",
            started=display.when(process.started_at),
            metrics_url=process.metrics_url or "",
            runs=[RunLink.of(run) for run in process.task_runs],
        )


class ClusterState(SessionState):
    processes: list[ProcessRow] = []
    queue_depth: str = ""
    database: str = ""  # ANSWERS, or why not
    redis: str = ""
    metrics_url: str = ""
    heartbeat_timeout: str = ""
    refused: str = ""
    _following: bool = False

    @rx.event
    def load(self):
        try:
            self._show(cluster.cluster_view(self.principal()))
        except authz.Forbidden as exc:  # a notice on the page rather than a toast: the page has nothing else
            self._forget(str(exc))
            return None
        return ClusterState.follow

    def _show(self, view: ClusterView) -> None:
        now = dt.datetime.now(dt.UTC)
        self.processes = [ProcessRow.of(process, now) for process in view.processes]
        self.queue_depth = display.NONE if view.queue_depth is None else str(view.queue_depth)
        self.database = view.database_error or ANSWERS
        self.redis = view.redis_error or ANSWERS
        self.metrics_url = view.metrics_url
        self.heartbeat_timeout = display.elapsed(int(view.heartbeat_timeout * 1000))
        self.refused = ""

    def _forget(self, refusal: str) -> None:
        self.processes, self.queue_depth, self.database, self.redis, self.refused = [], "", "", "", refusal

    @rx.event(background=True)
    async def follow(self):
        """Read the view again every REFRESH_SECONDS while the page is shown; one such loop per tab at most."""
        async with self:
            if self._following:
                return
            self._following = True
        try:
            while True:
                await asyncio.sleep(REFRESH_SECONDS)
                async with self:
                    if self.router.page.path.rstrip("/") != ROUTE or self.refused:
                        return
                    try:
                        self._show(cluster.cluster_view(self.principal()))  # asks again who is watching
                    except (authz.Forbidden, authz.Unauthenticated) as exc:
                        self._forget(str(exc))
                        return
        finally:
            async with self:
                self._following = False
