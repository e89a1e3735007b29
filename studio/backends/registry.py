"""The registry: protocol name -> backend, which backend a setting selects, and the helpers every
caller uses (see the package's docstring for the map of protocols).

The order of `BACKENDS` is the order in which settings win: when two settings point one task at
servers of different kinds (a chat base URL and the course's URL), the earlier line's wins.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from studio.backends.base import Backend, Capabilities, ChatRequest, TaskRequest
from studio.backends.local import LocalBackend
from studio.backends.openai_chat import OpenAIChatBackend
from studio.backends.providers import ProvidersBackend
from studio.backends.task_api import TaskApiBackend
from studio.backends.tgi import TgiBackend
from studio.backends.transport import Cancel, HttpRequest
from studio.endpoint import Endpoint
from studio.errors import BackendError, ConfigurationError, PictureRefusedError, ValidationError
from studio.tasks.chat import ChatSettings, Delta, Message
from studio.tasks.chat_images import has_pictures
from studio.tasks.progress import Progress

__all__ = [
    "BACKENDS",
    "Backend",
    "Cancel",
    "ChatRequest",
    "TaskRequest",
    "backend_for",
    "capabilities",
    "chat_request",
    "get_completion",
    "in_process",
    "on_router",
    "register",
    "request",
    "server_settings",
    "setup_problem",
    "stream_chat",
]

BACKENDS: dict[str, Backend] = {
    backend.caps.protocol: backend
    for backend in (
        OpenAIChatBackend(),
        TgiBackend(),
        TaskApiBackend(),
        ProvidersBackend(),
        LocalBackend(),
    )
}


def register(backend: Backend) -> Backend | None:
    """Serve `backend.caps.protocol` with `backend`; answer the one it replaces (None if new)."""
    previous = BACKENDS.get(backend.caps.protocol)
    BACKENDS[backend.caps.protocol] = backend
    return previous


def backend_for(endpoint: Endpoint) -> Backend:
    backend = BACKENDS.get(endpoint.protocol)
    if backend is None:
        raise ConfigurationError(
            f"No backend speaks {endpoint.protocol!r}; the studio knows {', '.join(BACKENDS)}."
        )
    return backend


def capabilities(endpoint: Endpoint) -> Capabilities:
    """What the endpoint's backend can do and says (see `base.Capabilities`)."""
    return backend_for(endpoint).caps


# --- which backend a setting selects (asked by the configuration) -----------------------------


def server_settings(task: str) -> list[tuple[str, Backend]]:
    """The settings that point `task` at a server of one's own, each with the backend that
    speaks to it, in the order they win."""
    return [(b.caps.servers[task], b) for b in BACKENDS.values() if task in b.caps.servers]


def in_process(task: str) -> Backend:
    """The backend that runs `task` in this process (STUDIO_LOCAL, --local)."""
    for backend in BACKENDS.values():
        if backend.caps.in_process and task in backend.caps.tasks:
            return backend
    raise ConfigurationError(f"The studio cannot run {task} on this computer.")


def on_router(task: str, provider: str) -> Backend:
    """The backend that asks the router for `task` through `provider` ("" for the router's own
    choice): the one whose route names that provider, else one that takes any it is given."""
    serving = [b for b in BACKENDS.values() if b.caps.router and task in b.caps.tasks]
    named = [b for b in serving if b.caps.router.provider == provider]
    anyone = [b for b in serving if b.caps.router.provider is None and provider]
    for backend in named + anyone:
        return backend
    raise ConfigurationError(
        f"No backend asks the Hugging Face router for {task} through {provider or 'its chat API'}."
    )


# --- what every caller uses ---------------------------------------------------------------------


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
    asked = TaskRequest(inputs, parameters, content_type)
    return backend_for(endpoint).complete(endpoint, asked, progress=progress)


def request(endpoint: Endpoint, asked: TaskRequest | ChatRequest) -> HttpRequest | None:
    """The HTTP request `get_completion` (for a TaskRequest) or `stream_chat` (for a
    ChatRequest) sends, built by the same code and not sent (None for a model in this process):
    what "Show the code" shows."""
    return backend_for(endpoint).request(endpoint, asked)


def chat_request(
    endpoint: Endpoint, messages: Sequence[Message], settings: ChatSettings
) -> ChatRequest:
    """The request for the endpoint's protocol (`endpoint.template` formats the prompt for
    servers that continue raw text)."""
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
    if has_pictures(request.body.get("messages") or ()):
        deltas = pictures_refused(deltas)
    return deltas if request.max_tokens is None else within(deltas, request.max_tokens)


def pictures_refused(deltas: Iterator[Delta]) -> Iterator[Delta]:
    """A request with a picture refused as invalid (400, 415, 422): most likely a model that
    reads text only, which is what the person is told; the server's words stay in the log."""
    try:
        yield from deltas
    except (ValidationError, BackendError) as error:
        if type(error) not in (ValidationError, BackendError) or error.status not in PICTURE_NO:
            raise
        raise PictureRefusedError(error.message, status=error.status) from error


PICTURE_NO = (400, 415, 422)  # statuses of a request refused as it is


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


def setup_problem(endpoint: Endpoint) -> str | None:
    """Why this endpoint cannot work yet, in words that say what to set; None when it can."""
    probe = backend_for(endpoint).probe(endpoint, network=False)
    return None if probe.ok else probe.advice
