"""The transport: everything between a request built as data and the answer a backend reads.
One request goes down once:

    HttpRequest         a protocol's module builds it (pure): url, JSON or bytes, headers
    post | stream       sending.send: the one session, retries (503, 429, 5xx) with bounded
                        waits, and one deadline per attempt that Stop cuts too (wire)
      status            a failed answer -> the error a person reads, from one table
      reading           the body, or its lines as they come, within size caps; JSON or image
      framing           (stream) lines -> JSON objects: Server-Sent Events; another framing,
                        such as NDJSON, is one function beside it

Its modules import each other one way, from the top row down, and nothing here imports a
backend module or `base`:

    streaming                             stream: send, then lines -> framing
    sending                               send, post, look; the session and its retries
    status   framing   wire   request     error table; SSE; deadline and cut; the request
    reading  stop                         size caps and `load_json`; Cancel and `stop_with`

Backends use the names below; tests reach into the modules for the pieces.
"""

from studio.backends.transport.request import JSON, HttpRequest, at_path, auth_headers, json_request
from studio.backends.transport.sending import (
    DEFAULT_RETRY,
    Looked,
    RetryPolicy,
    look,
    post,
    send,
)
from studio.backends.transport.stop import Cancel, Cancelled, current_cancel, stop_with
from studio.backends.transport.streaming import stream

__all__ = [
    "DEFAULT_RETRY",
    "JSON",
    "Cancel",
    "Cancelled",
    "HttpRequest",
    "Looked",
    "RetryPolicy",
    "at_path",
    "auth_headers",
    "current_cancel",
    "json_request",
    "look",
    "post",
    "send",
    "stop_with",
    "stream",
]
