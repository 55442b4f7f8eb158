"""The Grafana dashboard's panels drawn with plotly from a real Prometheus (Grafana cannot run here): the README's
monitoring screenshot, docs/monitoring.png, from the same queries as monitoring/grafana/dashboards/lanner.json."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from tests.support.prometheus import GRAFANA_VARIABLES, MONITORING, Prometheus

PANELS = (  # the dashboard's panels drawn, in this order (2 columns)
    "Executions ended by state",
    "Executions by state (range)",
    "Execution duration per flow",
    "Queue wait (queued → running)",
    "Workers busy",
    "API latency per route (p95)",
    "Top failing tasks",
    "Database and Redis latency (p95)",
)


def _legend(template: str, labels: dict) -> str:
    text = template
    for key, value in labels.items():
        text = text.replace("{{" + key + "}}", value)
    return text if "{{" not in text else json.dumps(labels)


def render_dashboard(prom: Prometheus, since: float, target: Path, chromium: str) -> None:
    dashboard = json.loads((MONITORING / "grafana" / "dashboards" / "lanner.json").read_text())
    panels = {panel["title"]: panel for panel in dashboard["panels"]}
    figure = make_subplots(rows=4, cols=2, subplot_titles=PANELS, vertical_spacing=0.09, horizontal_spacing=0.08)
    end = time.time()
    for index, title in enumerate(PANELS):
        row, col = index // 2 + 1, index % 2 + 1
        for target_ in panels[title]["targets"]:
            expr = target_["expr"]
            for variable, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, value)
            if panels[title]["type"] in ("table", "piechart", "stat"):
                for series in prom.query(expr):
                    name = _legend(target_["legendFormat"], series["metric"])
                    figure.add_trace(go.Bar(x=[name], y=[float(series["value"][1])], name=name), row=row, col=col)
                continue
            answer = prom.client.get(
                "/api/v1/query_range", params={"query": expr, "start": since, "end": end, "step": 1}
            ).json()["data"]["result"]
            for series in answer:
                points = [(t, float(v)) for t, v in series["values"] if v not in ("NaN", "+Inf", "-Inf")]
                if points:
                    figure.add_trace(
                        go.Scatter(
                            x=[dt.datetime.fromtimestamp(t, dt.UTC) for t, _ in points],
                            y=[v for _, v in points],
                            mode="lines",
                            name=_legend(target_["legendFormat"], series["metric"])[:40],
                        ),
                        row=row,
                        col=col,
                    )
    figure.update_layout(width=1400, height=1300, showlegend=False, template="plotly_white",
                         title="Lanner — the Grafana dashboard's queries on a real Prometheus")  # fmt: skip
    html = target.with_suffix(".html")
    figure.write_html(html, include_plotlyjs=True, full_html=True)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1300})
        page.goto(html.as_uri())
        page.wait_for_selector(".main-svg")
        page.screenshot(path=str(target), full_page=True)
        browser.close()
    html.unlink()
