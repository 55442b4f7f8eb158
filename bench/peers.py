"""W1-W3 side by side: Lanner, Prefect (served and inline) and Airflow on this machine, one protocol for all.

The protocol is the one of ``bench/engine.py --protocol api``: each run is triggered through the system's REST API
and polled every 5 ms (the first run not seen finished) until seen finished; a run's time is the client's wall
clock from its trigger call to the answer that shows it ended. W1 and W2: one warm-up, then the median of
``--repeat``. W3: 50 runs triggered by 8 callers at a time, runs/s from the first call to the last run seen
finished. Lanner's figures come from ``bench/engine.py --only w1,w2,w3`` (SQLite, embedded Redis, 2 workers).

- Prefect: ``prefect server`` (its SQLite) and one ``serve`` process holding the three flows as deployments, polling
  for runs every second (``PREFECT_RUNNER_POLL_FREQUENCY=1``, its minimum; the default is 10 s). Calls answered 503
  (its SQLite busy) are sent again after 10 ms, as Prefect's own client does. "Inline" calls the flow function in
  one process, recorded by the same server: the wall clock of the call (W1 and W2).
- Airflow: ``api-server``, ``scheduler`` (LocalExecutor, its default parallelism) and ``dag-processor``, on a
  throwaway PostgreSQL database made with ``--postgres ADMIN_URL`` (the machine's by default), as its docs advise:
  on its SQLite, W3's burst of triggers fails (500, "database is locked"). ``--postgres ''`` runs it on SQLite.

Each peer runs from its own virtualenv under ``.peers/`` (``make peers``); a peer not installed is skipped. The flows
are ``bench/peers/prefect_flows.py`` and ``bench/peers/airflow_dags/lanner_bench.py``.

Run: .venv/bin/python bench/peers.py [--peers lanner,prefect,airflow] [--repeat 3] [--postgres ADMIN_URL]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import sqlalchemy

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT / ".peers"
HERE = Path(__file__).resolve().parent / "peers"
W3_RUNS, CALLERS, POLL_S = 50, 8, 0.005


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Peer:
    """A running system: ``trigger(workload)`` gives a run id, ``ended(run)`` None while it runs, else success."""

    name = ""
    processes: list[subprocess.Popen]

    def spawn(self, home: Path, log: str, *command: str, env: dict[str, str]) -> None:
        with open(home / f"{log}.log", "w") as out:
            started = subprocess.Popen(
                command, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.processes.append(started)

    def stop(self) -> None:
        for process in self.processes:  # each with its children (Airflow's executor, Prefect's flow runs)
            with_group(process, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                with_group(process, signal.SIGKILL)

    def call(self, method: str, url: str, **kwargs) -> dict:
        """One API call, sent again after 10 ms on a busy answer or a dropped connection (as Prefect's client does:
        under W3's burst its server answers 503 and resets connections)."""
        for _ in range(500):
            try:
                answer = self.client.request(method, url, **kwargs)
            except (httpx.ReadError, httpx.RemoteProtocolError):
                time.sleep(0.01)
                continue
            if answer.status_code not in (429, 503):
                answer.raise_for_status()
                return answer.json()
            time.sleep(0.01)
        raise RuntimeError(f"{self.name}: {method} {url} still busy")

    def wait_until(self, ready, what: str, seconds: float = 180) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                if ready():
                    return
            except httpx.HTTPError:
                pass
            if any(p.poll() is not None for p in self.processes):
                raise RuntimeError(f"{self.name} stopped while starting: see {self.home}")
            time.sleep(0.5)
        raise TimeoutError(f"{self.name}: {what} not ready after {seconds:g} s (logs in {self.home})")


def with_group(process: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


class Prefect(Peer):
    name = "prefect"
    python = PEERS / "prefect" / "bin" / "python"

    def __init__(self, home: Path) -> None:
        self.home, self.processes, port = home, [], free_port()
        self.env = {"PREFECT_HOME": str(home), "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
                    "PREFECT_RUNNER_POLL_FREQUENCY": "1"}  # fmt: skip
        self.client = httpx.Client(base_url=self.env["PREFECT_API_URL"], timeout=60)
        prefect = str(self.python.parent / "prefect")
        self.spawn(home, "server", prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port), env=self.env)
        self.wait_until(lambda: self.client.get("/health").status_code == 200, "the server")
        self.spawn(home, "serve", str(self.python), str(HERE / "prefect_flows.py"), "serve", env=self.env)
        self.deployments: dict[str, str] = {}

        def deployed() -> bool:
            self.deployments = {d["name"]: d["id"] for d in self.call("POST", "/deployments/filter", json={})}
            return len(self.deployments) == 3

        self.wait_until(deployed, "the served flows")

    def trigger(self, workload: str) -> str:
        return self.call("POST", f"/deployments/{self.deployments[workload]}/create_flow_run", json={})["id"]

    def ended(self, run: str) -> bool | None:
        kind = self.call("GET", f"/flow_runs/{run}")["state"]["type"]
        return {"COMPLETED": True, "FAILED": False, "CRASHED": False, "CANCELLED": False}.get(kind)

    def inline(self, workload: str, repeat: int) -> dict:
        """The flow function called in one process (recorded by the server), once to warm up, then ``repeat``."""
        command = [str(self.python), str(HERE / "prefect_flows.py"), "inline", workload, str(repeat)]
        times = json.loads(subprocess.run(command, env={**os.environ, **self.env}, capture_output=True, text=True,
                                          check=True).stdout.strip().splitlines()[-1])  # fmt: skip
        return {"median_s": round(statistics.median(times), 3), "best_s": round(min(times), 3), "runs": repeat}


class Airflow(Peer):
    name = "airflow"
    python = PEERS / "airflow" / "bin" / "python"

    def __init__(self, home: Path, database_url: str | None = None) -> None:
        self.home, self.processes, port = home, [], free_port()
        database = {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database_url} if database_url else {}
        self.env = {**database, "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__DAGS_FOLDER": str(HERE / "airflow_dags"),
                    "AIRFLOW__CORE__EXECUTOR": "LocalExecutor", "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",  # no login: the API as admin
                    "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/"}  # fmt: skip
        airflow = str(self.python.parent / "airflow")
        subprocess.run([airflow, "db", "migrate"], env={**os.environ, **self.env}, capture_output=True, check=True)
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v2", timeout=60)
        self.spawn(home, "api-server", airflow, "api-server", "--port", str(port), env=self.env)
        self.spawn(home, "scheduler", airflow, "scheduler", env=self.env)
        self.spawn(home, "dag-processor", airflow, "dag-processor", env=self.env)
        parsed = lambda: {d["dag_id"] for d in self.call("GET", "/dags")["dags"]} >= {"w1", "w2", "w3"}  # noqa: E731
        self.wait_until(parsed, "the DAGs")
        self.dags: dict[str, str] = {}

    def trigger(self, workload: str) -> str:
        run = self.call("POST", f"/dags/{workload}/dagRuns", json={"logical_date": None})["dag_run_id"]
        self.dags[run] = workload
        return run

    def ended(self, run: str) -> bool | None:
        state = self.call("GET", f"/dags/{self.dags[run]}/dagRuns/{run}")["state"]
        return {"success": True, "failed": False}.get(state)


def finished(peer: Peer, sent: dict[str, float], started: float) -> tuple[dict[str, float], float]:
    """Each run's time from its trigger call to the answer showing it ended, and the span from ``started``."""
    ended: dict[str, float] = {}
    deadline = time.monotonic() + 1800
    while len(ended) < len(sent) and time.monotonic() < deadline:
        for run in sent:
            if run in ended:
                continue
            outcome = peer.ended(run)
            if outcome is None:
                break  # the first not finished: poll it again (the others end later, or are seen in one pass)
            if not outcome:
                raise RuntimeError(f"{peer.name}: run {run} failed (logs in {peer.home})")
            ended[run] = time.perf_counter()
        if len(ended) < len(sent):
            time.sleep(POLL_S)
    if len(ended) < len(sent):
        raise TimeoutError(f"{peer.name}: runs did not finish")
    return {run: ended[run] - sent[run] for run in sent}, max(ended.values()) - started


def sent_now(peer: Peer, workload: str) -> tuple[str, float]:
    sent = time.perf_counter()
    return peer.trigger(workload), sent


def timed(peer: Peer, workload: str) -> float:
    run, sent = sent_now(peer, workload)
    took, _ = finished(peer, {run: sent}, sent)
    return took[run]


def single(peer: Peer, workload: str, repeat: int) -> dict:
    timed(peer, workload)  # warm-up
    times = [timed(peer, workload) for _ in range(repeat)]
    return {"median_s": round(statistics.median(times), 3), "best_s": round(min(times), 3), "runs": repeat}


def burst(peer: Peer, workload: str = "w3", count: int = W3_RUNS) -> dict:
    timed(peer, workload)  # warm-up
    started = time.perf_counter()
    with ThreadPoolExecutor(CALLERS) as pool:
        sent = dict(pool.map(lambda _: sent_now(peer, workload), range(count)))
    calls = time.perf_counter() - started
    _, span = finished(peer, sent, started)
    return {"runs": count, "runs_per_s": round(count / span, 2), "span_s": round(span, 3),
            "ms_per_trigger": round(calls * 1000 / count, 2)}  # fmt: skip


def lanner() -> dict:
    command = [sys.executable, str(ROOT / "bench" / "engine.py"), "--only", "w1,w2,w3"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    results, _ = json.JSONDecoder().raw_decode(out)
    return {"w1": results["w1"], "w2": results["w2"], "w3": results["w3"]}


@contextlib.contextmanager
def throwaway_database(admin_url: str, name: str = "lanner_peers_airflow") -> Iterator[str | None]:
    """A new PostgreSQL database for Airflow (its URL, for psycopg2), dropped after; None without a server."""
    admin = sqlalchemy.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    except sqlalchemy.exc.OperationalError as error:
        print(f"airflow: no PostgreSQL at {admin_url} ({error.orig}); on its SQLite instead", file=sys.stderr)
        yield None
        return
    try:
        url = sqlalchemy.make_url(admin_url).set(drivername="postgresql+psycopg2", database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def peer_results(kind: type[Peer], repeat: int, postgres: str) -> dict:
    home = Path(tempfile.mkdtemp(prefix=f"lanner-peers-{kind.name}-"))
    if kind is Airflow and postgres:
        with throwaway_database(postgres) as url:
            results = measure(Airflow(home, url), repeat)
        return {**results, "database": "postgresql" if url else "sqlite"}
    return measure(kind(home), repeat)


def measure(peer: Peer, repeat: int) -> dict:
    try:
        results = {"served" if isinstance(peer, Prefect) else "api": {
            "w1": single(peer, "w1", repeat), "w2": single(peer, "w2", repeat), "w3": burst(peer)}}  # fmt: skip
        if isinstance(peer, Prefect):
            results["inline"] = {"w1": peer.inline("w1", repeat), "w2": peer.inline("w2", repeat)}
        return results
    finally:
        peer.stop()


def table(results: dict) -> str:
    columns = [("Lanner", results.get("lanner"))]
    if "prefect" in results:
        columns += [("Prefect served", results["prefect"]["served"]), ("Prefect inline", results["prefect"]["inline"])]
    if "airflow" in results:
        columns.append(("Airflow", results["airflow"]["api"]))
    columns = [(name, figures) for name, figures in columns if figures]
    lines = ["| workload | " + " | ".join(name for name, _ in columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for workload in ("w1", "w2", "w3"):
        cells = []
        for _, figures in columns:
            figure = figures.get(workload)
            if figure is None:
                cells.append("")
            elif workload == "w3":
                cells.append(f"{figure['runs_per_s']} runs/s")
            else:
                cells.append(f"{figure['median_s']} s")
        lines.append(f"| {workload.upper()} | " + " | ".join(cells) + " |")
    ours = results.get("lanner")
    if ours:
        for name, figures in columns[1:]:
            ratios = [f"{workload.upper()} {ratio(workload, ours, figures)}" for workload in ("w1", "w2", "w3")
                      if workload in figures]  # fmt: skip
            lines.append(f"\nLanner against {name}: " + ", ".join(ratios))
    return "\n".join(lines)


def ratio(workload: str, ours: dict, theirs: dict) -> str:
    if workload == "w3":
        return f"{ours['w3']['runs_per_s'] / theirs['w3']['runs_per_s']:.1f}x the runs/s"
    return f"{theirs[workload]['median_s'] / ours[workload]['median_s']:.1f}x faster"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--peers", default="lanner,prefect,airflow")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--postgres",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
        help="an admin URL: Airflow's throwaway database is made there ('' for its SQLite)",
    )
    args = parser.parse_args()
    chosen = [name for name in args.peers.split(",") if name]
    results: dict = {"machine_cpus": os.cpu_count()}
    if "lanner" in chosen:
        results["lanner"] = lanner()
        print(json.dumps({"lanner": results["lanner"]}), file=sys.stderr)
    for kind in (Prefect, Airflow):
        if kind.name not in chosen:
            continue
        if not kind.python.exists():
            print(f"{kind.name}: skipped, not installed ({kind.python} missing: run `make peers`)", file=sys.stderr)
            continue
        results[kind.name] = peer_results(kind, args.repeat, args.postgres)
        print(json.dumps({kind.name: results[kind.name]}), file=sys.stderr)
    print(json.dumps(results, indent=2))
    print(table(results))


if __name__ == "__main__":
    main()
