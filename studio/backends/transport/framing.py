"""Framing a stream: raw lines in, JSON objects out, with no I/O, so it is tested from lists of
lines (blank lines, keep-alive comments, `[DONE]`, an error in the middle).

A framing is a function from the stream's lines to a generator of JSON objects that answers
True when the stream said it was complete (`Framing`); `streaming.stream` reads the lines and
hands them to one. Both streaming protocols studio speaks use Server-Sent Events (`sse`): TGI's
``/generate_stream`` (``data:{...}``, no space, no ``[DONE]``) and OpenAI-compatible
``/chat/completions`` (``data: {...}``, ending with ``data: [DONE]``). Either may put
``{"error": ...}`` in the stream instead of a chunk.

Another framing is one function beside `sse`: newline-delimited JSON (Ollama's native API, one
object a line, the last with ``"done": true``) would decode each non-blank line with `_decode`,
raise `_stream_error` for an ``{"error": ...}`` line, and be passed as ``stream(...,
framing=ndjson)``.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass

from studio.backends.transport.reading import load_json
from studio.errors import BackendError, BadResponseError, ServerError, ValidationError
from studio.secrets import shorten

DONE = "[DONE]"

# Lines in (bytes, without their line ending), JSON objects out; answers True when the stream
# said it was complete, False when it just stopped (and may have been cut).
Framing = Callable[[Iterable[bytes]], Generator[dict, None, bool]]

# Long server messages (a stack trace, an HTML page) are cut so the message stays readable;
# `shorten` masks any token in them before it cuts.
_MAX_MESSAGE_CHARS = 500


@dataclass(frozen=True)
class SSEEvent:
    data: str
    event: str = "message"
    id: str | None = None


def parse_sse(lines: Iterable[str | bytes]) -> Iterator[SSEEvent]:
    """Yield one event per blank-line-terminated block of ``field: value`` lines.

    Lines come without their line ending, as ``iter_lines()`` yields them; a stray ``\\r`` is
    removed, and bytes are decoded as UTF-8, the only encoding SSE allows. An event still open
    when the input ends is dispatched too: servers that close the connection without a final
    blank line still meant it.
    """
    data_lines: list[str] = []
    event_type = ""
    event_id: str | None = None
    for raw in lines:
        line = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
        line = line.removesuffix("\r")
        if not line:
            if any(data_lines):  # an empty data buffer is no event, as the spec says
                yield SSEEvent("\n".join(data_lines), event_type or "message", event_id)
            data_lines, event_type = [], ""
            continue
        if line.startswith(":"):  # a comment, used as a keep-alive
            continue
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")  # exactly one optional space, never more
        if field == "data":
            data_lines.append(value)
        elif field == "event":
            event_type = value
        elif field == "id":
            event_id = value
        # "retry" and unknown fields are ignored, as the spec says.
    if any(data_lines):
        yield SSEEvent("\n".join(data_lines), event_type or "message", event_id)


def json_events(events: Iterable[SSEEvent]) -> Generator[dict, None, bool]:
    """Yield each event's data as a JSON object, until ``[DONE]`` or the end of the stream;
    answer True for ``[DONE]`` (a stream that just stops may have been cut).

    An ``{"error": ...}`` payload, or an event of type ``error``, raises a ``BackendError``
    carrying the server's message: the chunks before it have already been yielded, so the caller
    keeps the partial reply.
    """
    for event in events:
        data = event.data.strip()
        if data == DONE:
            return True
        payload = _decode(data, event.event)
        if payload.get("error") is not None:
            raise _stream_error(payload)
        yield payload
    return False


def sse(lines: Iterable[bytes]) -> Generator[dict, None, bool]:
    """The Server-Sent Events framing: each event's data as a JSON object (`json_events`)."""
    return (yield from json_events(parse_sse(lines)))


def _decode(data: str, event_type: str) -> dict:
    try:
        payload = load_json(data)
    except ValueError:
        if event_type == "error":  # some servers send the message as plain text
            raise ServerError(_stopped(data)) from None
        raise BadResponseError(
            f"The server sent a stream event that is not JSON: {_said(data)}"
        ) from None
    if not isinstance(payload, dict):
        raise BadResponseError(
            f"The server sent a stream event that is not an object: {_said(data)}"
        )
    if event_type == "error" and "error" not in payload:
        payload = {"error": payload}
    return payload


def _stream_error(payload: dict) -> BackendError:
    """TGI sends ``{"error": "...", "error_type": "..."}``; OpenAI-style servers send
    ``{"error": {"message": "...", "type": "..."}}``."""
    error = payload["error"]
    if isinstance(error, dict):
        message = str(error.get("message") or error)
        error_type = error.get("type") or payload.get("error_type")
    else:
        message = str(error)
        error_type = payload.get("error_type")
    if error_type == "validation":
        return ValidationError(f"The server rejected a setting: {_said(message)}")
    return ServerError(_stopped(message))


def _stopped(message: str) -> str:
    return f"The server stopped with an error: {_said(message)}"


def _said(message: str) -> str:
    return shorten(message.strip(), _MAX_MESSAGE_CHARS)
