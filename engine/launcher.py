"""Start the studio (a Reflex app) as a child process, with the toolchain it needs in place.

Reflex 0.10 needs bun >= 1.4.4 (or Node >= 22.22). bun's own installer needs the internet, so bun
comes from the npm registry into the project-local ``.tools`` folder instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from engine.children import die_with_parent
from engine.config import Settings

PROJECT = Path(__file__).resolve().parent.parent
TOOLS = PROJECT / ".tools"
BUN_VERSION = "1.4.4"


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


def run_studio(settings: Settings, *, host: str, port: int) -> int:
    """Serve the studio (UI and its backend) on one port until interrupted; returns the exit status."""
    env = studio_environment(settings)
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
    print(f"Lanner studio on http://localhost:{port}  (data in {settings.home})", file=sys.stderr)
    process = subprocess.Popen(command, cwd=PROJECT, env=env, preexec_fn=die_with_parent)
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        return process.wait()
