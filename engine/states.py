"""Execution and task-run states, and which changes between them are allowed (as data, not ifs)."""

from __future__ import annotations

from enum import StrEnum


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
_S = State

EXECUTION_TRANSITIONS: dict[State, frozenset[State]] = {
    _S.CREATED: frozenset({_S.RUNNING, _S.QUEUED, _S.CANCELLED, _S.FAILED, _S.KILLED}),
    _S.QUEUED: frozenset({_S.RUNNING, _S.CANCELLED, _S.KILLED}),  # waiting for a concurrency slot
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

TASK_RUN_TRANSITIONS: dict[State, frozenset[State]] = {
    _S.CREATED: frozenset({_S.QUEUED, _S.RUNNING, _S.SKIPPED, _S.PAUSED, _S.KILLED}),
    _S.QUEUED: frozenset({_S.RUNNING, _S.KILLED, _S.CANCELLED}),
    _S.RUNNING: frozenset({_S.SUCCESS, _S.WARNING, _S.FAILED, _S.KILLED, _S.KILLING}),
    _S.KILLING: frozenset({_S.KILLED, _S.FAILED, _S.SUCCESS, _S.WARNING}),
    _S.PAUSED: frozenset({_S.SUCCESS, _S.KILLED, _S.FAILED}),
    _S.RETRYING: frozenset({_S.QUEUED, _S.KILLED}),
    _S.FAILED: frozenset({_S.RETRYING, _S.QUEUED, _S.RUNNING}),  # retry; restart (worker / flowable runs)
    _S.KILLED: frozenset({_S.QUEUED, _S.RUNNING}),  # restart
    _S.SUCCESS: frozenset(),
    _S.WARNING: frozenset(),
    _S.SKIPPED: frozenset(),
    _S.CANCELLED: frozenset(),
}


class InvalidTransition(ValueError):
    pass


def check_transition(table: dict[State, frozenset[State]], current: State, target: State, what: str) -> None:
    if current != target and target not in table[current]:
        raise InvalidTransition(f"{what} cannot go from {current} to {target}")
