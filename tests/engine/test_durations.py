import datetime as dt

import pytest

from engine.core.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("2m", 120),
        ("1h", 3600),
        ("1h30m", 5400),
        ("500ms", 0.5),
        ("1d", 86400),
        ("1w", 604800),
        ("PT2M", 120),
        ("PT1H30M", 5400),
        ("P1D", 86400),
        ("P1DT2H", 93600),
        ("PT0.5S", 0.5),
        ("pt2m", 120),
    ],
)
def test_parse(text: str, seconds: float):
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "10", "5x", "1h 30m", "m", "P", "PT", "P1H", "ten minutes", "-5s"])
def test_reject(text: str):
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_format_round_trips():
    for value in (dt.timedelta(seconds=5400), dt.timedelta(milliseconds=250), dt.timedelta(days=2, seconds=1)):
        assert parse_duration(format_duration(value)) == value
