"""Executions list: filters, sorting and pages computed by the database, live running rows, bulk actions.

Only executions of namespaces the signed-in person may read are listed (filtered in SQL, at every search and
every live refresh); bulk actions check each execution again on the server."""

from typing import Any

import reflex as rx

from engine.identity import authz
from studio import display
from studio.services import access
from studio.services import executions as runs
from studio.session import SessionState

ALL = "all namespaces"
ANY_STATE = "any state"
COLUMNS = [("created", "Created"), ("flow", "Flow"), ("state", "State"), ("duration", "Duration")]


def execution_row(found: dict[str, Any]) -> dict[str, str]:
    """An execution of ``runs.search_executions`` (or the head of ``runs.detail_with_runs``) as its texts."""
    return {
        "id": found["id"],
        "short": found["id"][:8],
        "namespace": found["namespace"],
        "flow": found["flow"],
        "revision": str(found["revision"]),
        "state": found["state"],
        "created": display.when(found["created"]),
        "duration": display.elapsed(found["duration_ms"]),
        "trigger": found["trigger"],
        "labels": display.labels(found["labels"]),
        "running": display.yes(found["running"]),
    }


class ExecutionsState(SessionState):
    rows: list[dict[str, str]] = []
    total: int = 0
    namespaces: list[str] = [ALL]
    namespace: str = ALL
    flow_id: str = ""
    state: str = ANY_STATE
    labels: str = ""
    text: str = ""
    day_from: str = ""
    day_to: str = ""
    sort: str = "created"
    descending: bool = True
    page_number: int = 1
    size: int = 25
    picked: list[str] = []
    error: str = ""
    notice: str = ""
    may: dict[str, bool] = {}  # the bulk buttons shown: kill, restart, delete
    _refreshing: bool = False

    @rx.var
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @rx.var
    def states(self) -> list[str]:
        return [ANY_STATE, *runs.STATES]

    @rx.event
    def load(self):
        """Filters come from the query string, so a chart's bar can open the matching list."""
        query = self.router.page.params
        principal = self.principal()
        self.namespaces = [ALL, *access.reachable_namespaces(principal)]
        self.may = runs.bulk_actions(principal)
        self.namespace = query.get("namespace") or ALL
        self.flow_id = query.get("flow", "")
        self.state = query.get("state") or ANY_STATE
        self.day_from, self.day_to = query.get("from", ""), query.get("to", "")
        self.text, self.labels = query.get("q", ""), query.get("label", "")
        self.page_number, self.picked, self.notice = 1, [], ""
        return self._search()

    def _search(self):
        try:
            found, self.total = runs.search_executions(
                self.principal(),
                namespace="" if self.namespace == ALL else self.namespace,
                flow_id=self.flow_id.strip(),
                states=[] if self.state == ANY_STATE else [self.state],
                labels=self.labels,
                text=self.text,
                day_from=self.day_from,
                day_to=self.day_to,
                sort=self.sort,
                descending=self.descending,
                page=self.page_number,
                size=self.size,
            )
            self.rows = [execution_row(row) for row in found]
            self.error = ""
        except ValueError as exc:
            self.error = str(exc)
            return None
        if any(r["running"] for r in self.rows) and not self._refreshing:
            return ExecutionsState.refresh_running
        return None

    @rx.event(background=True)
    async def refresh_running(self):
        """While a shown row runs, the page follows it (when the process hears that an execution changed, at most
        once a second, and every few quiet seconds to ask who is watching), then stops."""
        from studio.live import list_changes  # one change feed per process, shared by every open list

        async with self:
            if self._refreshing:
                return
            self._refreshing = True
        try:
            async with list_changes(every=1.0) as changes:
                async for _ in changes:
                    async with self:
                        if self.router.page.path != "/executions" or not any(r["running"] for r in self.rows):
                            return
                        try:
                            self._search()  # asks who is watching again: rows of a namespace they lost drop out
                        except authz.Unauthenticated:
                            self.rows, self.total, self.picked = [], 0, []
                            return
        finally:
            async with self:
                self._refreshing = False

    @rx.event
    def set_filter(self, name: str, value: str):
        setattr(self, name, value)
        self.page_number, self.picked = 1, []
        return self._search()

    @rx.event
    def sort_by(self, column: str):
        self.descending = not self.descending if self.sort == column else column in ("created", "duration")
        self.sort = column
        return self._search()

    @rx.event
    def go_to(self, page_number: int):
        self.page_number = min(max(page_number, 1), self.pages)
        return self._search()

    @rx.event
    def toggle(self, execution_id: str, picked: bool) -> None:
        others = [i for i in self.picked if i != execution_id]
        self.picked = [*others, execution_id] if picked else others

    @rx.event
    def toggle_all(self, picked: bool) -> None:
        self.picked = [r["id"] for r in self.rows] if picked else []

    @rx.event
    def bulk(self, action: str):
        if not self.picked:
            self.notice = "select executions first"
            return None
        self.notice = runs.act(self.principal(), action, self.picked)
        self.picked = []
        return self._search()
