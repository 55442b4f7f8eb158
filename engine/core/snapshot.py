"""The execution as the state machine (``engine.core.progress``) sees it, and the actions it takes on it.

A ``Snapshot`` is the execution, its flow and its task runs at one instant, with what its expressions may read;
the executor builds one from the store (``engine/services/snapshots.py``), tests build one by hand. Actions are
plain values: the state machine applies them to the snapshot, the executor writes them to the store.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
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
