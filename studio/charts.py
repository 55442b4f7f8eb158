"""The dashboard's plotly figures, built from ``engine.store.stats`` results (pure: no database, no Reflex).

Each trace carries ``customdata`` naming what a click on it opens (day and state, or an execution id); the
page maps a click back through ``curveNumber``/``pointNumber`` with the ``*_clicks`` helpers beside each
figure, because Reflex's plotly event only passes x, y and the indexes of the clicked point.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import plotly.graph_objects as go

from engine.core.levels import LEVELS
from engine.core.palette import ACCENT_COLOUR, level_colour, state_colour
from engine.core.states import State

# Colours come from engine/core/palette.py, so a state looks the same here, on the Gantt chart and on the canvas.
STATE_ORDER = ["SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED", "SKIPPED", "RUNNING", "PAUSED", "RETRYING",
               "KILLING", "QUEUED", "CREATED"]  # fmt: skip
LEVEL_ORDER = list(reversed(LEVELS))  # the worst first
AVERAGE = "avg duration (s)"


def days_between(first: dt.date, last: dt.date) -> list[str]:
    """Every UTC day from ``first`` to ``last`` inclusive, ISO formatted: bars keep their place on empty days."""
    return [(first + dt.timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def _ordered(names: set[str], order: list[str]) -> list[str]:
    return sorted(names, key=lambda name: (order.index(name) if name in order else len(order), name))


# The studio draws a figure with plotly's light or dark template as its theme is (rx.plotly follows the colour
# mode); the backgrounds stay transparent so the card's own (light or dark) background shows through.
TRANSPARENT = {"paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)"}


def _layout(figure: go.Figure, **extra: Any) -> go.Figure:
    figure.update_layout(
        **TRANSPARENT,
        margin={"l": 50, "r": 50, "t": 60, "b": 40},
        height=320,
        legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom", "font": {"size": 11}},
        hovermode="closest",
        **extra,
    )
    return figure


def _add_day_bars(
    figure: go.Figure, counts: dict[tuple[str, str], int], kinds: list[str], days: list[str], colour, **props: Any
) -> None:
    """One bar trace per kind (a state, a level) over the days; each bar's custom data is its day and kind."""
    for kind in kinds:
        figure.add_bar(
            name=kind,
            x=days,
            y=[counts.get((day, kind), 0) for day in days],
            marker_color=colour(kind),
            customdata=[[day, kind] for day in days],
            **props,
        )


def per_day_figure(per_day: dict[str, Any], days: list[str]) -> go.Figure:
    """Executions per day stacked by state, and the average duration of the ended ones on a second y axis.

    ``per_day`` is ``stats.executions_per_day(...).as_dict()``; ``days`` the x axis (see ``days_between``)."""
    counts: dict[tuple[str, str], int] = {(c["day"], c["state"]): c["count"] for c in per_day["counts"]}
    figure = go.Figure()
    hover = "%{customdata[0]}<br>%{customdata[1]}: %{y}<extra></extra>"
    _add_day_bars(figure, counts, per_day_states(per_day), days, state_colour, hovertemplate=hover)
    averages = {d["day"]: d["avg_duration_s"] for d in per_day["durations"]}
    figure.add_scatter(
        name=AVERAGE,
        x=days,
        y=[averages.get(day) for day in days],
        mode="lines+markers",
        yaxis="y2",
        line={"color": ACCENT_COLOUR, "width": 2},  # readable on light and dark
        connectgaps=False,
        customdata=[[day, ""] for day in days],
        hovertemplate="%{customdata[0]}<br>average %{y:.2f} s<extra></extra>",
    )
    return _layout(
        figure,
        barmode="stack",
        xaxis=_day_axis(days),
        yaxis=_count_axis("executions", _totals(per_day["counts"], days)),
        yaxis2={"title": "seconds", "overlaying": "y", "side": "right", "rangemode": "tozero", "showgrid": False},
    )


def _day_axis(days: list[str]) -> dict[str, Any]:
    """A date axis of whole days: one labelled tick a day when there are few, plotly's choice otherwise."""
    axis: dict[str, Any] = {"type": "date", "tickformat": "%b %d"}
    if len(days) <= 10:
        axis["dtick"] = 86_400_000
    return axis


def _count_axis(title: str, totals: list[int]) -> dict[str, Any]:
    """A y axis of counts: whole numbers only (a tick per unit while the stacks are short)."""
    axis: dict[str, Any] = {"title": title, "rangemode": "tozero", "tickformat": ",d"}
    if max(totals, default=0) <= 8:
        axis["dtick"] = 1
    return axis


def per_day_states(per_day: dict[str, Any]) -> list[str]:
    """The state of each bar trace of ``per_day_figure``, in trace order (the average line comes after)."""
    return _ordered({c["state"] for c in per_day["counts"]}, STATE_ORDER)


def per_day_click(states: list[str], point: dict[str, Any]) -> tuple[str, str]:
    """(day, state) of a click on ``per_day_figure``; state is "" on the average line (any state that day)."""
    curve = point.get("curveNumber")
    state = states[curve] if isinstance(curve, int) and 0 <= curve < len(states) else ""
    return str(point.get("x", ""))[:10], state


def durations_figure(durations: dict[str, Any]) -> go.Figure:
    """One point per ended execution (start time, duration) with p50 and p95 as horizontal lines.

    ``durations`` is ``stats.duration_points(...).as_dict()``; trace 0 holds the executions, in the order of
    ``durations["points"]``, so ``pointNumber`` indexes that list."""
    points = durations["points"]
    xs = [_utc_text(p["started_at"] or p["ended_at"]) for p in points]
    figure = go.Figure()
    figure.add_scatter(
        name="executions",
        x=xs,
        y=[p["duration_s"] for p in points],
        mode="markers",
        marker={"color": ACCENT_COLOUR, "size": 7},
        customdata=[p["id"] for p in points],
        hovertemplate="%{x}<br>%{y:.2f} s<br>%{customdata}<extra></extra>",
    )
    ends = [min(xs), max(xs)] if xs else []
    for name, value, color in (
        ("p50", durations["p50_s"], state_colour(State.SUCCESS)),
        ("p95", durations["p95_s"], state_colour(State.FAILED)),
    ):
        if value is not None and ends:
            figure.add_scatter(
                name=f"{name} {value:g} s",
                x=ends,
                y=[value, value],
                mode="lines",
                line={"color": color, "dash": "dash", "width": 1.5},
                hoverinfo="skip",
            )
    return _layout(figure, xaxis={"type": "date"}, yaxis={"title": "seconds", "rangemode": "tozero"})


def _utc_text(moment: str | None) -> str | None:
    """An ISO time as plotly reads it: plotly.js ignores no offset, it rejects "+00:00" (PostgreSQL's output)."""
    if not moment:
        return None
    parsed = dt.datetime.fromisoformat(moment)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed.isoformat(sep=" ")


def durations_click(ids: list[str], point: dict[str, Any]) -> str:
    """The execution id of a click on ``durations_figure`` (only its first trace holds executions)."""
    number = point.get("pointNumber")
    if point.get("curveNumber") != 0 or not isinstance(number, int) or not 0 <= number < len(ids):
        return ""
    return ids[number]


def tasks_figure(tasks: list[dict[str, Any]]) -> go.Figure:
    """Per-task duration boxes of one flow from ``stats.task_durations`` rows.

    The database gives min, p50, p95, max and the mean, not quartiles, so the box is drawn from precomputed
    values: whiskers from min to max, the box from min (q1) to p95 (q3) and its line at p50 (median), the mean
    dashed. The box therefore holds the fastest 95 % of the runs, not the middle half. Tasks with no ended run
    (no duration) are left out."""
    timed = [t for t in tasks if t.get("min_s") is not None and t.get("p50_s") is not None]
    figure = go.Figure()
    if timed:
        figure.add_box(
            name="duration (s)",
            x=[t["task_id"] for t in timed],
            lowerfence=[t["min_s"] for t in timed],
            q1=[t["min_s"] for t in timed],
            median=[t["p50_s"] for t in timed],
            q3=[max(t["p95_s"], t["p50_s"]) for t in timed],
            upperfence=[t["max_s"] for t in timed],
            mean=[t["avg_s"] for t in timed],
            boxmean=True,
            marker_color=ACCENT_COLOUR,
            customdata=[t["task_id"] for t in timed],
        )
    return _layout(figure, showlegend=False, yaxis={"title": "seconds", "rangemode": "tozero"})


def logs_figure(rows: list[dict[str, Any]], days: list[str]) -> go.Figure:
    """Log lines per day stacked by level, from ``stats.log_lines_per_day`` rows."""
    counts = {(r["day"], r["level"]): r["count"] for r in rows}
    figure = go.Figure()
    _add_day_bars(figure, counts, log_levels(rows), days, level_colour)
    return _layout(figure, barmode="stack", xaxis=_day_axis(days), yaxis=_count_axis("lines", _totals(rows, days)))


def _totals(rows: list[dict[str, Any]], days: list[str]) -> list[int]:
    """The height of each day's stack."""
    return [sum(r["count"] for r in rows if r["day"] == day) for day in days]


def log_levels(rows: list[dict[str, Any]]) -> list[str]:
    return _ordered({r["level"] for r in rows}, LEVEL_ORDER)


def as_dict(figure: go.Figure) -> dict[str, Any]:
    """Plain JSON data of a figure (numbers and strings only), e.g. for tests."""
    return figure.to_plotly_json()
