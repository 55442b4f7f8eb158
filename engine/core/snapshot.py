"""The execution as the state machine (``engine.core.progress``) sees it, and the actions it takes on it.

A ``Snapshot`` is the execution, its flow and its task runs at one instant, with what its expressions may read;
the executor builds one from the store (``engine/services/snapshots.py``), tests build one by hand. Actions are
plain values: the state machine applies them to the snapshot, the executor writes them to the store.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from engine.core.states import State
from engine.flows.model import Flow


@dataclass
class RunView:
    id: str
    task_id: str
    state: State
    kind: str = "worker"  # "worker" runs on a worker; "executor" is decided here (flowables, pause, subflow)
    parent_id: str | None = None
    iteration: int | None = None
    value: Any = None
    attempts: int = 0
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    created_at: dt.datetime | None = None
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    next_attempt_at: dt.datetime | None = None
    retryable: bool = True  # False after a ConfigurationError: the retry policy does not apply
    worker_group: str | None = None  # the queue a worker run goes to, chosen when it is first written (None: default)
    # SECRET values among its outputs (a pause's onResume answers), decrypted on use, by output: ``outputs`` shows
    # ``****`` for them, expressions read the values, which are then masked in what is written
    secret_outputs: dict[str, Callable[[], dict[str, str]]] = field(default_factory=dict, repr=False, compare=False)


@dataclass
class ExecutionView:
    id: str
    state: State
    inputs: dict[str, Any] = field(default_factory=dict)
    labels: dict[str, Any] = field(default_factory=dict)
    trigger: dict[str, Any] | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    held: bool = False
    flow_revision: int = 1
    sla_breaches: list[dict[str, Any]] = field(default_factory=list)  # engine/core/sla.py; replaced, never mutated
    created_at: dt.datetime | None = None
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None


@dataclass
class Snapshot:
    flow: Flow
    execution: ExecutionView
    runs: dict[str, RunView]
    now: dt.datetime
    flow_running: int = 0  # other executions of this flow holding a concurrency slot
    # The namespace's max running executions (engine/workspace/resources.py) and how many others hold a slot of it
    namespace_limit: int | None = None
    namespace_running: int = 0
    # The worker group its new worker runs go to when neither their task nor the flow names one: its namespace's,
    # else the nearest namespace above's (engine/workspace/resources.py). Read on use, or with the runs read again.
    namespace_worker_group: Callable[[], str | None] = field(default=lambda: None, repr=False, compare=False)
    subflows: dict[str, tuple[State, dict[str, Any]]] = field(default_factory=dict)  # run id -> child result
    secret: Callable[[str], str] | None = None
    secret_inputs: Callable[[], dict[str, str]] | None = None  # the execution's SECRET inputs, decrypted on use
    kv: Callable[..., Any] | None = None  # kv('key'[, default]): the namespace's KV store, read on use
    variables: dict[str, Any] = field(default_factory=dict)  # the namespaces' variables (engine/workspace/variables.py)
    # The namespace lineage's task defaults, nearest first (engine/workspace/task_defaults.py): read by the worker.
    task_defaults: list[list[dict[str, Any]]] = field(default_factory=list)
    # A test of one task (engine/flows/single_task.py): the other tasks' outputs it is given, by task id; the
    # outputs of the execution's own runs come first.
    pinned_outputs: dict[str, Any] = field(default_factory=dict)
    subflow_reach: str = "root"  # LANNER_SUBFLOW_REACH: the namespaces this flow may start subflows in
    # Secret values the executor's own expressions resolved (outputs, conditions, subflow inputs): masked in
    # whatever it writes, as a worker masks what its task logs and returns.
    seen_secrets: set[str] = field(default_factory=set)
    # Control properties of runs (retry, allowFailure, concurrency...) as rendered for this advance, by (run id,
    # property): a computed one is rendered once per advance however often the passes read it.
    computed: dict[tuple[str, str], Any] = field(default_factory=dict)
    new_id: Callable[[], str] = field(default=lambda: str(uuid.uuid4()))
    # The runs by the task list they belong to: built on first use (``run_scopes``), kept up to date by
    # ``progress.apply``; whoever reads the snapshot may hand one over.
    scopes: Scopes | None = None
    # How many leading tasks of each task list have settled runs, and whether one of them is WARNING, by (parent run
    # id, iteration, first task id): settled runs never change, so a pass over the list starts after them. Kept
    # between the snapshots of one execution by whoever keeps its runs (engine/services/snapshots.py).
    settled_prefixes: dict[tuple[str | None, int | None, str], tuple[int, bool]] = field(default_factory=dict)
    runs_generation: int = 0  # the execution's, when its runs were read (engine/store/tables.py)
    runs_created: int = 0  # the execution's count of runs created, read before its runs (engine/store/tables.py)
    settled_outputs: SettledOutputs | None = None  # set when the runs were read from what an earlier snapshot kept


@dataclass
class SettledOutputs:
    """The outputs of the settled runs that alone are their task's, kept between the snapshots of one execution
    (engine/services/snapshots.py): they never change, so expressions' ``outputs`` (and ``error``) start from a copy
    of them and walk only ``others``, not every run."""

    outputs: dict[str, Any]  # task id -> the outputs of its one settled run
    runs: dict[str, RunView]  # task id -> that run
    others: list[RunView]  # every other run of the snapshot (``progress.apply`` adds those it creates)


def changing_runs(snapshot: Snapshot) -> Iterable[RunView]:
    """Every run of the snapshot that may not have settled (and maybe some that have): all of them, unless its runs
    were read from what an earlier snapshot kept, whose settled ones alone of their task are left out."""
    kept = snapshot.settled_outputs
    return kept.others if kept is not None else snapshot.runs.values()


def run_scopes(snapshot: Snapshot) -> Scopes:
    """The snapshot's runs by the task list they belong to (built once, then kept up to date by ``apply``)."""
    if snapshot.scopes is None:
        scopes = Scopes()
        for run in snapshot.runs.values():
            scopes.add(run)
        snapshot.scopes = scopes
    return snapshot.scopes


class Scopes(dict[tuple[str | None, int | None], dict[str, RunView]]):
    """The runs by the task list they belong to: (parent run id, iteration) -> task id -> run. Only read, but by
    ``add``. What a process keeps between the snapshots of an execution (engine/services/snapshots.py) hands its
    ``Scopes`` to the next snapshot, which changes it in place: no task list is copied on a read."""

    def add(self, run: RunView) -> None:
        """``run`` in its task list (a later run of the same task in the same list replaces an earlier one)."""
        self.setdefault((run.parent_id, run.iteration), {})[run.task_id] = run


# --- actions ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SetExecution:
    state: State
    changes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CreateRun:
    run: RunView


@dataclass(frozen=True)
class UpdateRun:
    run_id: str
    state: State | None = None
    changes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StartSubflow:
    run_id: str
    execution_id: str
    namespace: str
    flow_id: str
    inputs: dict[str, Any]  # masked, as the child's stored inputs will show them
    labels: dict[str, Any]
    given_inputs: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)  # what the child gets


@dataclass(frozen=True)
class RecordBreach:
    """An SLA of the flow is breached (engine/core/sla.py): recorded on the execution, its labels added to it."""

    breach: dict[str, Any]  # id, slaId, type, behavior, labels, at, reason


Action = SetExecution | CreateRun | UpdateRun | StartSubflow | RecordBreach
