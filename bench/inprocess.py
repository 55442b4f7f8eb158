"""The executor's advance and the worker's attempts in one thread, without Redis round trips to other processes:
CPU per execution of W1 (40 chained tasks), W2 (100 parallel tasks) and W4 (a foreach over 100) of bench/engine.py,
spent in Executor.advance and in run_attempt (thread CPU time, steadier than wall time on a busy machine).

It runs the code of the current directory (imports follow the working directory), in the layout of issue 13 or
the one before, so one checkout can be compared with another: cd to each and run this file with one venv.
--profile OUT writes cProfile stats of the advances (OUT.advance) and of the attempts (OUT.worker).
GCOFF=1 disables the garbage collector after start-up; ONLY=w1 runs one workload (ONLY=w1,w2 by default, w4 too
on request); DATABASE_URL=... another database than a new SQLite file (an empty PostgreSQL database, say).
Statements sent to the database are counted too.

Run: cd CHECKOUT && PYTHON bench/inprocess.py [--repeat 3] [--profile OUT] [--w1-tasks 40]
"""

# ruff: noqa: E402 - the environment is set before the engine is imported

import argparse
import cProfile
import gc
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.getcwd())
home = Path(tempfile.mkdtemp(prefix="lanner-inproc-"))
os.environ["LANNER_HOME"] = str(home)
os.environ["LANNER_DATABASE_URL"] = os.environ.get("DATABASE_URL") or f"sqlite:///{home / 'lanner.db'}"
os.environ["LANNER_REDIS_URL"] = f"unix://{home}/redis/redis.sock?db=0"
try:
    from engine.runtime import events
    from engine.runtime.connection import connect, embedded_redis
    from engine.runtime.executor import Executor
    from engine.runtime.worker import run_attempt
    from engine.services import commands
    from engine.services.flow_deploy import deploy_flow

    NEW = True
except ImportError:
    from engine.connection import connect, embedded_redis
    from engine.executor import Executor
    from engine.worker import run_attempt

    from engine import commands, events
    from engine.store.flows import deploy_flow

    NEW = False
import sqlalchemy
from rq.job import Job

import engine
from engine.store.database import open_database, session_scope
from engine.store.tables import Execution

p = argparse.ArgumentParser()
p.add_argument("--profile")
p.add_argument("--repeat", type=int, default=3)
p.add_argument("--w1-tasks", type=int, default=40, help="tasks of W1 (the cost per task should not grow with it)")
args = p.parse_args()
W1 = "id: w1\nnamespace: bench\ntasks:\n  - {id: t0, type: return, value: 1}\n" + "".join(
    f"  - {{id: t{i}, type: return, value: '{{{{ outputs.t{i - 1}.value + 1 }}}}'}}\n" for i in range(1, args.w1_tasks)
)
W2 = (
    "id: w2\nnamespace: bench\ntasks:\n  - id: fan\n    type: parallel\n    tasks:\n"
    + "".join(f"      - {{id: p{i}, type: return, value: {i}}}\n" for i in range(100))
    + "  - {id: join, type: return, value: joined}\n"
)
W4 = (  # bench/engine.py's: a foreach over 100 values, every iteration in flight at once
    "id: w4\nnamespace: bench\ntasks:\n  - id: each\n    type: foreach\n"
    f"    values: {list(range(100))}\n    concurrencyLimit: 0\n"
    "    tasks:\n      - {id: r, type: return, value: '{{ taskrun.value }}'}\n"
)
with embedded_redis(home) as redis_url:
    assert os.environ["LANNER_REDIS_URL"] == redis_url, redis_url
    db = open_database(os.environ["LANNER_DATABASE_URL"])
    r = connect(redis_url)
    conn = commands.Connections(db, r)
    events.ensure_group(r)
    ex = Executor(db, r)
    statements = {"advance": 0, "worker": 0, "other": 0}
    phase = ["other"]

    def count_statement(*_args) -> None:
        statements[phase[0]] += 1

    # on every engine: the worker opens its own
    sqlalchemy.event.listen(sqlalchemy.engine.Engine, "before_cursor_execute", count_statement)
    adv_time = [0.0]
    adv_n = [0]
    work_time = [0.0]
    adv_cpu = [0.0]
    work_cpu = [0.0]
    together = hasattr(ex, "advance_together")  # since round 4 the loop advances executions in batches
    orig = ex.advance_together if together else ex.advance
    prof = cProfile.Profile() if args.profile else None
    wprof = cProfile.Profile()

    def timed(ids, **options):
        t = time.perf_counter()
        c = time.thread_time()
        if prof:
            prof.enable()
        phase[0] = "advance"
        try:
            return orig(ids, **options)
        finally:
            phase[0] = "other"
            if prof:
                prof.disable()
            adv_time[0] += time.perf_counter() - t
            adv_n[0] += len(ids) if together else 1
            adv_cpu[0] += time.thread_time() - c

    if together:
        ex.advance_together = timed
    else:
        ex.advance = timed

    def run(yaml):
        with session_scope(db) as s:
            res = deploy_flow(s, yaml)
        eid = commands.start_execution(conn, res.namespace, res.flow_id)
        while True:
            ex.process(block_ms=1)
            while jid := r.lpop("rq:queue:lanner-tasks"):
                job = Job.fetch(jid.decode(), connection=r)
                sys.modules[run_attempt.__module__].get_current_job = lambda job=job: job
                t = time.perf_counter()
                c = time.thread_time()
                if prof:
                    wprof.enable()
                phase[0] = "worker"
                run_attempt(*job.args)
                phase[0] = "other"
                if prof:
                    wprof.disable()
                work_time[0] += time.perf_counter() - t
                work_cpu[0] += time.thread_time() - c
                job.delete()
            with session_scope(db) as s:
                if s.get(Execution, eid).state in ("SUCCESS", "FAILED", "WARNING", "KILLED"):
                    assert s.get(Execution, eid).state == "SUCCESS", s.get(Execution, eid).error
                    return

    gcs = {"t": 0.0, "n": [0, 0, 0], "start": 0.0}

    def _cb(phase, info):
        if phase == "start":
            gcs["start"] = time.perf_counter()
        else:
            gcs["t"] += time.perf_counter() - gcs["start"]
            gcs["n"][info["generation"]] += 1

    gc.callbacks.append(_cb)
    print("objects after start-up", len(gc.get_objects()), "modules", len(sys.modules), file=sys.stderr)
    if os.environ.get("GCOFF"):
        gc.collect()
        gc.disable()
    if os.environ.get("GCFREEZE"):
        gc.collect()
        gc.freeze()
    out = {"code": os.path.dirname(engine.__file__), "new_layout": NEW}
    for name, y in [(n, y) for n, y in (("w1", W1), ("w2", W2), ("w4", W4)) if n in os.environ.get("ONLY", "w1,w2")]:
        run(y)  # warm
        if prof:  # the measured runs alone (calling __init__ again does not clear a profile)
            prof, wprof = cProfile.Profile(), cProfile.Profile()
        adv_time[0] = work_time[0] = adv_cpu[0] = work_cpu[0] = 0.0
        adv_n[0] = 0
        statements.update(advance=0, worker=0)
        t = time.process_time()
        gcs["t"] = 0.0
        gcs["n"] = [0, 0, 0]
        for _ in range(args.repeat):
            run(y)
        print(name, "gc ms per exec", round(gcs["t"] * 1000 / args.repeat, 1), "collections", gcs["n"], file=sys.stderr)
        out[name] = {
            "advance_ms_per_exec": round(adv_time[0] * 1000 / args.repeat, 1),
            "advances": adv_n[0] // args.repeat,
            "ms_per_advance": round(adv_time[0] * 1000 / max(adv_n[0], 1), 2),
            "advance_cpu_ms_per_exec": round(adv_cpu[0] * 1000 / args.repeat, 1),
            "worker_cpu_ms_per_exec": round(work_cpu[0] * 1000 / args.repeat, 1),
            "worker_ms_per_exec": round(work_time[0] * 1000 / args.repeat, 1),
            "cpu_s_per_exec": round((time.process_time() - t) / args.repeat, 3),
            "statements_per_advance": round(statements["advance"] / max(adv_n[0], 1), 1),
            "statements_per_attempt": round(
                statements["worker"] / args.repeat / {"w1": args.w1_tasks, "w2": 101, "w4": 100}[name], 1
            ),
        }
    print(out)
    if prof:
        prof.dump_stats(args.profile + ".advance")
        wprof.dump_stats(args.profile + ".worker")
