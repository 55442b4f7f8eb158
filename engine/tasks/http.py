"""HTTP request task."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, model_validator

from engine.runtime import RunContext, TaskFailed
from engine.spec import Computed
from engine.tasks.base import Group, Task, registry


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

    def run(self, ctx: RunContext) -> dict[str, Any]:
        import httpx

        timeout = ctx.remaining() or 60.0
        try:
            with httpx.Client(follow_redirects=self.follow_redirects, timeout=timeout) as client:
                response = client.request(
                    self.method.value,
                    self.uri,
                    headers=self.headers,
                    content=self.body,
                    json=self.json_body,
                    data=self.form_data,
                )
        except httpx.HTTPError as exc:
            raise TaskFailed(f"{self.method.value} {self.uri} failed: {exc}") from None
        ctx.log("INFO", f"{self.method.value} {self.uri} -> {response.status_code}")
        try:
            body_json = response.json() if "json" in response.headers.get("content-type", "") else None
        except ValueError:
            body_json = None
        outputs = {
            "code": response.status_code,
            "headers": dict(response.headers),
            "body": response.text,
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
