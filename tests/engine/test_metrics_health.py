"""/health/live and /health/ready of the API and of an executor's management port, on a Redis server this test
starts and then stops: ready turns 503 with the reason, live stays 200."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from engine.runtime.connection import redis_server_binary
from tests.support.forks import start_lanner
from tests.support.ports import free_port

pytestmark = pytest.mark.slow


def _answer(url: str) -> tuple[int, dict]:
    response = httpx.get(url, timeout=10)
    return response.status_code, response.json()


def _eventually(url: str, status: int, seconds: float = 30) -> dict:
    deadline = time.monotonic() + seconds
    seen: tuple[int, dict] | str = "nothing"
    while time.monotonic() < deadline:
        try:
            seen = _answer(url)
            if seen[0] == status:
                return seen[1]
        except httpx.TransportError as exc:
            seen = str(exc)
        time.sleep(0.2)
    raise AssertionError(f"{url} answered {seen}, never {status}")


def test_ready_turns_503_when_redis_stops_and_live_stays_200(tmp_path: Path):
    redis_port = free_port()
    redis = subprocess.Popen(
        [redis_server_binary(), "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    api_port, executor_port = free_port(), free_port()
    env = {
        **os.environ,
        "LANNER_HOME": str(tmp_path / "home"),
        "LANNER_DATABASE_URL": f"sqlite:///{tmp_path / 'lanner.db'}",
        "LANNER_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "LANNER_METRICS_TOKEN": "token-of-this-test",
    }
    with open(tmp_path / "api.log", "ab") as api_log, open(tmp_path / "executor.log", "ab") as executor_log:
        processes = [
            start_lanner(["api", "--port", str(api_port)], env, stdout=api_log),
            start_lanner(["executor", "--metrics-port", str(executor_port)], env, stdout=executor_log),
        ]
    bases = [f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{executor_port}"]
    try:
        for base in bases:
            assert _eventually(f"{base}/health/ready", 200) == {"status": "ready"}
            assert _answer(f"{base}/health/live") == (200, {"status": "live"})
            # The series name namespaces and flows: with a token set, even this machine must send it.
            assert httpx.get(f"{base}/metrics").status_code == 401
            assert httpx.get(f"{base}/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
            scraped = httpx.get(f"{base}/metrics", headers={"Authorization": "Bearer token-of-this-test"})
            assert scraped.status_code == 200 and "lanner_process_info" in scraped.text
        redis.terminate()
        redis.wait(10)
        for base in bases:
            assert _eventually(f"{base}/health/ready", 503) == {"status": "not ready"}  # no driver text for all
            body = httpx.get(f"{base}/health/ready", headers={"Authorization": "Bearer token-of-this-test"}).json()
            assert body["status"] == "not ready"
            assert [reason for reason in body["reasons"] if reason.startswith("Redis is unreachable")], body
            assert _answer(f"{base}/health/live") == (200, {"status": "live"})
        assert httpx.get(f"{bases[1]}/nowhere").status_code == 404
    finally:
        for process in processes:
            os.killpg(process.pid, 9)
            process.wait(10)
        if redis.poll() is None:
            redis.kill()
