"""Whatever text arrives, loading answers with a flow or with problems, never with an exception."""

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.flows.loader import load_flow

EXAMPLE = (Path(__file__).resolve().parent.parent.parent / "examples" / "acme" / "routing.yml").read_text()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_any_text(text: str):
    result = load_flow(text)
    assert result.ok or result.problems


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(EXAMPLE) - 1), st.integers(0, 40), st.text(max_size=12))
def test_any_edit_of_a_real_flow(start: int, length: int, replacement: str):
    text = EXAMPLE[:start] + replacement + EXAMPLE[start + length :]
    result = load_flow(text, "edited.yml")
    assert result.ok or result.problems
    lines = text.splitlines() or [""]
    for problem in result.problems:
        assert 1 <= problem.line <= len(lines) + 1 and problem.column >= 1
