"""A real Lanner engine for tests: real executor and worker processes (``tests.support.cluster``), on the test's
database and the session's Redis (``redis_server``, in ``tests/conftest.py``), and the real API in front of them."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from engine.identity.crypto import generate_key
from tests.support import ROOT
from tests.support.cluster import Cluster
from tests.support.forks import run_lanner
from tests.support.mail import Mailbox, smtp_server
from tests.support.ports import free_port
from tests.support.webhooks import Recorder, webhook_server


@pytest.fixture
def cluster_factory(tmp_path: Path, database_url: str, redis_server: str) -> Iterator[Callable[[], Cluster]]:
    """Build clusters that are stopped at the end of the test (crash tests kill their processes)."""
    made: list[Cluster] = []

    def make() -> Cluster:
        cluster = Cluster(tmp_path / f"home{len(made)}", database_url, redis_server)
        cluster.home.mkdir()
        made.append(cluster)
        return cluster

    yield make
    for cluster in made:
        cluster.stop(grace=0)  # killed: nothing asserts how they stop, and a graceful stop costs seconds per test
        cluster.db.dispose()


@pytest.fixture(scope="session")
def environments_dir(tmp_path_factory) -> Path:
    """One cache of script environments (LANNER_ENVIRONMENTS_DIR) for the whole session: pandas installs once."""
    return tmp_path_factory.mktemp("environments")


@pytest.fixture
def cluster(cluster_factory) -> Cluster:
    """An executor and two workers, running."""
    cluster = cluster_factory()
    cluster.start_executor()
    cluster.start_workers(2)
    return cluster


@pytest.fixture
def api(cluster: Cluster) -> Iterator[httpx.Client]:
    """``lanner api`` served for real in its own process in front of the running ``cluster``: a client of
    its /api/v1, with the cluster as ``client.cluster``."""
    port = free_port()
    cluster.start("api", "api", "--port", str(port))
    base = f"http://127.0.0.1:{port}/api/v1"
    client = httpx.Client(base_url=base, timeout=60)
    deadline = time.monotonic() + 30
    while True:
        try:
            if client.get("/namespaces").status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"exit {cluster.processes['api'].poll()}: " + (cluster.home / "api.log").read_text())
        time.sleep(0.1)
    client.cluster = cluster
    yield client
    client.close()


@pytest.fixture
def smtp() -> Iterator[Mailbox]:
    """A real (tiny) SMTP server on a free port: its port, and the messages and sign-ins it received."""
    with smtp_server() as mailbox:
        yield mailbox


@pytest.fixture
def webhook() -> Iterator[Recorder]:
    """A real HTTP server on a free port recording what is posted to it (tests/support/webhooks.py)."""
    with webhook_server() as recorder:
        yield recorder


@pytest.fixture
def lanner_env() -> dict[str, str]:
    """Variables the ``lanner`` fixture adds to every command's environment; a test module overrides this."""
    return {}


@pytest.fixture
def lanner(tmp_path: Path, database_url: str, lanner_env: dict[str, str]) -> Callable[..., subprocess.CompletedProcess]:
    """The ``lanner`` command as a real process on the test's database, from the test's folder, with a home of its
    own there; ``check`` raises with its stderr when it fails, ``stdin`` is its input, keywords add variables."""
    env = {
        **os.environ,
        "LANNER_HOME": str(tmp_path / "home"),
        "LANNER_DATABASE_URL": database_url,
        **lanner_env,
        # the commands run from another folder: import this checkout's engine, not an installed one
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }

    def run(*args: str, stdin: str = "", check: bool = True, **extra: str) -> subprocess.CompletedProcess:
        done = run_lanner(list(args), {**env, **extra}, cwd=tmp_path, input=stdin.encode())
        if check and done.returncode != 0:
            raise AssertionError(f"exit {done.returncode}: {done.stderr.decode()}{done.stdout.decode()[-2000:]}")
        return done

    return run


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """A secret key of its own (LANNER_SECRET_KEY), for tests run in this process."""
    text = generate_key()
    monkeypatch.setenv("LANNER_SECRET_KEY", text)
    monkeypatch.setenv("LANNER_HOME", str(tmp_path))
    return text


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The ``lanner`` command's tests run on SQLite only: each of their calls starts a process (seconds each), and
    the commands are thin clients of the services, whose every query the store, service and API tests run on
    both SQLite and PostgreSQL."""
    on_postgres = [
        item
        for item in items
        if Path(str(item.fspath)).name.startswith("test_cli")
        and getattr(getattr(item, "callspec", None), "params", {}).get("database_url") == "postgres"
    ]
    if on_postgres:
        config.hook.pytest_deselected(items=on_postgres)
        items[:] = [item for item in items if item not in on_postgres]
