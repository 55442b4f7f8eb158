"""A real HTTP server on a free port recording the requests it receives, as a chat service's webhook would."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Recorder:
    """What the server received, one entry per request: method, path, headers, json (or None) and raw body.

    A path ending in ``/status/<code>`` is answered with that code and the body ``refused <code>``; any other
    with 200 ``ok`` (``answer`` changes the code and body of those)."""

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    answer: tuple[int, bytes] = (200, b"ok")

    @property
    def bodies(self) -> list[Any]:
        return [request["json"] for request in self.requests]


class _Handler(BaseHTTPRequestHandler):
    def _record(self) -> None:
        recorder: Recorder = self.server.recorder  # type: ignore[attr-defined]
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        recorder.requests.append(
            {"method": self.command, "path": self.path, "headers": dict(self.headers), "json": body, "raw": raw}
        )
        code, answer = recorder.answer
        if "/status/" in self.path:
            code = int(self.path.rsplit("/status/", 1)[1].split("/")[0])
            answer = f"refused {code}".encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(answer) if code != 204 else 0))
        self.end_headers()
        if code != 204:
            self.wfile.write(answer)

    do_POST = do_PUT = do_PATCH = _record

    def log_message(self, *args: Any) -> None:  # silence
        pass


@contextmanager
def webhook_server() -> Iterator[Recorder]:
    """Serve on 127.0.0.1 (a thread) until the block ends; the recorder fills as requests arrive."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.recorder = Recorder(f"http://127.0.0.1:{server.server_address[1]}")  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.recorder  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
