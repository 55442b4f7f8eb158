"""Fair sharing of the workers between namespaces: each namespace has at most a bounded number of task runs in
flight (queued for a worker or running); the rest wait, held back in the database, for one of its slots to free.

The bound of a namespace is LANNER_NAMESPACE_TASK_RUNS_IN_FLIGHT (32), or its own max running task runs when
lower (engine/workspace/resources.py). Workers take jobs from a queue in order, so a run of another namespace
waits behind at most the bound of each busy namespace, not behind everything one namespace enqueued.

The executor takes turns between namespaces too: it advances the executions named in the events it read one of
each namespace in turn, for at most ``TURN_SECONDS``; the others wait their turn with the next batch's events (theirs
stay pending, unacknowledged, until they are advanced), so one namespace starting 1,000 executions does not hold back
the start of another's.

The database is the source of truth. The executor decides in the same transaction as the advance that queued the
runs: runs past the bound go back to CREATED before any job exists (``hold``), and when a namespace has room again
its runs held longest are queued (``release``); their jobs are sent after the commit. A crash between the commit
and the sending leaves QUEUED runs without a job, which the executor's recovery sweep already re-enqueues; held
runs are released by whichever executor next advances an execution of their namespace, or by the sweep.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from itertools import zip_longest

from sqlmodel import Session

from engine.config import load_settings
from engine.runtime.queue import Run
from engine.store import namespace_settings as store

TURN_SECONDS = 0.5  # executions are advanced round by round for this long; the rounds left wait for the next batch


@dataclass
class Admitted:
    enqueue: list[Run]  # the runs to send to their queues after the commit
    released: set[str] = field(default_factory=set)  # executions whose held runs were queued now
    holding: bool = False  # the namespace may still hold runs back


def bound(own: int | None) -> int:
    """How many task runs a namespace may have in flight, ``own``: the most it sets for itself (None: none)."""
    shared = load_settings().namespace_task_runs_in_flight
    return min(own, shared) if own else shared


def admit(session: Session, namespace: str, queued: list[Run], *, holding: bool = True) -> Admitted:
    """Within the caller's transaction, after ``queued`` (runs of the namespace just set QUEUED) were written: hold
    those past the namespace's bound, or fill its free slots with the runs it holds. Serialised per namespace.

    ``holding`` False: the caller knows the namespace held no run when it last looked (the executor's sweep looks
    every second), so there is none to release and the query looking for them is spared."""
    store.lock_namespace(session, namespace, wrote=bool(queued))  # setting them QUEUED was a write
    in_flight, own = store.task_runs_in_flight(session, namespace)
    limit = bound(own)
    if in_flight > limit:
        keep = max(len(queued) - (in_flight - limit), 0)
        if keep < len(queued):
            store.hold_runs(session, [run_id for run_id, _, _ in queued[keep:]])
        return Admitted(queued[:keep], holding=True)
    if in_flight == limit:
        return Admitted(queued, holding=True)
    if not holding:
        return Admitted(queued)
    room = limit - in_flight
    released = store.release_held(session, namespace, room)
    return Admitted(
        queued + [(run_id, attempt, group) for run_id, _, attempt, group in released],
        released={execution_id for _, execution_id, _, _ in released},
        holding=len(released) == room,
    )


def take_turns(session: Session, execution_ids: list[str]) -> list[list[str]]:
    """The executions named in the events read in rounds, each round one execution of each namespace still having
    some: the executor advances round after round for at most ``TURN_SECONDS``; the rounds left wait for the next."""
    if len(execution_ids) < 2:
        return [execution_ids]
    namespaces = store.namespaces_of(session, execution_ids)
    by_namespace: dict[str | None, list[str]] = defaultdict(list)
    for execution_id in execution_ids:
        by_namespace[namespaces.get(execution_id)].append(execution_id)
    return [[e for e in turn if e is not None] for turn in zip_longest(*by_namespace.values())]
