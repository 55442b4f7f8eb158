"""Date filters in expressions: one computed day for every task of a run (the sales example's ``day``)."""

from __future__ import annotations

import pytest

from engine.core.expressions import ExpressionError, render


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("{{ '2026-11-29T06:00:00+01:00' | date_add(-1, 'days') | date('%Y-%m-%d') }}", "2026-11-28"),
        ("{{ '2026-03-01' | date_add(-1) }}", "2026-02-28"),  # a date stays a date
        ("{{ '2026-11-29T06:00:00Z' | date_add(90, 'minutes') }}", "2026-11-29T07:30:00+00:00"),
        ("{{ '2026-11-29' | date('%d/%m/%Y') }}", "29/11/2026"),
        ("{{ (inputs.day or ('2026-11-29T06:00:00Z' | date_add(-1) | date)) }}", "2026-11-28"),
    ],
)
def test_dates_move_and_format(expression, expected):
    assert render(expression, {"inputs": {"day": None}}) == expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("{{ 'yesterday' | date_add(-1) }}", "not an ISO date"),
        ("{{ '2026-11-29' | date_add(1, 'months') }}", "unit 'months' is not one of seconds, minutes"),
        ("{{ '2026-11-29' | date_add(10**12, 'weeks') }}", "beyond the years 1 to 9999"),
        ("{{ '2026-11-29' | date('%999999Y') }}", "no widths or flags"),
        ("{{ '2026-11-29' | date('%Y' * 60) }}", "at most 100 characters"),
        ("{{ 42 | date }}", "is not a date"),
    ],
)
def test_a_bad_date_unit_or_format_is_a_clear_expression_error(expression, message):
    with pytest.raises(ExpressionError, match=message):
        render(expression, {})


def test_every_task_of_the_sales_example_loads_the_one_computed_day():
    """On a scheduled run ``inputs.day`` is empty: before, extract fell back to the trigger date while load wrote
    the empty input. Now the ``day`` task computes it once and the others read ``outputs.day.value``."""
    from pathlib import Path

    from engine.flows.loader import load_flow_or_raise

    source = (Path(__file__).resolve().parents[2] / "examples" / "acme" / "daily_sales.yml").read_text()
    flow = load_flow_or_raise(source, "daily_sales.yml")
    day = next(task for task in flow.tasks if task.id == "day")
    scheduled = {"inputs": {"day": None}, "trigger": {"date": "2026-11-29T06:00:00+01:00"}, "execution": {}}
    assert render(day.value, scheduled) == "2026-11-28"
    assert render(day.value, {**scheduled, "inputs": {"day": "2026-11-01"}}) == "2026-11-01"
    manual = {"inputs": {"day": None}, "trigger": {}, "execution": {"startDate": "2026-11-29T10:00:00+00:00"}}
    assert render(day.value, manual) == "2026-11-28"
    others = [task.model_dump_json() for task in flow.tasks if task.id != "day"]
    assert all("inputs.day" not in text for text in others)
    # extract, both loads, totals, slack and teams
    assert sum("outputs.day.value" in text for text in others) == 6
