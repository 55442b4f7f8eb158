"""A flow's state machine (engine/core/progress.py) cranked by hand: a snapshot and a pretend worker, no I/O."""

from __future__ import annotations

import datetime as dt
import itertools

from engine.core.progress import ExecutionView, Snapshot, advance
from engine.core.states import State
from engine.flows.loader import load_flow_or_raise

T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


class Sim:
    """A snapshot plus a hand-cranked worker."""

    def __init__(self, yaml: str, inputs: dict | None = None, flow_running: int = 0) -> None:
        counter = itertools.count(1)
        self.flow = load_flow_or_raise(yaml)
        self.s = Snapshot(self.flow, ExecutionView("e1", State.CREATED, inputs=inputs or {}, created_at=T0), {}, T0,
                          flow_running=flow_running, new_id=lambda: f"r{next(counter)}")  # fmt: skip
        self.actions = advance(self.s)

    def run(self, task_id: str, iteration: int | None = None):
        matches = [r for r in self.s.runs.values() if r.task_id == task_id and r.iteration == iteration]
        assert len(matches) == 1, (task_id, matches)
        return matches[0]

    def states(self) -> dict[str, str]:
        return {
            (r.task_id if r.iteration is None else f"{r.task_id}[{r.iteration}]"): str(r.state)
            for r in self.s.runs.values()
        }

    def queued(self) -> list[str]:
        return sorted(r.task_id for r in self.s.runs.values() if r.state == State.QUEUED)

    def finish(self, task_id: str, state: State = State.SUCCESS, outputs: dict | None = None,
               iteration: int | None = None) -> None:  # fmt: skip
        run = self.run(task_id, iteration)
        run.state, run.attempts = State.RUNNING, run.attempts + 1
        run.state, run.outputs = state, outputs or {}
        self.actions = advance(self.s)

    def later(self, seconds: float) -> None:
        self.s.now = self.s.now + dt.timedelta(seconds=seconds)
        self.actions = advance(self.s)

    @property
    def state(self) -> State:
        return self.s.execution.state
