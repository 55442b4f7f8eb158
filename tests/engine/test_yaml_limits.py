"""Hostile YAML is refused at once, at its line and column, by every reader of flows (API, CLI, studio)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.flows import yaml_edit, yaml_source
from engine.flows.loader import load_flow

BOMB = "a0: &a0 lol\n" + "".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 8))


def test_an_alias_bomb_is_refused_in_well_under_a_second():
    started = time.monotonic()
    result = load_flow(BOMB, "bomb.yml")
    assert time.monotonic() - started < 1
    assert result.refused and result.flow is None
    [problem] = result.problems
    assert problem.message == f"YAML aliases expand to more than {yaml_source.MAX_ALIAS_EXPANSION} values"
    assert (problem.line, problem.column) == (6, 5)  # the list whose aliases went over, as written


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: " + "[" * 150 + "]" * 150, "the document nests deeper than 100 levels"),
        ("\n".join("  " * depth + "a:" for depth in range(150)) + " 1", "the document nests deeper than 100 levels"),
        ("a: [" + "1," * 60_000 + "1]", "the document holds more than 50000 keys and values"),
        ("# " + "x" * 1_000_000, "the document is larger than 1000000 characters"),
    ],
    ids=["flow-nesting", "block-nesting", "values", "size"],
)
def test_documents_beyond_a_limit_are_refused_with_a_problem(text: str, message: str):
    result = load_flow(text)
    assert result.refused and [p.message for p in result.problems] == [message]


def test_anchors_and_merge_keys_within_the_limits_still_work():
    text = """\
id: merged
namespace: yaml
tasks:
  - &say {id: one, type: log, message: hello}
  - <<: *say
    id: two
"""
    result = load_flow(text)
    assert result.ok, result.problems
    assert [t.id for t in result.flow.tasks] == ["one", "two"]


def test_cli_validate_names_the_bomb_at_its_line_and_column(tmp_path: Path):
    path = tmp_path / "bomb.yml"
    path.write_text(BOMB)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "engine", "flow", "validate", str(path)],
        capture_output=True,
        text=True,
        env={"LANNER_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert done.returncode == 1 and time.monotonic() - started < 20
    assert f"{path}:6:5: YAML aliases expand to more than 10000 values" in done.stdout + done.stderr


def test_the_studio_editor_refuses_a_bomb_too():
    text = "id: b\nnamespace: n\n" + BOMB.replace("a7:", "tasks:")
    started = time.monotonic()
    with pytest.raises(yaml_edit.EditError, match="aliases expand"):
        yaml_edit.find_task(text, "x")
    assert time.monotonic() - started < 1
