"""The API served for real (``lanner api`` in its own process) in front of a running engine."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.conftest import free_port


@pytest.fixture
def api(cluster):
    port = free_port()
    cluster.start("api", "api", "--port", str(port))
    base = f"http://127.0.0.1:{port}/api/v1"
    client = httpx.Client(base_url=base, timeout=60)
    deadline = time.monotonic() + 30
    while True:
        try:
            if client.get("/namespaces").status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError((cluster.home / "api.log").read_text())
        time.sleep(0.1)
    client.cluster = cluster
    yield client
    client.close()
