"""A small client of Lanner's REST API, for the command line run away from the server (``--server``).

It speaks only what ``lanner`` needs: deploy and read flows, start, list, read, kill and follow executions.
Every refusal of the server (401, 403, 404, 409, 422...) becomes a ``ServerError`` carrying the server's own
message, so the command line prints one ``error:`` line, never a traceback.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from engine.core.states import State

API_PREFIX = "/api/v1"
RECONNECTS = 5  # a dropped live stream is resumed from its last line this many times in a row


class ServerError(Exception):
    """The server refused, or could not be reached; ``str()`` is the message to show."""

    def __init__(self, message: str, status: int | None = None, details: dict | None = None) -> None:
        super().__init__(message)
        self.status, self.details = status, details or {}


@dataclass(frozen=True)
class RemoteLogLine:
    """A log line from the live stream, with the fields the command line prints (as a stored LogLine has)."""

    id: int
    timestamp: dt.datetime
    level: str
    task_id: str | None
    message: str


def _path(*parts: str) -> str:
    return "/".join(quote(part, safe="") for part in parts)


def _base_url(server: str) -> str:
    """``https://lanner.example.com`` or ``.../api/v1``: both name the same API."""
    url = server.strip().rstrip("/")
    if "://" not in url:
        url = "http://" + url
    return url if url.endswith(API_PREFIX) else url + API_PREFIX


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return f"the server answered {response.status_code} {response.reason_phrase}".strip()


class Client:
    def __init__(self, server: str, token: str | None = None, *, timeout: float = 60.0) -> None:
        self.base_url = _base_url(server)
        headers = {"Authorization": f"Bearer {token.strip()}"} if token and token.strip() else {}
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _request(self, method: str, path: str, **options: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **options)
        except httpx.TransportError as exc:
            raise ServerError(f"cannot reach {self.base_url}: {exc}") from None
        if response.status_code >= 400:
            details = {}
            try:
                body = response.json()
                details = body if isinstance(body, dict) else {}
            except ValueError:
                pass
            raise ServerError(_message(response), response.status_code, details)
        return response

    # --- flows ----------------------------------------------------------------------------------

    def deploy(self, source: str) -> dict[str, Any]:
        """Save a flow's YAML source; the answer has ``status`` (created, updated, unchanged) and ``message``."""
        headers = {"content-type": "application/x-yaml"}
        return self._request("POST", "/flows", content=source.encode("utf-8"), headers=headers).json()

    def blueprints(self) -> list[dict[str, Any]]:
        """The server's blueprint gallery (without the YAML)."""
        return self._request("GET", "/blueprints").json()

    def use_blueprint(self, blueprint_id: str, namespace: str, flow_id: str) -> dict[str, Any]:
        """Create ``namespace``/``flow_id`` from a blueprint; answers as ``deploy`` does."""
        path = "/blueprints/" + _path(blueprint_id) + "/use"
        return self._request("POST", path, json={"namespace": namespace, "id": flow_id}).json()

    def flows(self, namespace: str | None = None) -> list[dict[str, Any]]:
        """Every flow the token may read (of ``namespace`` and those below it), page by page."""
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            params: dict[str, Any] = {"page": page, "size": 500}
            if namespace:
                params["namespace"] = namespace
            body = self._request("GET", "/flows", params=params).json()
            found += body["results"]
            if not body["results"] or len(found) >= body["total"]:
                return found
            page += 1

    def flow_source(self, namespace: str, flow_id: str, revision: int | None = None) -> str:
        if revision is None:
            path = "/flows/" + _path(namespace, flow_id)
            return self._request("GET", path, headers={"accept": "application/x-yaml"}).text
        return self._request("GET", f"/flows/{_path(namespace, flow_id)}/revisions/{revision}").text

    # --- executions -----------------------------------------------------------------------------

    def trigger(
        self,
        namespace: str,
        flow_id: str,
        inputs: dict[str, Any],
        labels: dict[str, str],
        files: dict[str, Path] | None = None,
    ) -> dict[str, Any]:
        """Start a run; ``files`` (FILE inputs, local paths) are uploaded with the inputs as multipart/form-data."""
        path = "/executions/trigger/" + _path(namespace, flow_id)
        if not files:
            return self._request("POST", path, json={"inputs": inputs, "labels": labels}).json()
        fields = {k: str(v) for k, v in inputs.items() if k not in files}
        fields |= {f"label.{k}": v for k, v in labels.items()}
        with contextlib.ExitStack() as stack:
            sent = {k: (p.name, stack.enter_context(p.open("rb"))) for k, p in files.items()}
            return self._request("POST", path, data=fields, files=sent).json()

    def executions(
        self, namespace: str | None = None, flow_id: str | None = None, state: str | None = None, limit: int = 20
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"size": max(1, min(limit, 500))}
        if namespace:
            params["namespace"] = namespace
        if flow_id:
            params["flowId"] = flow_id
        if state:
            params["state"] = state.upper()
        return self._request("GET", "/executions", params=params).json()["results"][:limit]

    def execution(self, execution_id: str) -> dict[str, Any]:
        return self._request("GET", "/executions/" + _path(execution_id)).json()

    def purge(
        self, older_than: str, *, namespace: str | None = None, flow_id: str | None = None, dry_run: bool = False
    ) -> dict[str, Any]:
        """Delete (or with ``dry_run`` count) ended executions older than ``older_than``: how many of each."""
        params: dict[str, Any] = {"olderThan": older_than, "dryRun": str(dry_run).lower()}
        if namespace:
            params["namespace"] = namespace
        if flow_id:
            params["flowId"] = flow_id
        return self._request("POST", "/executions/purge", params=params).json()

    def kill(self, execution_id: str) -> dict[str, Any]:
        return self._request("POST", f"/executions/{_path(execution_id)}/kill").json()

    def follow(self, execution_id: str, *, timeout: float | None = None) -> Iterator[RemoteLogLine | State]:
        """Log lines and state changes from the server's live stream (SSE), until the execution ends.

        A dropped connection is resumed from the last line seen (``Last-Event-ID``): nothing is lost or
        repeated, as with the local ``engine.runtime.follow.follow``.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        last_id: str | None = None
        failures = 0
        while True:
            headers = {"accept": "text/event-stream"}
            if last_id is not None:
                headers["last-event-id"] = last_id
            try:
                with self._http.stream("GET", f"/executions/{_path(execution_id)}/follow", headers=headers) as response:
                    if response.status_code >= 400:
                        response.read()
                        raise ServerError(_message(response), response.status_code)
                    for event, data, event_id in _events(response.iter_lines(), execution_id, deadline):
                        failures = 0
                        last_id = event_id or last_id
                        if event == "log":
                            yield _log_line(data, event_id)
                        elif event == "state":
                            yield State(data["state"])
                        elif event == "end":
                            return
                        elif event == "error":
                            raise ServerError(str(data.get("message", "the live stream ended with an error")))
            except httpx.TransportError as exc:
                failures += 1
                if failures > RECONNECTS:
                    raise ServerError(f"lost the live stream of execution {execution_id}: {exc}") from None
                time.sleep(min(0.2 * failures, 2.0))
                continue
            # The server closed the stream without an "end" (restarted behind a proxy?): resume it.
            failures += 1
            if failures > RECONNECTS:
                raise ServerError(f"the live stream of execution {execution_id} kept closing early")


def _events(
    lines: Iterator[str], execution_id: str, deadline: float | None
) -> Iterator[tuple[str, dict[str, Any], str | None]]:
    """Server-Sent Events as (event, JSON data, id); comments (keep-alives) only give the deadline a look."""
    event, data, event_id = "message", [], None
    for line in lines:
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(f"execution {execution_id} did not end in time")
        if not line:
            if data:
                yield event, json.loads("\n".join(data)), event_id
            event, data, event_id = "message", [], None
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "event":
            event = value
        elif field == "data":
            data.append(value)
        elif field == "id":
            event_id = value


def _log_line(data: dict[str, Any], event_id: str | None) -> RemoteLogLine:
    return RemoteLogLine(
        id=int(event_id or 0),
        timestamp=dt.datetime.fromisoformat(data["timestamp"]),
        level=str(data.get("level") or "INFO"),
        task_id=data.get("taskId"),
        message=str(data.get("message", "")),
    )
