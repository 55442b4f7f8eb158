"""Execution and task-run states, and which changes between them are allowed (as data, not ifs)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from engine.core.errors import Conflict


class State(StrEnum):
    CREATED = "CREATED"
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    RETRYING = "RETRYING"
    SUCCESS = "SUCCESS"
    WARNING = "WARNING"
    FAILED = "FAILED"
    KILLING = "KILLING"
    KILLED = "KILLED"
    CANCELLED = "CANCELLED"
    SKIPPED = "SKIPPED"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL

    @property
    def succeeded(self) -> bool:
        return self in (State.SUCCESS, State.WARNING, State.SKIPPED)


TERMINAL = frozenset({State.SUCCESS, State.WARNING, State.FAILED, State.KILLED, State.CANCELLED, State.SKIPPED})
#: An execution in these holds a slot of its flow's concurrency and of its namespace's limit of running executions.
ACTIVE = (State.RUNNING, State.PAUSED, State.KILLING)
_S = State

EXECUTION_TRANSITIONS: dict[State, frozenset[State]] = {
    _S.CREATED: frozenset({_S.RUNNING, _S.QUEUED, _S.CANCELLED, _S.FAILED, _S.KILLED}),
    # waiting for a concurrency slot; FAILED: an SLA with behavior fail breached while it waited (engine/core/sla.py)
    _S.QUEUED: frozenset({_S.RUNNING, _S.CANCELLED, _S.KILLED, _S.FAILED}),
    _S.RUNNING: frozenset({_S.PAUSED, _S.SUCCESS, _S.WARNING, _S.FAILED, _S.KILLING}),
    _S.PAUSED: frozenset({_S.RUNNING, _S.KILLING, _S.FAILED}),
    _S.KILLING: frozenset({_S.KILLED, _S.FAILED}),
    _S.FAILED: frozenset({_S.RUNNING}),  # restart
    _S.KILLED: frozenset({_S.RUNNING}),  # restart
    _S.SUCCESS: frozenset(),
    _S.WARNING: frozenset(),
    _S.CANCELLED: frozenset(),
}

# Where a person's kill takes an execution: one that has not started a task yet ends at once; one with
# tasks stops them first (KILLING), and the executor ends it once its workers report.
KILL_TARGET: dict[State, State] = {
    _S.CREATED: _S.KILLED,
    _S.QUEUED: _S.KILLED,  # waiting for a concurrency slot
    _S.RUNNING: _S.KILLING,
    _S.PAUSED: _S.KILLING,
    _S.KILLING: _S.KILLING,
}


class UserAction(StrEnum):
    """What a person (API, CLI, studio) asks of an execution; the executor's own changes go through ``progress``."""

    KILL = "kill"
    RESTART = "restart"
    PAUSE = "pause"
    RESUME = "resume"


# Pause and resume hold and release an execution (its ``held`` flag, and its PAUSED task runs): they do not set
# its state themselves, the executor moves a held RUNNING execution to PAUSED and a released one back.
_HOLDABLE = {state: state for state in (_S.CREATED, _S.QUEUED, _S.RUNNING, _S.PAUSED)}


@dataclass(frozen=True)
class UserActionRule:
    targets: Mapping[State, State]  # the state the action takes the execution to, from each state that allows it
    refusal: str  # the message for any other state: ``{execution}`` and ``{state}`` are filled in


USER_ACTIONS: Mapping[UserAction, UserActionRule] = MappingProxyType(
    {
        UserAction.KILL: UserActionRule(KILL_TARGET, "execution {execution} has already ended ({state})"),
        UserAction.RESTART: UserActionRule(
            {_S.FAILED: _S.RUNNING, _S.KILLED: _S.RUNNING},
            "only a FAILED or KILLED execution can be restarted (it is {state})",
        ),
        UserAction.PAUSE: UserActionRule(_HOLDABLE, "execution {execution} is {state}: it cannot be paused"),
        # KILLING too: a held execution being killed may still be released (it ends KILLED either way).
        UserAction.RESUME: UserActionRule(
            {**_HOLDABLE, _S.KILLING: _S.KILLING}, "execution {execution} is {state}: it cannot be resumed"
        ),
    }
)

TASK_RUN_TRANSITIONS: dict[State, frozenset[State]] = {
    _S.CREATED: frozenset({_S.QUEUED, _S.RUNNING, _S.SKIPPED, _S.PAUSED, _S.KILLED}),
    _S.QUEUED: frozenset({_S.RUNNING, _S.KILLED, _S.CANCELLED}),
    # QUEUED: handed back by a worker told to stop before its task ended (engine/runtime/handover.py)
    _S.RUNNING: frozenset({_S.SUCCESS, _S.WARNING, _S.FAILED, _S.KILLED, _S.KILLING, _S.QUEUED}),
    _S.KILLING: frozenset({_S.KILLED, _S.FAILED, _S.SUCCESS, _S.WARNING}),
    _S.PAUSED: frozenset({_S.SUCCESS, _S.KILLED, _S.FAILED}),
    _S.RETRYING: frozenset({_S.QUEUED, _S.KILLED}),
    _S.FAILED: frozenset({_S.RETRYING, _S.QUEUED, _S.RUNNING}),  # retry; restart (worker / flowable runs)
    _S.KILLED: frozenset({_S.QUEUED, _S.RUNNING}),  # restart
    _S.SUCCESS: frozenset(),
    _S.WARNING: frozenset(),
    _S.SKIPPED: frozenset(),
    _S.CANCELLED: frozenset({_S.QUEUED, _S.RUNNING}),  # restart (a run cancelled by a failure runs again)
}

#: Task-run states no transition leaves: a run in one never changes again (engine/services/snapshots.py keeps them).
SETTLED = frozenset(state for state, targets in TASK_RUN_TRANSITIONS.items() if not targets)


class InvalidTransition(Conflict):
    """A change of state the transition tables do not allow."""


class ActionRefused(InvalidTransition):
    """A person asked for a change the execution's state does not allow (kill an ended one, resume a running one)."""


def user_action_target(action: UserAction, current: State, execution_id: str) -> State:
    """The state ``action`` takes an execution in state ``current`` to; ``ActionRefused`` when it may not be taken.

    The target is also checked against ``EXECUTION_TRANSITIONS``, so the two tables cannot disagree silently.
    """
    rule = USER_ACTIONS[action]
    target = rule.targets.get(current)
    if target is None:
        raise ActionRefused(rule.refusal.format(execution=execution_id, state=current))
    check_transition(EXECUTION_TRANSITIONS, current, target, f"execution {execution_id}")
    return target


def check_transition(table: dict[State, frozenset[State]], current: State, target: State, what: str) -> None:
    if current != target and target not in table[current]:
        raise InvalidTransition(f"{what} cannot go from {current} to {target}")
