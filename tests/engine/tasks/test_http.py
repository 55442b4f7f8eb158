"""The HTTP task against a real local HTTP server."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest

from engine.tasks.context import TaskFailed

SENT: dict[str, int] = {}


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        size = int(self.path.strip("/") or 0)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        body = b'{"a": "' + b"x" * size + b'"}'
        try:
            for start in range(0, len(body), 65536):
                self.wfile.write(body[start : start + 65536])
                SENT[self.path] = start + 65536
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading: what the size test wants

    def log_message(self, *_args) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_a_json_body_is_decoded(run_task, server):
    outputs = run_task("http.request", uri=f"{server}/3")
    assert outputs["code"] == 200
    assert outputs["json"] == {"a": "xxx"}
    assert outputs["body"] == '{"a": "xxx"}'


def test_a_body_over_the_output_limit_fails_without_being_read_whole(run_task, server, monkeypatch):
    """Issue 12 (bounded resources): a 50 MB answer was loaded whole into the worker before the output cap."""
    monkeypatch.setenv("LANNER_MAX_OUTPUT_BYTES", "100000")
    with pytest.raises(TaskFailed, match=r"more than 100,000 bytes.*LANNER_MAX_OUTPUT_BYTES"):
        run_task("http.request", uri=f"{server}/50000000")
    assert SENT["/50000000"] < 20_000_000  # the server was cut off long before the end
