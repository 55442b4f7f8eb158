"""http.download and http.request's bodyFile against a real local HTTP server: files streamed in and out."""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import json
import threading
from collections.abc import Iterator

import pytest

from engine.storage import Address
from engine.tasks.context import TaskFailed
from engine.tasks.http import download_name

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB, every byte value


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/missing":
            self.send_response(404)
            self.end_headers()
            self.wfile.write(b"no such file")
            return
        self.send_response(200)
        if self.path.startswith("/named"):
            self.send_header("Content-Disposition", 'attachment; filename="../../rates 2026.csv"')
        if self.path != "/unannounced":
            self.send_header("Content-Length", str(len(PAYLOAD)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client stopped reading (maxSize)
            self.wfile.write(PAYLOAD)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/redirect":
            self.send_response(307)
            self.send_header("Location", "/upload")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        answer = json.dumps(
            {"size": len(body), "sha256": hashlib.sha256(body).hexdigest(), "type": self.headers["Content-Type"]}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *_args) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_a_download_is_stored_whole_under_the_urls_name(run_task, context, server):
    outputs = run_task("http.download", uri=f"{server}/files/rates.csv?day=1")
    assert outputs["code"] == 200 and outputs["size"] == len(PAYLOAD)
    assert outputs["uri"].endswith("/rates.csv")
    assert context.storage.read(Address.parse(outputs["uri"])) == PAYLOAD
    assert not list(context.workdir.glob(".lanner-download*"))


def test_a_download_takes_the_servers_name_made_safe_or_the_given_one(run_task, server):
    assert run_task("http.download", uri=f"{server}/named")["uri"].endswith("/1/rates_2026.csv")
    assert run_task("http.download", uri=f"{server}/named", fileName="in/day.csv")["uri"].endswith("/in/day.csv")


def test_download_names():
    assert download_name(None, "https://x.org/a/b/") == "b"
    assert download_name(None, "https://x.org/") == "download"
    assert download_name("attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf", "https://x.org/y") == "r_sum_.pdf"
    assert download_name('attachment; filename="..\\\\..\\\\evil.sh"', "https://x.org/y") == "evil.sh"
    assert download_name(None, "https://x.org/%2E%2E") == "download"


def test_a_download_over_max_size_fails_and_keeps_nothing(run_task, context, server):
    with pytest.raises(TaskFailed, match="more than maxSize 1,000"):
        run_task("http.download", uri=f"{server}/big.bin", maxSize=1000)
    with pytest.raises(TaskFailed, match="more than maxSize 1,000 bytes"):
        run_task("http.download", uri=f"{server}/unannounced", maxSize=1000)
    assert context.storage.files("acme", "flow", "execution") == []
    assert not list(context.workdir.glob(".lanner-download*"))


def test_an_unexpected_status_fails_with_the_code(run_task, context, server):
    with pytest.raises(TaskFailed, match="answered 404: nothing was kept") as failure:
        run_task("http.download", uri=f"{server}/missing")
    assert failure.value.outputs["code"] == 404
    outputs = run_task("http.download", uri=f"{server}/missing", expectedStatus=[404], fileName="missing.txt")
    assert context.storage.read(Address.parse(outputs["uri"])) == b"no such file"


def test_a_body_file_is_streamed_as_the_request_body(run_task, context, server, tmp_path):
    source = tmp_path / "orders.csv"
    source.write_bytes(PAYLOAD)
    address = "lanner://acme/flow/earlier/extract/1/orders.csv"
    context.storage.put(Address.parse(address), source)
    outputs = run_task("http.request", uri=f"{server}/upload", method="POST", bodyFile=address)
    assert outputs["json"] == {"size": len(PAYLOAD), "sha256": hashlib.sha256(PAYLOAD).hexdigest(), "type": "text/csv"}
    typed = run_task(
        "http.request", uri=f"{server}/upload", method="POST", bodyFile=address, headers={"content-type": "x/y"}
    )
    assert typed["json"]["type"] == "x/y" and typed["json"]["size"] == len(PAYLOAD)


def test_a_body_file_is_checked(run_task, server):
    with pytest.raises(ValueError, match="only one of body, json, formData and bodyFile"):
        run_task("http.request", uri=server, method="POST", body="x", bodyFile="lanner://acme/f/e/t/1/a.csv")
    with pytest.raises(TaskFailed, match="does not exist"):
        run_task("http.request", uri=server, method="POST", bodyFile="lanner://acme/f/e/t/1/a.csv")
    with pytest.raises(TaskFailed, match="reads only its own namespace"):
        run_task("http.request", uri=server, method="POST", bodyFile="lanner://other/f/e/t/1/a.csv")


def test_a_body_file_is_not_resent_to_a_redirection(run_task, context, server, tmp_path):
    """A streamed body cannot be read twice: a 307 answer fails the task with a message, not a traceback."""
    source = tmp_path / "a.csv"
    source.write_text("a\n1\n")
    address = "lanner://acme/flow/earlier/extract/1/a.csv"
    context.storage.put(Address.parse(address), source)
    with pytest.raises(TaskFailed, match="failed: Stream"):
        run_task("http.request", uri=f"{server}/redirect", method="POST", bodyFile=address)
