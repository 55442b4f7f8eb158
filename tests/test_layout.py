"""Project rules that code review would otherwise have to remember."""

import ast
import re
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


def _python_sources() -> list[Path]:
    return [path for part in ("engine", "studio") for path in (ROOT / part).rglob("*.py")]


def test_only_the_settings_read_lanner_variables():
    """Every LANNER_* setting is read once, by engine/config.py; a child's environment may still be written."""
    reads = re.compile(r"""(?:environ\.get|getenv)\(\s*["']LANNER_|environ\[\s*["']LANNER_[A-Z_]*["']\s*\](?!\s*=)""")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in _python_sources()
        if path != ROOT / "engine" / "config.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if reads.search(line)
    ]
    assert offenders == []


def test_the_terminal_states_are_defined_once():
    """engine/states.py TERMINAL is the set (its members compare equal to their strings): nobody copies it."""
    copies = re.compile(r"^\s*(?:[A-Z_]*TERMINAL|RUN_ENDED)\s*=|\bif\s+s\.terminal\s*\}")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in _python_sources()
        if path != ROOT / "engine" / "states.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if copies.search(line)
    ]
    assert offenders == []


def test_log_levels_are_defined_once():
    spelled_out = re.compile(r"""["']TRACE["'],\s*["']DEBUG["'],\s*["']INFO["']""")
    offenders = [
        str(path.relative_to(ROOT))
        for path in _python_sources()
        if path != ROOT / "engine" / "levels.py" and spelled_out.search(path.read_text())
    ]
    assert offenders == []


def test_every_state_and_level_has_one_colour():
    from engine.levels import LogLevel
    from engine.palette import LEVEL_COLOURS, STATE_COLOURS, css_variable, css_variables
    from engine.states import State

    assert set(STATE_COLOURS) == set(State) and set(LEVEL_COLOURS) == set(LogLevel)
    stylesheet = css_variables()
    for state, colour in STATE_COLOURS.items():
        assert f"{css_variable(state)}: {colour};" in stylesheet


def test_colours_are_not_copied_out_of_the_palette():
    """The canvas' JSX reads state colours as CSS variables and Python modules import the table."""
    from engine.palette import LEVEL_COLOURS, STATE_COLOURS

    palette = {colour.lower() for colour in [*STATE_COLOURS.values(), *LEVEL_COLOURS.values()]}
    canvas = (ROOT / "assets" / "flow_canvas.jsx").read_text().lower()
    assert sorted(colour for colour in palette if colour in canvas) == []
    assert "var(--lanner-state-" in canvas
    tables = re.compile(r"""["'](?:SUCCESS|FAILED|RUNNING)["']\s*:\s*["']#""")
    offenders = [str(path.relative_to(ROOT)) for path in _python_sources() if tables.search(path.read_text())]
    assert offenders == []
