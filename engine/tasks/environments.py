"""Cached script environments: a Python virtual environment (made with ``uv``) or a Node ``node_modules`` folder
per requirement set, created once per machine and shared by every task asking for the same set.

Layout, under ``LANNER_ENVIRONMENTS_DIR`` (default ``LANNER_HOME/environments``)::

    python/<key>/          a virtual environment; <key> hashes the requirements and the interpreter (path, version)
    node/<key>/node_modules
    <kind>/<key>.lock      held while one process builds <key>; others wait, then use what it built

Several workers may ask for the same set at once: the first takes the lock and builds into a temporary folder
beside the final one, then renames it into place (one atomic step), so a half-built folder never carries the final
name. A failed install removes its temporary folder and fails the task with the installer's own message.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from engine.config import load_settings
from engine.runtime.children import popen_dying_with_parent
from engine.tasks.context import TaskFailed
from engine.tasks.process import wait_checking

COMPLETE = ".lanner-complete"  # written last inside a built folder: a folder without it is never used
LOCK_POLL = 0.2
OUTPUT_CHARS = 20_000  # the end of an installer's output kept in the task's error
_NPM_NAME = re.compile(r"^(@[a-z0-9][\w.-]*/)?[a-z0-9][\w.-]*(@.+)?$", re.IGNORECASE)

Check = Callable[[], None]  # raises to stop waiting or building (RunContext.check: a kill or a timeout)
Log = Callable[[str], None]


class EnvironmentFailed(TaskFailed):
    """The environment could not be built: the requirements do not resolve, the index is unreachable..."""


@dataclass(frozen=True)
class Environment:
    path: Path
    created: bool  # True: this call built it; False: it was there already (or another process built it meanwhile)


# Requirements ------------------------------------------------------------------------------------------------


def python_requirements(dependencies: list[str]) -> list[str]:
    """``dependencies`` normalized (canonical names, sorted, duplicates dropped) so that the same set written
    differently (``Pandas >= 2`` and ``pandas>=2``) shares one environment; a bad one raises ``ValueError``."""
    normalized = set()
    for text in dependencies:
        try:
            requirement = Requirement(text.strip())
        except InvalidRequirement as exc:
            raise ValueError(f"dependency '{text}' is not a valid requirement: {exc}") from None
        requirement.name = canonicalize_name(requirement.name)
        normalized.add(str(requirement))
    return sorted(normalized)


def node_requirements(dependencies: list[str]) -> list[str]:
    """npm package specs (``dayjs``, ``left-pad@1.3.0``, ``@scope/pkg@^2``), stripped, sorted, without duplicates."""
    normalized = set()
    for text in dependencies:
        spec = text.strip()
        if not _NPM_NAME.match(spec) or spec.startswith("-"):
            raise ValueError(f"dependency '{text}' is not an npm package name (name or name@version)")
        normalized.add(spec)
    return sorted(normalized)


def _key(parts: dict) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:24]


@functools.cache
def interpreter_version(interpreter: str) -> str:
    """The full version text of ``interpreter`` (asked once per process)."""
    if interpreter == sys.executable:
        return sys.version
    try:
        done = subprocess.run(
            [interpreter, "-c", "import sys; print(sys.version)"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TaskFailed(f"the Python interpreter '{interpreter}' cannot be run: {exc}") from None
    if done.returncode != 0:
        raise TaskFailed(f"the Python interpreter '{interpreter}' cannot be run: {done.stderr.strip()}")
    return done.stdout.strip()


# Python ------------------------------------------------------------------------------------------------------


def uv_binary() -> str:
    """The ``uv`` installed beside this Python (Lanner depends on it), else the one on PATH."""
    beside = Path(sys.executable).parent / "uv"
    found = str(beside) if beside.is_file() else shutil.which("uv")
    if not found:
        raise EnvironmentFailed("python dependencies need 'uv', found neither beside Python nor on PATH")
    return found


def python_environment(
    dependencies: list[str],
    interpreter: str | None = None,
    *,
    check: Check | None = None,
    log: Log | None = None,
    root: Path | None = None,
) -> Environment:
    """The cached virtual environment holding ``dependencies`` for ``interpreter`` (default: this Python),
    built now if no process built it before."""
    interpreter = interpreter or sys.executable
    try:
        requirements = python_requirements(dependencies)
    except ValueError as exc:
        raise EnvironmentFailed(str(exc)) from None
    key = _key({"requirements": requirements, "python": interpreter, "version": interpreter_version(interpreter)})
    folder = (root or load_settings().environments) / "python"

    def build(target: Path) -> None:
        uv, env = uv_binary(), _uv_environment()
        _run([uv, "venv", "--quiet", "--relocatable", "--python", interpreter, str(target)], env, folder, check)
        install = [uv, "pip", "install", "--python", str(target / "bin" / "python"), *_index_options(), *requirements]
        output = _run(install, env, folder, check)
        if log and output.strip():
            log(output.strip())
        (target / "requirements.txt").write_text("\n".join(requirements) + "\n", encoding="utf-8")

    what = ", ".join(requirements)
    return _cached(folder, key, build, what=f"Python environment ({what})", check=check, log=log)


def python_executable(environment: Environment) -> str:
    return str(environment.path / "bin" / "python")


def _uv_environment() -> dict[str, str]:
    env = dict(os.environ)
    cert = pip_configuration().get("cert")
    if cert and "SSL_CERT_FILE" not in env:  # the certificates pip trusts here (a proxy's, say): uv trusts them too
        env["SSL_CERT_FILE"] = cert
    return env


def _index_options() -> list[str]:
    """Where uv looks for packages: the LANNER_PYTHON_* settings; else, unless uv has its own UV_* index
    settings, the indexes pip uses on this machine (``pip config``), merged as pip merges them."""
    settings = load_settings()
    if settings.python_index_url or settings.python_extra_index_urls:
        options = ["--index-url", settings.python_index_url] if settings.python_index_url else []
        for url in settings.python_extra_index_urls:
            options += ["--extra-index-url", url]
        return options
    if any(name in os.environ for name in ("UV_INDEX_URL", "UV_DEFAULT_INDEX", "UV_INDEX", "UV_EXTRA_INDEX_URL")):
        return []
    pip = pip_configuration()
    options = ["--index-url", pip["index-url"]] if pip.get("index-url") else []
    for url in pip.get("extra-index-url", "").split():
        options += ["--extra-index-url", url]
    for place in pip.get("find-links", "").split():
        options += ["--find-links", place]
    if pip.get("constraint") and Path(pip["constraint"]).is_file():
        options += ["--constraint", pip["constraint"]]
    if "--extra-index-url" in options or "--find-links" in options:
        # pip takes the best version over all its indexes; uv, by default, the first index that has the package
        options += ["--index-strategy", "unsafe-best-match"]
    return options


@functools.cache
def pip_configuration() -> dict[str, str]:
    """pip's settings on this machine (its files and PIP_* variables, pip's precedence): index-url,
    extra-index-url, find-links, cert, constraint. Empty without pip."""
    try:
        from pip._internal.configuration import Configuration  # pip's own reading: files and PIP_* variables
    except ImportError:
        return {}
    try:
        configuration = Configuration(isolated=False)
        configuration.load()
        values = dict(configuration.items())
    except Exception:  # a broken pip.conf: uv's defaults (PyPI)
        return {}
    found = {}
    for option in ("index-url", "extra-index-url", "find-links", "cert", "constraint"):
        for section in (":env:", "install", "global"):  # most specific first, as pip reads them
            if values.get(f"{section}.{option}"):
                found[option] = str(values[f"{section}.{option}"])
                break
    return found


# Node --------------------------------------------------------------------------------------------------------


def node_environment(
    dependencies: list[str], *, check: Check | None = None, log: Log | None = None, root: Path | None = None
) -> Environment:
    """The cached folder whose ``node_modules`` holds ``dependencies``, installed with npm if not yet there."""
    try:
        requirements = node_requirements(dependencies)
    except ValueError as exc:
        raise EnvironmentFailed(str(exc)) from None
    npm = shutil.which("npm")
    if not npm:
        raise EnvironmentFailed("node dependencies need 'npm' on the worker's PATH")
    key = _key({"requirements": requirements, "node": node_version()})
    folder = (root or load_settings().environments) / "node"
    registry = load_settings().npm_registry

    def build(target: Path) -> None:
        target.mkdir()
        (target / "package.json").write_text(json.dumps({"private": True, "name": "lanner-env"}), encoding="utf-8")
        command = [npm, "install", "--no-audit", "--no-fund", "--no-package-lock", "--loglevel=error"]
        command += [f"--registry={registry}"] if registry else []
        output = _run([*command, *requirements], dict(os.environ), target, check)
        if log and output.strip():
            log(output.strip())

    what = ", ".join(requirements)
    return _cached(folder, key, build, what=f"Node environment ({what})", check=check, log=log)


@functools.cache
def node_version() -> str:
    node = shutil.which("node")
    if not node:
        raise TaskFailed("node tasks need 'node' on the worker's PATH")
    return subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()


# Building once -----------------------------------------------------------------------------------------------


def _cached(
    folder: Path, key: str, build: Callable[[Path], None], *, what: str, check: Check | None, log: Log | None
) -> Environment:
    final = folder / key
    if (final / COMPLETE).is_file():
        return Environment(final, created=False)
    folder.mkdir(parents=True, exist_ok=True)
    with _locked(folder / f"{key}.lock", check):
        if (final / COMPLETE).is_file():  # another process built it while this one waited
            return Environment(final, created=False)
        _remove_leftovers(folder, key)  # a build that died half-way (we hold the lock: nobody else is building)
        if final.exists():  # a folder without its mark of completion (made by hand, or by an older version)
            shutil.rmtree(final, ignore_errors=True)
        if log:
            log(f"creating {what} in {final}")
        started = time.monotonic()
        building = Path(tempfile.mkdtemp(prefix=f".building-{key}-", dir=folder))
        try:
            building.rmdir()  # uv venv and the node build make the folder themselves
            build(building)
            (building / COMPLETE).write_text(f"{time.time()}\n", encoding="utf-8")
            os.rename(building, final)  # atomic: the final name appears complete or not at all
        finally:
            shutil.rmtree(building, ignore_errors=True)
        if log:
            log(f"created {what} in {time.monotonic() - started:.1f} s")
        return Environment(final, created=True)


def _remove_leftovers(folder: Path, key: str) -> None:
    for leftover in folder.glob(f".building-{key}-*"):
        shutil.rmtree(leftover, ignore_errors=True)


@contextlib.contextmanager
def _locked(path: Path, check: Check | None) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (released by the system if this process dies); waiting stays killable."""
    with open(path, "a+") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if check:
                    check()
                time.sleep(LOCK_POLL)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(argv: list[str], env: dict[str, str], cwd: Path, check: Check | None) -> str:
    """Run an installer; its output (stdout and stderr together); ``EnvironmentFailed`` with its end if it fails."""
    with tempfile.TemporaryFile() as captured:
        try:
            process = popen_dying_with_parent(
                argv,
                cwd=cwd,
                env=env,
                stdout=captured,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError as exc:
            raise EnvironmentFailed(f"{Path(argv[0]).name} cannot be run: {exc}") from None
        try:
            wait_checking(process, check)
        except BaseException:  # a kill or timeout of the task: stop the installer and everything it started
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise
        captured.seek(0)
        output = captured.read().decode("utf-8", errors="replace")
    if process.returncode != 0:
        said = [line for line in output.strip().splitlines() if not line.startswith("Using Python ")]  # uv's preamble
        tail = "\n".join(said)[-OUTPUT_CHARS:]
        raise EnvironmentFailed(f"installing dependencies failed ({Path(argv[0]).name} {argv[1]}):\n{tail}")
    return output
