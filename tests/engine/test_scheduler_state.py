"""The scheduler's tick and a user asking for a backfill write the same trigger state row: neither may undo the
other's change. Real databases (SQLite, and PostgreSQL when reachable), real Redis, real threads."""

from __future__ import annotations

import datetime as dt
import threading

from engine.runtime import scheduler
from engine.runtime.connection import connect
from engine.services.flow_deploy import deploy_flow
from engine.store import triggers as trigger_store
from engine.store.database import session_scope

FLOW = """\
id: daily
namespace: sched
tasks:
  - {id: r, type: return, value: '{{ trigger.date }}'}
triggers:
  - {id: morning, type: schedule, cron: '0 6 * * *', timezone: Europe/Paris}
"""


def test_a_backfill_asked_for_during_a_tick_is_not_lost(database, redis_server, monkeypatch):
    with session_scope(database) as session:
        deploy_flow(session, FLOW)
    ticker = scheduler.Scheduler(database, connect(redis_server))
    ticker.tick()  # the trigger's state now exists
    inside, asked = threading.Event(), threading.Event()
    real_next_fire = scheduler.next_fire

    def slow_next_fire(*args, **kwargs):
        # the tick has read the state and not yet written it back: the backfill is asked for now
        inside.set()
        asked.wait(timeout=1.0)  # it cannot be saved before the tick commits: this waits the whole second
        return real_next_fire(*args, **kwargs)

    monkeypatch.setattr(scheduler, "next_fire", slow_next_fire)

    def ask_for_backfill() -> None:
        inside.wait(timeout=10)
        start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        scheduler.start_backfill(database, "sched", "daily", "morning", start, start + dt.timedelta(days=2))
        asked.set()

    user = threading.Thread(target=ask_for_backfill)
    user.start()
    during = ticker.tick(dt.datetime.now(dt.UTC))  # may already start the backfill's first slot
    user.join(timeout=30)
    assert inside.is_set() and not user.is_alive()
    with session_scope(database) as session:
        state = trigger_store.get_trigger_state(session, "sched", "daily", "morning")
        assert state.data.get("backfill", {}).get("total") == 2, state.data
    monkeypatch.setattr(scheduler, "next_fire", real_next_fire)
    after = ticker.tick()
    assert len(during + after) == 1  # the backfill's first slot (one at a time: the trigger allows no overlap)
