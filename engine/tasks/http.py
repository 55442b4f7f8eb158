"""HTTP tasks: a request (whose body may be a stored file) and a download into a stored file, both streamed."""

from __future__ import annotations

import email.message
import json
import mimetypes
import os
import re
import tempfile
import urllib.parse
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, model_validator

from engine.config import load_settings
from engine.flows.spec import Computed
from engine.storage.base import FileMissing, StorageUnavailable
from engine.tasks.base import Group, Task, registry
from engine.tasks.context import RunContext, TaskFailed
from engine.tasks.files import readable


class HttpMethod(StrEnum):
    GET = "GET"
    POST = "POST"
    PUT = "PUT"
    PATCH = "PATCH"
    DELETE = "DELETE"
    HEAD = "HEAD"
    OPTIONS = "OPTIONS"


@registry.register
class HttpRequest(Task):
    type: Literal["http.request"]
    uri: Annotated[str, Field(min_length=1)]
    """The address to call, e.g. https://api.example.com/orders."""
    method: Computed[HttpMethod] = HttpMethod.GET
    """GET reads, POST sends, PUT/PATCH update, DELETE removes."""
    headers: dict[str, str] = Field(default_factory=dict)
    """Extra request headers, e.g. Authorization."""
    body: str | None = None
    """Raw text to send; use only one of body, json, formData and bodyFile."""
    json_body: Any = Field(default=None, alias="json")
    """Data sent as JSON; use only one of body, json, formData and bodyFile."""
    form_data: dict[str, str] | None = None
    """Fields sent as a web form; use only one of body, json, formData and bodyFile."""
    body_file: str | None = None
    """A stored file (lanner:// address) sent as the body, streamed; use only one of body, json, formData and
    bodyFile."""
    expected_status: list[Computed[Annotated[int, Field(ge=100, le=599)]]] | None = None
    """Status codes that count as success; by default any 2xx."""
    follow_redirects: Computed[bool] = True
    """Follow redirections to another address."""

    title: ClassVar[str] = "HTTP request"
    summary: ClassVar[str] = "Call a URL; outputs the status code, headers and body."
    group: ClassVar[Group] = Group.HTTP
    icon: ClassVar[str] = "globe"
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {"uri": "https://api.example.com/orders?day={{ inputs.day }}"},
        {
            "uri": "https://api.example.com/orders",
            "method": "POST",
            "headers": {"Authorization": "Bearer {{ secret('API_TOKEN') }}"},
            "json": {"day": "{{ inputs.day }}"},
            "expectedStatus": [200, 201],
        },
    )
    output_fields: ClassVar[dict[str, str]] = {
        "code": "The HTTP status code.",
        "headers": "The answer's headers.",
        "body": "The answer's body, as text.",
        "json": "The body parsed as JSON (when the answer is JSON), else null.",
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        import httpx

        timeout = ctx.remaining() or 60.0
        limit = load_settings().max_output_bytes
        headers, content = dict(self.headers), self.body
        if self.body_file is not None:
            headers, content = file_body(ctx, self.body_file, headers)
        try:
            with (
                httpx.Client(follow_redirects=self.follow_redirects, timeout=timeout) as client,
                client.stream(
                    self.method.value,
                    self.uri,
                    headers=headers,
                    content=content,
                    json=self.json_body,
                    data=self.form_data,
                ) as response,
            ):
                content = _read_at_most(response, limit)
        except (httpx.HTTPError, httpx.StreamError) as exc:  # StreamError: a redirection cannot resend a bodyFile
            raise TaskFailed(f"{self.method.value} {self.uri} failed: {type(exc).__name__}: {exc}") from None
        ctx.log("INFO", f"{self.method.value} {self.uri} -> {response.status_code}")
        if content is None:  # the body alone is over the limit: it is never held whole in memory
            raise TaskFailed(
                f"{self.method.value} {self.uri} -> {response.status_code}: the body is more than {limit:,} bytes, "
                "the limit of an output value (LANNER_MAX_OUTPUT_BYTES)"
            )
        text = content.decode(response.encoding or "utf-8", errors="replace")
        try:
            body_json = json.loads(text) if "json" in response.headers.get("content-type", "") else None
        except ValueError:
            body_json = None
        outputs = {
            "code": response.status_code,
            "headers": dict(response.headers),
            "body": text,
            "json": body_json,
        }
        expected = self.expected_status or list(range(200, 300))
        if response.status_code not in expected:
            raise TaskFailed(f"{self.method.value} {self.uri} answered {response.status_code}", outputs)
        return outputs

    @model_validator(mode="after")
    def _one_body(self) -> HttpRequest:
        bodies = (
            ("body", self.body),
            ("json", self.json_body),
            ("formData", self.form_data),
            ("bodyFile", self.body_file),
        )
        given = [name for name, v in bodies if v is not None]
        if len(given) > 1:
            raise ValueError(f"give only one of body, json, formData and bodyFile (got {', '.join(given)})")
        return self


@registry.register
class HttpDownload(Task):
    type: Literal["http.download"]
    uri: Annotated[str, Field(min_length=1)]
    """The address of the file to download, e.g. https://files.example.com/rates/2026-11-28.csv."""
    method: Computed[HttpMethod] = HttpMethod.GET
    """Usually GET; some services give a file in answer to a POST."""
    headers: dict[str, str] = Field(default_factory=dict)
    """Extra request headers, e.g. Authorization."""
    expected_status: list[Computed[Annotated[int, Field(ge=100, le=599)]]] | None = None
    """Status codes that count as success; by default any 2xx. Nothing is kept otherwise."""
    file_name: str | None = None
    """Name of the stored file; by default the one the server gives (Content-Disposition), else the address' last
    part."""
    max_size: Computed[Annotated[int, Field(ge=1)]] | None = None
    """Fail when the file is larger than this many bytes (checked as it arrives); empty: no limit."""
    follow_redirects: Computed[bool] = True
    """Follow redirections to another address."""

    title: ClassVar[str] = "HTTP download"
    summary: ClassVar[str] = "Download a URL into a stored file; outputs its lanner:// address and size."
    group: ClassVar[Group] = Group.HTTP
    icon: ClassVar[str] = "globe"
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {"uri": "https://files.example.com/rates/{{ trigger.date }}.csv", "maxSize": 100000000},
        {
            "uri": "https://api.example.com/exports/orders",
            "headers": {"Authorization": "Bearer {{ secret('API_TOKEN') }}"},
            "fileName": "orders.jsonl",
        },
    )
    output_fields: ClassVar[dict[str, str]] = {
        "uri": "The lanner:// address of the stored file.",
        "size": "Its size in bytes.",
        "code": "The HTTP status code.",
        "headers": "The answer's headers.",
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        where = f"{self.method.value} {self.uri}"
        handle, temporary = tempfile.mkstemp(prefix=".lanner-download-", dir=ctx.workdir)
        os.close(handle)
        local = Path(temporary)
        try:
            size, name, outputs = self._fetch(ctx, local, where)
            uri = ctx.store_file(local, self.file_name or name)
        finally:
            local.unlink(missing_ok=True)  # a partial download never stays behind
        ctx.log("INFO", f"{where} -> {outputs['code']}, {size:,} bytes -> {uri}")
        return {"uri": uri, "size": size, **outputs}

    def _fetch(self, ctx: RunContext, local: Path, where: str) -> tuple[int, str, dict[str, Any]]:
        """Stream the answer into ``local``: its size, the file name the server gives, the code and headers."""
        import httpx

        size = 0
        try:
            with (
                httpx.Client(follow_redirects=self.follow_redirects, timeout=ctx.remaining() or 60.0) as client,
                client.stream(self.method.value, self.uri, headers=self.headers) as response,
            ):
                outputs = {"code": response.status_code, "headers": dict(response.headers)}
                if response.status_code not in (self.expected_status or range(200, 300)):
                    raise TaskFailed(f"{where} answered {response.status_code}: nothing was kept", outputs)
                announced = response.headers.get("content-length", "")
                if self.max_size and announced.isdigit() and int(announced) > self.max_size:
                    raise TaskFailed(
                        f"{where}: the file is {int(announced):,} bytes, more than maxSize {self.max_size:,}"
                    )
                with local.open("wb") as handle:
                    for chunk in response.iter_bytes():
                        size += len(chunk)
                        if self.max_size and size > self.max_size:
                            raise TaskFailed(f"{where}: the file is more than maxSize {self.max_size:,} bytes")
                        handle.write(chunk)
                        ctx.check()
                name = download_name(response.headers.get("content-disposition"), str(response.url))
        except httpx.HTTPError as exc:
            raise TaskFailed(f"{where} failed: {exc}") from None
        return size, name, outputs


def download_name(disposition: str | None, url: str) -> str:
    """A safe file name for a download: the server's (Content-Disposition), else the URL's last part, else
    "download"; only its last part is kept and characters other than letters, digits, ``._-`` become ``_``."""
    name = None
    if disposition:
        message = email.message.Message()
        message["content-disposition"] = disposition
        name = message.get_filename()
    if not name:
        name = urllib.parse.unquote(urllib.parse.urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1])
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", name.replace("\\", "/").rsplit("/", 1)[-1]).lstrip("._")[:200]
    return name or "download"


def file_body(ctx: RunContext, text: str, headers: dict[str, str]) -> tuple[dict[str, str], Iterator[bytes]]:
    """The request headers (with the file's length, and a content type guessed from its name unless given) and
    the stored file's bytes as they are read: a large file is sent without being held in memory."""
    address = readable(ctx, text)
    storage = ctx.storage
    try:
        size = storage.size(address)  # type: ignore[union-attr]
    except FileMissing:
        raise TaskFailed(f"bodyFile {text} does not exist (never written, or deleted with its execution)") from None
    except StorageUnavailable as exc:
        raise TaskFailed(f"bodyFile {text}: {exc}") from None
    given = {name.lower() for name in headers}
    headers = dict(headers)
    if "content-length" not in given:
        headers["Content-Length"] = str(size)
    if "content-type" not in given:
        headers["Content-Type"] = mimetypes.guess_type(address.name)[0] or "application/octet-stream"
    return headers, storage.chunks(address)  # type: ignore[union-attr]


def _read_at_most(response: Any, limit: int) -> bytes | None:
    """The response body, or None as soon as it passes ``limit`` bytes (the rest is never read)."""
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
