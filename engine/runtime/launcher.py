"""Start the studio (a Reflex app) as a child process, with the toolchain it needs in place.

Reflex 0.10 needs bun >= 1.4.4 (or Node >= 22.22). bun's own installer needs the internet, so bun
comes from the npm registry into the project-local ``.tools`` folder instead.

Reflex builds the studio into a folder of the checkout (``.web``) with the server's port written into it; two
servers started from one checkout on two ports would overwrite each other's build. Each running server takes
its own build folder instead (``.web``, then ``.web-2``, ``.web-3``...), held by a lock while it runs.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from engine.config import Settings
from engine.runtime.children import popen_dying_with_parent

PROJECT = Path(__file__).resolve().parents[2]  # engine/runtime/launcher.py -> the checkout
TOOLS = PROJECT / ".tools"
BUN_VERSION = "1.4.4"
BUILD_FOLDERS = 8  # studios running at once from one checkout
BUILD_ATTEMPTS = 2  # a build that fails before serving is tried once more (see _serve)


def bun_path() -> Path:
    return TOOLS / "node_modules" / ".bin" / "bun"


def ensure_bun() -> Path:
    """bun from ``.tools``, installed with npm the first time."""
    bun = bun_path()
    if bun.exists():
        return bun
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("error: the studio needs npm (Node.js) to fetch bun; install Node.js and retry")
    TOOLS.mkdir(exist_ok=True)
    print(f"installing bun {BUN_VERSION} into {TOOLS} ...", file=sys.stderr)
    subprocess.run(
        [npm, "install", "--prefix", str(TOOLS), "--no-audit", "--no-fund", f"bun@{BUN_VERSION}"], check=True
    )
    return bun


def studio_environment(settings: Settings) -> dict[str, str]:
    bun = ensure_bun()
    env = dict(os.environ)
    env["PATH"] = f"{bun.parent}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["REFLEX_USE_SYSTEM_BUN"] = "1"
    env["LANNER_HOME"] = str(settings.home)
    env["LANNER_DATABASE_URL"] = settings.database_url
    if settings.redis_url:
        env["LANNER_REDIS_URL"] = settings.redis_url
    env.setdefault("REFLEX_TELEMETRY_ENABLED", "false")
    return env


def build_folder_environment(number: int) -> dict[str, str]:
    """Where the ``number``-th running studio builds and keeps its per-tab states (the first: Reflex's defaults)."""
    if number == 1:
        return {}
    return {"REFLEX_WEB_WORKDIR": f".web-{number}", "REFLEX_STATES_WORKDIR": f".states-{number}"}


@contextlib.contextmanager
def own_build_folder() -> Iterator[dict[str, str]]:
    """The first build folder no other running studio of this checkout holds, locked until the block ends (or
    the process dies: the kernel drops the lock). A folder is reused by the next server that gets it, so its
    packages are installed once. ``REFLEX_WEB_WORKDIR`` set by hand wins."""
    if os.environ.get("REFLEX_WEB_WORKDIR"):
        yield {}
        return
    locks = TOOLS / "build-folders"
    locks.mkdir(parents=True, exist_ok=True)
    for number in range(1, BUILD_FOLDERS + 1):
        lock = open(locks / f"{number}.lock", "w")  # noqa: SIM115 - held for the whole block
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            continue
        try:
            yield build_folder_environment(number)
        finally:
            lock.close()
        return
    raise SystemExit(f"error: {BUILD_FOLDERS} studios already run from {PROJECT}; stop one, or start from a copy")


def run_studio(settings: Settings, *, host: str, port: int) -> int:
    """Serve the studio (UI and its backend) on one port until interrupted; returns the exit status."""
    with own_build_folder() as build_folder:
        return _serve(settings, build_folder, host=host, port=port)


def _serve(settings: Settings, build_folder: dict[str, str], *, host: str, port: int) -> int:
    env = {**studio_environment(settings), **build_folder}
    command = [
        sys.executable,
        "-m",
        "reflex",
        "run",
        "--env",
        "prod",
        "--single-port",
        "--backend-host",
        host,
        "--backend-port",
        str(port),
        "--frontend-port",
        str(port),
    ]
    folder = build_folder.get("REFLEX_WEB_WORKDIR", ".web")
    print(f"Lanner studio on http://localhost:{port}  (data in {settings.home}, build in {folder})", file=sys.stderr)
    for attempt in range(1, BUILD_ATTEMPTS + 1):
        process = popen_dying_with_parent(command, cwd=PROJECT, env=env)
        try:
            served = _wait_serving_or_exit(process, host, port)
            status = process.wait()
        except KeyboardInterrupt:
            process.terminate()
            return process.wait()
        if status == 0 or served or attempt == BUILD_ATTEMPTS:
            return status
        # React Router renders each page once while building, with a fixed 10 s limit per page: on a loaded
        # machine the first render can miss it. The second build reuses the first one's work and usually passes.
        print("the studio's build failed before it served a page; building it once more", file=sys.stderr)
    return status


def _wait_serving_or_exit(process: subprocess.Popen, host: str, port: int) -> bool:
    """Whether the studio came to accept connections before its process ended (a build that failed did not)."""
    address = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 - where to knock, not to bind
    while process.poll() is None:
        with contextlib.suppress(OSError), socket.create_connection((address, port), timeout=1):
            return True
        time.sleep(1)
    return False
