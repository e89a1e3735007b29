"""A request as data: what is sent where, built by pure code and tested by its fields.

Each protocol's module builds its `HttpRequest`s with these; `sending` sends them, and "Show the
code" writes the same ones out unsent. The headers carry the token, so they stay out of `repr`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from studio.endpoint import Endpoint

JSON = "application/json"


@dataclass(frozen=True)
class HttpRequest:
    """A request as data, so that building it can be tested without a network."""

    url: str
    json: Any = None
    data: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    method: str = "POST"  # or GET: a lookup, a poll, a picture to fetch


def auth_headers(endpoint: Endpoint, *, accept: str = JSON) -> dict[str, str]:
    """`Accept` and, when there is a token, `Authorization: Bearer`. Servers such as the
    inference toolkit match Accept as an exact string, so it is one type, never a list."""
    headers = {"Accept": accept}
    if endpoint.token:
        headers["Authorization"] = f"Bearer {endpoint.token}"
    return headers


def json_request(endpoint: Endpoint, url: str, body: Any, *, accept: str = JSON) -> HttpRequest:
    """A request whose body is JSON."""
    headers = {**auth_headers(endpoint, accept=accept), "Content-Type": JSON}
    return HttpRequest(url=url, json=body, headers=headers)


def at_path(endpoint: Endpoint, path: str, body: Any) -> HttpRequest:
    """A JSON request to a path under the endpoint's base URL (chat servers)."""
    return json_request(endpoint, endpoint.url.rstrip("/") + path, body)
