"""The registry: protocol name -> backend, and the helpers every caller uses (see the package's
docstring for the map of protocols)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from typing import Any

from studio.backends.base import Backend, ChatRequest, Progress
from studio.backends.local import LocalBackend
from studio.backends.openai_chat import OpenAIChatBackend
from studio.backends.providers import ProvidersBackend
from studio.backends.task_api import TaskApiBackend
from studio.backends.tgi import TgiBackend
from studio.backends.transport import Cancel, Cancelled, HttpRequest
from studio.config import Endpoint
from studio.errors import ConfigurationError
from studio.tasks.chat import ChatSettings, Delta, Message

__all__ = [
    "BACKENDS",
    "Backend",
    "Cancel",
    "Cancelled",
    "ChatRequest",
    "backend_for",
    "chat_http_request",
    "chat_request",
    "get_completion",
    "register",
    "request_for",
    "setup_problem",
    "stream_chat",
]

BACKENDS: dict[str, Backend] = {
    backend.protocol: backend
    for backend in (
        TaskApiBackend(),
        OpenAIChatBackend(),
        TgiBackend(),
        ProvidersBackend(),
        LocalBackend(),
    )
}


def register(backend: Backend) -> Backend | None:
    """Serve `backend.protocol` with `backend`; answer the one it replaces (None if new)."""
    previous = BACKENDS.get(backend.protocol)
    BACKENDS[backend.protocol] = backend
    return previous


def backend_for(endpoint: Endpoint) -> Backend:
    backend = BACKENDS.get(endpoint.protocol)
    if backend is None:
        raise ConfigurationError(
            f"No backend speaks {endpoint.protocol!r}; the studio knows {', '.join(BACKENDS)}."
        )
    return backend


def get_completion(
    endpoint: Endpoint,
    inputs: Any,
    parameters: dict | None = None,
    *,
    content_type: str | None = None,
    progress: Progress | None = None,
) -> Any:
    """Ask the task's model; answer parsed JSON in the task API's shape, or `bytes` for an image.

    `progress` hears about slow steps a person should know of (a local model loading).
    """
    return backend_for(endpoint).complete(
        endpoint, inputs, parameters, content_type=content_type, progress=progress
    )


def request_for(
    endpoint: Endpoint,
    inputs: Any,
    parameters: dict | None = None,
    *,
    content_type: str | None = None,
) -> HttpRequest | None:
    """The HTTP request `get_completion` sends for these inputs, built by the same code and not
    sent (None for a model in this process): what "Show the code" shows."""
    return backend_for(endpoint).request_for(
        endpoint, inputs, parameters, content_type=content_type
    )


def chat_http_request(endpoint: Endpoint, request: ChatRequest) -> HttpRequest | None:
    """The HTTP request `stream_chat` sends for `request` (None for a model in this process)."""
    return backend_for(endpoint).chat_http_request(endpoint, request)


def chat_request(
    endpoint: Endpoint,
    messages: Sequence[Message],
    settings: ChatSettings,
    *,
    template: str | None = None,
) -> ChatRequest:
    """The request for the endpoint's protocol. `template` (default: the endpoint's) formats
    the prompt for servers that continue raw text."""
    if template is not None:
        endpoint = dataclasses.replace(endpoint, template=template)
    return backend_for(endpoint).chat_request(endpoint, messages, settings)


def stream_chat(
    endpoint: Endpoint,
    request: ChatRequest,
    cancel: Cancel | None = None,
    *,
    progress: Progress | None = None,
) -> Iterator[Delta]:
    """Send a chat request and yield the reply's pieces as they arrive.

    Closing this generator, or setting `cancel`, closes the upstream connection (or stops
    in-process generation): the server stops generating.
    """
    deltas = backend_for(endpoint).stream_chat(
        endpoint, request, cancel or Cancel(), progress=progress
    )
    return deltas if request.max_tokens is None else within(deltas, request.max_tokens)


# Servers stream about one token per piece, never fewer: a few pieces over the limit is a server
# that ignores it, not a difference in counting.
TOKEN_SLACK = 8


def within(deltas: Iterator[Delta], max_tokens: int) -> Iterator[Delta]:
    """The reply, ended with finish reason "length" (and the upstream closed) once it has run
    past `max_tokens` pieces: a server that ignores the limit would otherwise go on forever."""
    pieces = 0
    try:
        for delta in deltas:
            pieces += bool(delta.text)
            if pieces > max_tokens + TOKEN_SLACK:
                yield Delta("", "length")
                return
            yield delta
    finally:
        close = getattr(deltas, "close", None)
        if close is not None:
            close()


def setup_problem(endpoint: Endpoint, token: str | None) -> str | None:
    """Why this endpoint cannot work yet, in words that say what to set; None when it can."""
    return backend_for(endpoint).setup_problem(endpoint, token)
