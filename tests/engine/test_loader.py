from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.flows.loader import load_flow, load_flow_or_raise, read_source
from engine.flows.problems import FlowInvalid

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "invalid"
EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"
EXPECT = re.compile(r"^# expect: (\d+):(\d+) (.+)$", re.M)


def _invalid_fixtures() -> list[Path]:
    return sorted(FIXTURES.glob("*.yml"))


def test_there_are_at_least_twenty_kinds_of_bad_input():
    assert len(_invalid_fixtures()) >= 20


@pytest.mark.parametrize("path", _invalid_fixtures(), ids=lambda p: p.stem)
def test_bad_input_is_reported_at_its_line_and_column(path: Path):
    text = read_source(path)
    expected = EXPECT.findall(text)
    assert expected, f"{path.name} declares no '# expect: LINE:COL message' line"
    result = load_flow(text, path.name)
    assert result.flow is None and not result.ok
    got = [(p.line, p.column, p.message) for p in result.problems]
    for line, column, message in expected:
        assert any((g_line, g_col) == (int(line), int(column)) and message in g_msg for g_line, g_col, g_msg in got), (
            f"expected {line}:{column} {message!r}, got {got}"
        )
    assert all(str(p).startswith(f"{path.name}:{p.line}:{p.column}: ") for p in result.problems)


@pytest.mark.parametrize("path", sorted(EXAMPLES.rglob("*.yml")), ids=lambda p: p.stem)
def test_examples_are_valid(path: Path):
    result = load_flow(read_source(path), str(path))
    assert result.problems == []
    assert result.ok


def test_every_problem_is_reported_not_only_the_first():
    result = load_flow(read_source(FIXTURES / "36_many_problems.yml"))
    assert len(result.problems) == 4


def test_the_sequential_default_and_explicit_dag_load():
    flow = load_flow_or_raise(
        "id: f\nnamespace: a.b\ntasks:\n  - {id: a, type: log, message: x}\n"
        "  - {id: b, type: log, message: y, dependsOn: []}\n"
    )
    assert [t.id for t in flow.tasks] == ["a", "b"]
    assert flow.tasks[0].depends_on is None and flow.tasks[1].depends_on == []


def test_load_flow_or_raise_carries_every_problem():
    with pytest.raises(FlowInvalid) as caught:
        load_flow_or_raise(read_source(FIXTURES / "36_many_problems.yml"), "many.yml")
    assert len(caught.value.problems) == 4
    assert str(caught.value).count("many.yml:") == 4


@pytest.mark.parametrize(
    "text",
    ["", "~", "[", "a: b: c", "\t- x", "--- a\n--- b\n", "{", "id: [", "&a x: *b", "!!python/object:os.system x"],
)
def test_garbage_never_raises(text: str):
    result = load_flow(text, "g.yml")
    assert not result.ok
    assert result.problems and all(p.line >= 1 and p.column >= 1 for p in result.problems)


def test_durations_accept_short_and_iso_forms():
    flow = load_flow_or_raise(
        "id: f\nnamespace: n\ntimeout: PT1H\ntasks:\n  - {id: a, type: sleep, duration: 1m30s, timeout: 2m}\n"
    )
    assert flow.timeout.total_seconds() == 3600
    assert flow.tasks[0].duration.total_seconds() == 90
    assert flow.tasks[0].timeout.total_seconds() == 120


def test_merge_keys_and_anchors_work():
    flow = load_flow_or_raise(
        "id: f\nnamespace: n\ntasks:\n  - &base {id: a, type: log, message: x, level: WARN}\n  - {<<: *base, id: b}\n"
    )
    assert flow.tasks[1].level.value == "WARN" and flow.tasks[1].id == "b"


def test_nested_task_lists_are_represented():
    flow = load_flow_or_raise(read_source(EXAMPLES / "acme" / "routing.yml"))
    switch, foreach, branch = flow.tasks
    assert set(switch.cases) == {"full", "quick"}
    assert foreach.tasks[0].id == "per_region"
    assert branch.then[0].type == "pause" and branch.else_[0].id == "skip_approval"


def test_task_ids_must_be_unique_across_nested_lists():
    result = load_flow(
        "id: f\nnamespace: n\ntasks:\n  - id: p\n    type: parallel\n    tasks:\n"
        "      - {id: x, type: log, message: a}\n"
        "errors:\n  - {id: x, type: log, message: b}\n"
    )
    assert [(p.line, p.column) for p in result.problems] == [(9, 10)]
