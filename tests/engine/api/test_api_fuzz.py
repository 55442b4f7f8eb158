"""Property-based fuzzing of the live API from its own OpenAPI document (schemathesis).

Every operation gets generated requests, valid and invalid; no answer may be a server error or break
the documented schema.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from tests.support.cluster import Cluster
from tests.support.ports import free_port

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def live_api(tmp_path_factory: pytest.TempPathFactory, redis_server: str):
    home = tmp_path_factory.mktemp("fuzz")
    cluster = Cluster(home, f"sqlite:///{home / 'lanner.db'}", redis_server)
    cluster.start_executor()
    cluster.start_workers(2)
    port = free_port()
    cluster.start("api", "api", "--port", str(port))
    base = f"http://127.0.0.1:{port}/api/v1"
    import time

    for _ in range(300):
        try:
            if httpx.get(f"{base}/namespaces").status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    # Fuzz as a signed-in administrator: every route's authorization runs, and nothing generated can turn
    # sign-in on half-way (creating the first user does that).
    admin = {"username": "fuzzadmin", "password": "a long enough password"}
    assert httpx.post(f"{base}/auth/setup", json=admin).status_code == 201
    session_cookie = httpx.post(f"{base}/auth/login", json=admin).cookies
    token = httpx.post(f"{base}/tokens", json={"name": "fuzz"}, cookies=session_cookie).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    for path in (ROOT / "examples").rglob("*.yml"):  # real flows, so some generated requests reach them
        httpx.post(
            f"{base}/flows", content=path.read_bytes(), headers={"content-type": "application/x-yaml", **headers}
        )
    yield base, headers
    cluster.stop()


def test_no_server_error_and_no_response_outside_the_schema(live_api: tuple[str, dict[str, str]]):
    live_api, headers = live_api
    # schemathesis's pytest plugin does not support pytest 9 yet: drive its Python API with hypothesis.
    schema = schemathesis.openapi.from_url(f"{live_api}/openapi.json")
    failures: dict[str, str] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20

    # Revoking a token could revoke the fuzzer's own (ids are small integers): covered by tests/engine/api.
    operations = [o for o in operations if (o.method.upper(), o.path) != ("DELETE", "/tokens/{token_id}")]
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def check(case) -> None:
            if case.query and "timeout" in case.query:
                case.query["timeout"] = 2  # keep ?wait=true calls short
            case.call_and_validate(
                checks=[not_a_server_error, response_schema_conformance], timeout=60, headers=headers
            )

        try:
            check()
        except Exception as exc:
            failures[f"{operation.method.upper()} {operation.path}"] = str(exc)[:2000]
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())
