"""Writes grafana/dashboards/lanner.json, the Lanner dashboard: edit the panels here, run
``python monitoring/dashboard.py``, commit both. The tests run every query of the JSON against a real Prometheus
(tests/engine/test_metrics_prometheus.py); Grafana's ``$__rate_interval``, ``$__range`` and ``$namespace`` are
the only variables the queries use."""

from __future__ import annotations

import json
from pathlib import Path

NS = 'namespace=~"$namespace"'
RATE, RANGE = "$__rate_interval", "$__range"
EXECUTION, TASK_RUN = "lanner_execution", "lanner_task_run"


def quantiles(metric: str, by: str, where: str = NS) -> list[tuple[str, str]]:
    return [
        (
            f"histogram_quantile({q}, sum by (le, {by}) (rate({metric}_bucket{{{where}}}[{RATE}])))",
            f"p{int(q * 100)} {{{{{by.replace(', ', '}}/{{')}}}}}",
        )
        for q in (0.5, 0.95, 0.99)
    ]


# (title, kind, unit, [(query, legend)], width)
PANELS: list[tuple[str, str, str, list[tuple[str, str]], int]] = [
    (
        "Executions ended by state",
        "timeseries",
        "ops",
        [(f"sum by (state) (rate(lanner_executions_ended_total{{{NS}}}[{RATE}]))", "{{state}}")],
        12,
    ),
    (
        "Executions by state (range)",
        "piechart",
        "short",
        [(f"sum by (state) (increase(lanner_executions_ended_total{{{NS}}}[{RANGE}]))", "{{state}}")],
        6,
    ),
    (
        "Success rate",
        "stat",
        "percentunit",
        [
            (
                f'sum(increase(lanner_executions_ended_total{{{NS},state=~"SUCCESS|WARNING"}}[{RANGE}]))'
                f" / sum(increase(lanner_executions_ended_total{{{NS}}}[{RANGE}]))",
                "success",
            )
        ],
        6,
    ),
    (
        "Execution duration per flow",
        "timeseries",
        "s",
        quantiles(f"{EXECUTION}_duration_seconds", "namespace, flow"),
        12,
    ),
    (
        "Task run duration per task type (p95)",
        "timeseries",
        "s",
        [
            (
                f"histogram_quantile(0.95, sum by (le, task_type) "
                f"(rate(lanner_task_run_duration_seconds_bucket{{{NS}}}[{RATE}])))",
                "{{task_type}}",
            )
        ],
        12,
    ),
    ("Queue wait (queued → running)", "timeseries", "s", quantiles(f"{TASK_RUN}_queue_wait_seconds", "namespace"), 12),
    (
        "Workers busy",
        "timeseries",
        "short",
        [
            ("sum(lanner_worker_tasks_running)", "task runs running"),
            ("max(lanner_workers_alive)", "workers alive"),
        ],
        12,
    ),
    ("Queue depth", "timeseries", "short", [("max by (queue) (lanner_queue_depth)", "{{queue}}")], 12),
    (
        "Scheduler lateness (p95) and fires",
        "timeseries",
        "s",
        [
            (
                f"histogram_quantile(0.95, sum by (le) (rate(lanner_scheduler_lateness_seconds_bucket[{RATE}])))",
                "lateness p95",
            ),
            (f"sum by (kind) (increase(lanner_scheduler_fires_total{{{NS}}}[{RANGE}]))", "fires ({{kind}})"),
        ],
        12,
    ),
    (
        "API errors (4xx, 5xx)",
        "timeseries",
        "reqps",
        [
            (
                f'sum by (route, status) (rate(lanner_api_requests_total{{status=~"[45].."}}[{RATE}]))',
                "{{status}} {{route}}",
            )
        ],
        12,
    ),
    (
        "API latency per route (p95)",
        "timeseries",
        "s",
        [
            (
                f"histogram_quantile(0.95, sum by (le, route) "
                f"(rate(lanner_api_request_duration_seconds_bucket[{RATE}])))",
                "{{route}}",
            )
        ],
        12,
    ),
    (
        "Slowest flows (mean duration over the range)",
        "table",
        "s",
        [
            (
                f"topk(10, sum by (namespace, flow) (increase(lanner_execution_duration_seconds_sum{{{NS}}}[{RANGE}]))"
                f" / sum by (namespace, flow) (increase(lanner_execution_duration_seconds_count{{{NS}}}[{RANGE}])))",
                "{{namespace}}/{{flow}}",
            )
        ],
        12,
    ),
    (
        "Top failing tasks",
        "table",
        "short",
        [
            (
                f"topk(10, sum by (namespace, flow, task) "
                f'(increase(lanner_task_runs_ended_total{{{NS},state="FAILED"}}[{RANGE}])))',
                "{{namespace}}/{{flow}}.{{task}}",
            )
        ],
        12,
    ),
    (
        "Retries",
        "table",
        "short",
        [
            (
                f"sum by (namespace, flow, task_type) (increase(lanner_task_run_retries_total{{{NS}}}[{RANGE}]))",
                "{{namespace}}/{{flow}} {{task_type}}",
            )
        ],
        12,
    ),
    (
        "Task metrics (counters)",
        "table",
        "short",
        [
            (
                f"sum by (namespace, flow, task, metric) (increase(lanner_task_metric_counter_total{{{NS}}}[{RANGE}]))",
                "{{flow}}.{{task}} {{metric}}",
            )
        ],
        12,
    ),
    (
        "Executor: advance p95 and events",
        "timeseries",
        "s",
        [
            (
                f"histogram_quantile(0.95, sum by (le) "
                f"(rate(lanner_executor_advance_duration_seconds_bucket[{RATE}])))",
                "advance p95",
            ),
            (f"sum(rate(lanner_executor_events_processed_total[{RATE}]))", "events/s"),
        ],
        12,
    ),
    (
        "Database and Redis latency (p95)",
        "timeseries",
        "s",
        [
            (
                f"histogram_quantile(0.95, sum by (le, operation) "
                f"(rate(lanner_database_query_duration_seconds_bucket[{RATE}])))",
                "db {{operation}}",
            ),
            (
                f"histogram_quantile(0.95, sum by (le, command) "
                f"(rate(lanner_redis_command_duration_seconds_bucket[{RATE}])))",
                "redis {{command}}",
            ),
        ],
        12,
    ),
    (
        "SLA breaches",
        "table",
        "short",
        [
            (
                f"sum by (namespace, flow, behaviour) (increase(lanner_sla_breaches_total{{{NS}}}[{RANGE}]))",
                "{{namespace}}/{{flow}} {{behaviour}}",
            )
        ],
        12,
    ),
    (
        "Processes",
        "table",
        "short",
        [("count by (process, version) (lanner_process_info)", "{{process}} {{version}}")],
        12,
    ),
]


def panel(number: int, x: int, y: int, title: str, kind: str, unit: str, queries, width: int) -> dict:
    return {
        "id": number,
        "type": kind,
        "title": title,
        "datasource": {"type": "prometheus", "uid": "prometheus"},
        "gridPos": {"h": 8, "w": width, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {},
        "targets": [
            {
                "refId": chr(ord("A") + index),
                "datasource": {"type": "prometheus", "uid": "prometheus"},
                "expr": expr,
                "legendFormat": legend,
                **({"instant": True, "format": "table"} if kind in ("table", "piechart", "stat") else {}),
            }
            for index, (expr, legend) in enumerate(queries)
        ],
    }


def dashboard() -> dict:
    panels, x, y = [], 0, 0
    for number, (title, kind, unit, queries, width) in enumerate(PANELS, 1):
        if x + width > 24:
            x, y = 0, y + 8
        panels.append(panel(number, x, y, title, kind, unit, queries, width))
        x += width
    return {
        "uid": "lanner",
        "title": "Lanner",
        "tags": ["lanner"],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {
            "list": [
                {
                    "name": "namespace",
                    "label": "Namespace",
                    "type": "query",
                    "datasource": {"type": "prometheus", "uid": "prometheus"},
                    "query": "label_values(lanner_executions_started_total, namespace)",
                    "includeAll": True,
                    "allValue": ".*",
                    "multi": True,
                    "current": {"text": "All", "value": "$__all"},
                    "refresh": 2,
                }
            ]
        },
        "panels": panels,
    }


if __name__ == "__main__":
    target = Path(__file__).parent / "grafana" / "dashboards" / "lanner.json"
    target.write_text(json.dumps(dashboard(), indent=2) + "\n")
    print(f"wrote {target}")
