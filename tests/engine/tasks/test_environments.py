"""Cached script environments: built once per requirement set, shared, safe to build from several processes at once,
and leaving nothing behind when the install fails. Real uv and npm against the package indexes this machine uses."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from engine.config import reset_settings
from engine.tasks.context import TaskKilled
from engine.tasks.environments import (
    EnvironmentFailed,
    node_requirements,
    pip_configuration,
    python_environment,
    python_requirements,
)

PROJECT = Path(__file__).resolve().parents[3]


@pytest.fixture
def environments(tmp_path, monkeypatch) -> Path:
    """A fresh cache for this test, named by LANNER_ENVIRONMENTS_DIR as a worker would read it."""
    root = tmp_path / "environments"
    monkeypatch.setenv("LANNER_ENVIRONMENTS_DIR", str(root))
    reset_settings()
    yield root
    reset_settings()


def built(root: Path, kind: str = "python") -> list[str]:
    folder = root / kind
    return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.exists() else []


def test_requirements_are_normalized_so_one_set_shares_one_environment():
    assert python_requirements(["Pandas >= 2", "pandas>=2", " PyArrow", "python_dateutil"]) == [
        "pandas>=2",
        "pyarrow",
        "python-dateutil",
    ]
    assert node_requirements([" dayjs", "left-pad@1.3.0", "dayjs", "@scope/pkg@^2"]) == [
        "@scope/pkg@^2",
        "dayjs",
        "left-pad@1.3.0",
    ]
    with pytest.raises(ValueError, match="dependency 'pandas>>3' is not a valid requirement"):
        python_requirements(["pandas>>3"])


def test_uv_is_given_the_indexes_pip_uses_here():
    # Whatever pip is configured with on this machine (files and PIP_* variables) reaches uv.
    found = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, check=True
    ).stdout
    for option in ("extra-index-url", "find-links"):
        if f".{option}=" in found:
            assert pip_configuration().get(option), f"pip has {option} set but it was not read"


def test_a_python_environment_is_built_once_and_reused(environments, run_task, context):
    script = "import six\nfrom engine.sdk import outputs\noutputs({'six': six.__file__})\n"
    first = run_task("python", dependencies=["six"], script=script)
    assert built(environments) and len(built(environments)) == 1
    (key,) = built(environments)
    assert first["vars"]["six"].startswith(str(environments / "python" / key))
    assert any("creating Python environment (six)" in r.message for r in context.records)
    context.records.clear()
    second = run_task("python", dependencies=["SIX"], script=script)  # the same set, written differently
    assert second["vars"] == first["vars"] and built(environments) == [key]
    assert not any("creating" in r.message for r in context.records)
    # beforeCommands see the environment's programs first on PATH
    third = run_task(
        "python",
        dependencies=["six"],
        beforeCommands=["python -c 'import six' && echo env-python-ok"],
        script="pass",
    )
    assert third["exitCode"] == 0 and any(r.message == "env-python-ok" for r in context.records)


def test_a_failed_install_fails_the_task_with_the_resolver_message_and_leaves_nothing(environments, run_task):
    with pytest.raises(EnvironmentFailed, match=r"(?s)installing dependencies failed.*six==0\.0\.0\.1"):
        run_task("python", dependencies=["six==0.0.0.1"], script="pass")
    assert built(environments) == []
    assert not [p for p in (environments / "python").iterdir() if p.name.startswith(".building-")]


def test_two_processes_building_the_same_environment_make_one_and_both_succeed(tmp_path):
    root = tmp_path / "environments"
    code = textwrap.dedent(
        f"""
        import json, sys
        from pathlib import Path
        from engine.tasks.environments import python_environment, python_executable
        env = python_environment(["six", "idna"], root=Path({str(root)!r}))
        print(json.dumps({{"created": env.created, "python": python_executable(env)}}))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    builders = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        for _ in range(2)
    ]
    results = []
    for builder in builders:
        out, err = builder.communicate(timeout=300)
        assert builder.returncode == 0, err.decode()
        results.append(json.loads(out))
    assert sorted(r["created"] for r in results) == [False, True]
    assert len(built(root)) == 1 and results[0]["python"] == results[1]["python"]
    subprocess.run([results[0]["python"], "-c", "import six, idna"], check=True)


def test_a_half_built_folder_is_never_used(tmp_path):
    root = tmp_path / "environments"
    first = python_environment(["six"], root=root)
    (first.path / ".lanner-complete").unlink()  # as if a build had died before its end
    again = python_environment(["six"], root=root)
    assert again.created and again.path == first.path and (again.path / ".lanner-complete").is_file()


@pytest.mark.skipif(not (shutil.which("node") and shutil.which("npm")), reason="node and npm are not installed here")
def test_a_node_task_requires_an_npm_dependency_from_a_cached_folder(environments, run_task, context):
    script = textwrap.dedent(
        """
        const leftPad = require('left-pad');
        require('lanner').outputs({ padded: leftPad('7', 3, '0') });
        """
    )
    assert run_task("node", dependencies=["left-pad@1.3.0"], script=script)["vars"] == {"padded": "007"}
    assert len(built(environments, "node")) == 1
    context.records.clear()
    assert run_task("node", dependencies=["left-pad@1.3.0"], script=script)["vars"] == {"padded": "007"}
    assert not any("creating" in r.message for r in context.records) and len(built(environments, "node")) == 1


def test_a_kill_while_installing_stops_the_installer_and_leaves_nothing(tmp_path):
    root = tmp_path / "environments"

    def killed() -> None:
        raise TaskKilled("killed")

    with pytest.raises(TaskKilled):
        python_environment(["six"], root=root, check=killed)
    assert built(root) == [] and not [p for p in (root / "python").iterdir() if p.name.startswith(".building-")]
    assert python_environment(["six"], root=root).created  # a later task builds it
