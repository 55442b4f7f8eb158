"""The Gantt chart of an execution: one bar per task run attempt on a time axis, coloured by state."""

from __future__ import annotations

import datetime as dt
from typing import Any

import plotly.graph_objects as go

from engine.core.palette import state_colour
from studio.charts import TRANSPARENT


def _utc(moment: dt.datetime) -> dt.datetime:
    # Databases hand back naive (UTC) or aware timestamps; ``now`` may be either: compare them as naive UTC.
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _millis(start: dt.datetime, end: dt.datetime) -> float:
    return (_utc(end) - _utc(start)).total_seconds() * 1000


def gantt_figure(spans: list[dict[str, Any]], now: dt.datetime) -> go.Figure:
    """Bars start at each attempt's start and last until its end (until ``now`` while it runs)."""
    figure = go.Figure()
    order = list(dict.fromkeys(span["label"] for span in spans))  # first start first, top to bottom
    for state in dict.fromkeys(span["state"] for span in spans):
        chosen = [span for span in spans if span["state"] == state]
        ends = [span["end"] or now for span in chosen]
        figure.add_bar(
            name=state,
            orientation="h",
            y=[span["label"] for span in chosen],
            base=[span["start"].isoformat() for span in chosen],
            x=[max(_millis(span["start"], end), 1) for span, end in zip(chosen, ends, strict=True)],
            marker_color=state_colour(state),
            customdata=[[span["task_id"], span["attempt"]] for span in chosen],
            hovertemplate="%{y}<br>%{base|%H:%M:%S.%L} + %{x:.0f} ms<extra>" + state + "</extra>",
        )
    figure.update_layout(
        **TRANSPARENT,  # the theme's background shows through (the template follows the studio's theme)
        barmode="overlay",
        height=max(160, 40 + 28 * len(order)),
        margin={"l": 10, "r": 10, "t": 10, "b": 30},
        xaxis={"type": "date", "tickformat": "%H:%M:%S"},
        yaxis={"categoryorder": "array", "categoryarray": list(reversed(order)), "automargin": True},
        legend={"orientation": "h"},
    )
    return figure
