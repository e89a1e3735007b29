"""Reading a streamed answer over HTTP as it arrives: lines read within bounds, framed into JSON
objects (Server-Sent Events unless told otherwise, see `framing`).

Stop (a `Cancel`) shuts the socket from any thread; the headers, then each event, must come
within the endpoint's timeout, or the watchdog cuts the stream; a connection that drops keeps
what arrived.
"""

from __future__ import annotations

from collections.abc import Iterator

from studio import errors
from studio.backends.transport.framing import Framing, sse
from studio.backends.transport.reading import read_lines
from studio.backends.transport.request import HttpRequest
from studio.backends.transport.sending import (
    DEFAULT_RETRY,
    READ_ERRORS,
    RetryPolicy,
    dropped,
    keep_alive,
    send,
)
from studio.backends.transport.stop import Cancel, Cancelled
from studio.backends.transport.wire import Sent
from studio.endpoint import Endpoint


def stream(
    request: HttpRequest,
    endpoint: Endpoint,
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
    cancel: Cancel | None = None,
    framing: Framing = sse,
) -> Iterator[dict]:
    """Send and read the answer's events as JSON objects until the stream ends.

    Closing this generator (a person pressed Stop) closes the connection, which tells the
    server to stop generating. Setting `cancel` does the same from another thread, even while
    this one is blocked waiting for the headers or the next event; the stream then ends quietly.

    Answers True when the stream said it was complete (`[DONE]`). The headers must come within
    the endpoint's timeout of the request being sent, and then between two events at most that
    timeout may pass (keep-alive comments do not count); one line may be at most
    `reading.MAX_LINE_BYTES`.
    """
    try:
        sent = send(request, endpoint, retry=retry, cancel=cancel)
    except Cancelled:
        return
    with sent:
        sent.wire.alarm.push(endpoint.timeout)  # the first event may take as long as any other
        events = framing(_guarded(sent, endpoint))
        while True:
            try:
                event = next(events)
            except StopIteration as end:
                if end.value:  # [DONE]: only the body's end is left, and the connection kept
                    keep_alive(sent)
                return bool(end.value)
            sent.wire.alarm.push(endpoint.timeout)
            yield event


def _guarded(sent: Sent, endpoint: Endpoint) -> Iterator[bytes]:
    """The stream's lines; a connection that drops mid-stream, or goes quiet, becomes our
    error, keeping what came before; a connection we cut ourselves (Stop) just ends."""
    try:
        for line in read_lines(sent.response.raw):
            if sent.stopped:
                return
            yield line
    except READ_ERRORS:
        if sent.stopped:
            return
        if not sent.wire.timed_out:
            raise dropped(endpoint) from None
    if sent.wire.timed_out and not sent.stopped:
        # A shut socket may read as the end of the stream rather than fail.
        raise errors.BackendTimeoutError(
            f"{endpoint.host} sent nothing for {endpoint.timeout:g} seconds in the middle of "
            "the answer. What arrived before is kept; try again, or raise STUDIO_TIMEOUT."
        )
