"""What access control costs: resolving who calls, and the SQL visibility filter on large lists, printing JSON.

Seeds 200 namespaces (``team<n>.sub<m>``), 100,000 executions spread over them and one person with viewer
grants on 3 top-level namespaces, into a fresh SQLite file, then times (best of 5):
- ``principal_from`` for a bearer token and for a session cookie (one indexed lookup + memberships);
- an executions page (newest 25 and the total count) for a global administrator (no filter) and for the
  person (``authz.readable`` inside the SQL), and the executions-per-day chart the same two ways.

Run: .venv/bin/python bench/access.py [--executions N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import insert
from sqlmodel import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.identity import authz, tokens, users  # noqa: E402
from engine.identity import sessions as login_sessions  # noqa: E402
from engine.identity.policy import Role  # noqa: E402
from engine.store import search, stats  # noqa: E402
from engine.store.database import open_database, session_scope  # noqa: E402
from engine.store.tables import Execution, Namespace  # noqa: E402

NAMESPACES = [f"team{t}.sub{s}" for t in range(20) for s in range(10)]


def best(call, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return round(min(times) * 1000, 2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--executions", type=int, default=100_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="lanner-access-bench-"))
    try:
        engine = open_database(f"sqlite:///{folder / 'bench.db'}")
        rng = random.Random(7)
        now = dt.datetime.now(dt.UTC)
        with session_scope(engine) as session:
            session.add_all(Namespace(name=name) for name in {*NAMESPACES, *(n.split(".")[0] for n in NAMESPACES)})
            person = users.create_user(session, "vera", "a long enough password", actor="bench")
            for team in ("team1", "team7", "team13"):
                users.grant(session, person, team, Role.VIEWER, actor="bench")
            _, token = tokens.create_token(session, person, "bench", actor="bench")
            _, cookie = login_sessions.open_session(session, person)
        rows = [
            {
                "id": str(uuid.uuid4()),
                "namespace": rng.choice(NAMESPACES),
                "flow_id": f"flow{rng.randrange(5)}",
                "flow_revision": 1,
                "state": "SUCCESS",
                "inputs": {},
                "outputs": {},
                "labels": {},
                "trigger": {},
                "created_at": now - dt.timedelta(seconds=rng.randrange(30 * 86400)),
            }
            for _ in range(args.executions)
        ]
        with Session(engine) as session:
            for start in range(0, len(rows), 10_000):
                session.execute(insert(Execution), rows[start : start + 10_000])
            session.commit()
        with Session(engine) as session:
            vera = authz.principal_from(session, bearer=token)
            since, until = now - dt.timedelta(days=30), now + dt.timedelta(seconds=1)

            def page(principal):
                wanted = search.ExecutionFilter(where=authz.readable(principal, Execution.namespace))
                return search.search_executions(session, wanted, page=1, size=25)

            def chart(principal):
                return stats.executions_per_day(
                    session, since, until, where=authz.readable(principal, Execution.namespace)
                )

            visible = page(vera)[1]
            figures = {
                "executions": args.executions,
                "namespaces": len(NAMESPACES),
                "visible_to_the_viewer": visible,
                "principal_from_bearer_ms": best(lambda: authz.principal_from(session, bearer=token)),
                "principal_from_cookie_ms": best(lambda: authz.principal_from(session, cookie=cookie)),
                "executions_page_admin_ms": best(lambda: page(authz.LOCAL)),
                "executions_page_viewer_ms": best(lambda: page(vera)),
                "executions_per_day_admin_ms": best(lambda: chart(authz.LOCAL)),
                "executions_per_day_viewer_ms": best(lambda: chart(vera)),
            }
        print(json.dumps(figures, indent=2))
        engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
