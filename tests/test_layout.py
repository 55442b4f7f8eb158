"""Project rules that code review would otherwise have to remember."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_engine_never_imports_reflex():
    offenders = []
    for path in (ROOT / "engine").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(name == "reflex" or name.startswith(("reflex.", "studio")) for name in names):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, engine.cli, engine.store.flows; print('reflex' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "False"


def test_top_level_layout():
    for name in (
        "rxconfig.py",
        "studio",
        "engine",
        "assets",
        "tests",
        "pyproject.toml",
        "docker-compose.yml",
        "README.md",
        ".ci/run",
        "bench",
        "examples",
    ):
        assert (ROOT / name).exists(), name


def test_lanner_help_loads_neither_the_studio_nor_the_worker_nor_the_api():
    # `lanner --help` and the quick commands must start fast: the worker (RQ), the executor and the API app load
    # only in the commands that run them.
    heavy = ("reflex", "engine.worker", "rq.worker", "engine.server", "engine.executor", "engine.api", "uvicorn")
    code = (
        "import sys\nfrom click.testing import CliRunner\nfrom engine.cli import main\n"
        "done = CliRunner().invoke(main, ['--help'])\nassert done.exit_code == 0, done.output\n"
        f"print(','.join(name for name in {heavy!r} if name in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert loaded.stdout.strip() == ""
