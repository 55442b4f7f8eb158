"""HTTP request task."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, model_validator

from engine.config import load_settings
from engine.flows.spec import Computed
from engine.tasks.base import Group, Task, registry
from engine.tasks.context import RunContext, TaskFailed


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
    """Raw text to send; use only one of body, json and formData."""
    json_body: Any = Field(default=None, alias="json")
    """Data sent as JSON; use only one of body, json and formData."""
    form_data: dict[str, str] | None = None
    """Fields sent as a web form; use only one of body, json and formData."""
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

    def run(self, ctx: RunContext) -> dict[str, Any]:
        import httpx

        timeout = ctx.remaining() or 60.0
        limit = load_settings().max_output_bytes
        try:
            with (
                httpx.Client(follow_redirects=self.follow_redirects, timeout=timeout) as client,
                client.stream(
                    self.method.value,
                    self.uri,
                    headers=self.headers,
                    content=self.body,
                    json=self.json_body,
                    data=self.form_data,
                ) as response,
            ):
                content = _read_at_most(response, limit)
        except httpx.HTTPError as exc:
            raise TaskFailed(f"{self.method.value} {self.uri} failed: {exc}") from None
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
        given = [
            name
            for name, v in (("body", self.body), ("json", self.json_body), ("formData", self.form_data))
            if v is not None
        ]
        if len(given) > 1:
            raise ValueError(f"give only one of body, json and formData (got {', '.join(given)})")
        return self


def _read_at_most(response: Any, limit: int) -> bytes | None:
    """The response body, or None as soon as it passes ``limit`` bytes (the rest is never read)."""
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
