"""A real Prometheus (Debian's ``prometheus`` package, `make prometheus`) scraping given targets every second,
on a free port with its own data folder, and the queries of monitoring/ (dashboard and alert rules)."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import yaml

from engine.runtime.children import terminate
from tests.support import ROOT
from tests.support.ports import free_port

MONITORING = ROOT / "monitoring"
PROMETHEUS = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")
MISSING = "Prometheus is not installed (Debian's `prometheus` package: `make prometheus` installs it as root)"
# What Grafana puts in place of its variables when it sends the dashboard's queries
GRAFANA_VARIABLES = {"$__rate_interval": "15s", "$__range": "10m", "$namespace": ".*"}


class Prometheus:
    def __init__(self, url: str) -> None:
        self.url = url
        self.client = httpx.Client(base_url=url, timeout=10)

    def query(self, expr: str) -> list[dict]:
        """The instant vector ``expr`` gives now (an error of Prometheus fails the test, with the query)."""
        answer = self.client.get("/api/v1/query", params={"query": expr}).json()
        assert answer["status"] == "success", f"{expr}: {answer}"
        return answer["data"]["result"]

    def value(self, expr: str) -> float | None:
        """The single value of ``expr``, or None when it gives no series."""
        result = self.query(expr)
        assert len(result) <= 1, f"{expr} gave several series: {result}"
        return float(result[0]["value"][1]) if result else None

    def wait_for(self, expr: str, expected: float, seconds: float = 30.0) -> None:
        deadline, seen = time.monotonic() + seconds, None
        while time.monotonic() < deadline:
            seen = self.value(expr)
            if seen == expected:
                return
            time.sleep(0.5)
        raise AssertionError(f"{expr} = {seen}, not {expected}; targets: {self.targets()}")

    def targets(self) -> list[tuple[str, str, str]]:
        answer = self.client.get("/api/v1/targets").json()["data"]["activeTargets"]
        return [(t["labels"]["job"], t["health"], t.get("lastError", "")) for t in answer]


@contextlib.contextmanager
def prometheus(folder: Path, targets: dict[str, str]) -> Iterator[Prometheus]:
    """Prometheus scraping ``targets`` (job name -> host:port) every second, with monitoring/alerts.yml loaded."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(MONITORING / "alerts.yml", folder / "alerts.yml")
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": ["alerts.yml"],
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": [target]}]} for job, target in targets.items()
        ],
    }
    (folder / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    log = open(folder / "prometheus.log", "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={folder / 'prometheus.yml'}",
            f"--storage.tsdb.path={folder / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=1h",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/-/ready", timeout=2).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Prometheus did not start:\n{(folder / 'prometheus.log').read_text()[-3000:]}")
            time.sleep(0.2)
        yield Prometheus(url)
    finally:
        terminate(process)
        log.close()


def dashboard_queries() -> list[tuple[str, str]]:
    """(panel title, query) of every target of the Grafana dashboard, Grafana's variables filled in."""
    dashboard = json.loads((MONITORING / "grafana" / "dashboards" / "lanner.json").read_text())
    found = []
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            expr = target["expr"]
            for variable, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, value)
            assert "$" not in expr, f"{panel['title']}: a Grafana variable the tests do not know: {expr}"
            found.append((panel["title"], expr))
    return found


def alert_rules() -> dict[str, str]:
    """Alert name -> expression, from monitoring/alerts.yml."""
    rules = yaml.safe_load((MONITORING / "alerts.yml").read_text())
    return {rule["alert"]: rule["expr"] for group in rules["groups"] for rule in group["rules"] if "alert" in rule}


def metric_names(expr: str) -> set[str]:
    """The lanner_* series an expression reads (a histogram's _bucket, _sum and _count included)."""
    return set(re.findall(r"\blanner_[a-z_]+", expr))
