"""The API served for real (``lanner api`` in its own process) in front of a running engine."""

from __future__ import annotations

import socket
import time

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def api(cluster):
    port = _free_port()
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
