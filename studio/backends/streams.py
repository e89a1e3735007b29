"""Reading a streamed answer over HTTP: Server-Sent Events as JSON objects, as they arrive.

Stop (a `Cancel`) shuts the socket from any thread; the headers, then each event, must come
within the endpoint's timeout, or the watchdog cuts the stream; a connection that drops keeps
what arrived.
"""

from __future__ import annotations

from collections.abc import Iterator

from studio import errors
from studio.backends import http, reading
from studio.backends.base import Cancel, Cancelled
from studio.backends.sse import json_events, parse_sse
from studio.config import Endpoint


def stream_events(
    request: http.HttpRequest,
    endpoint: Endpoint,
    *,
    retry: http.RetryPolicy = http.DEFAULT_RETRY,
    cancel: Cancel | None = None,
) -> Iterator[dict]:
    """Send and read Server-Sent Events as JSON objects until the stream ends.

    Closing this generator (a person pressed Stop) closes the connection, which tells the
    server to stop generating. Setting `cancel` does the same from another thread, even while
    this one is blocked waiting for the headers or the next event; the stream then ends quietly.

    Answers True when the stream ended with `[DONE]`. The headers must come within the
    endpoint's timeout of the request being sent, and then between two events at most that
    timeout may pass (keep-alive comments do not count); one line may be at most
    `reading.MAX_LINE_BYTES`.
    """
    try:
        sent = http.send(request, endpoint, retry=retry, cancel=cancel)
    except Cancelled:
        return
    with sent:
        sent.wire.alarm.push(endpoint.timeout)  # the first event may take as long as any other
        events = json_events(parse_sse(_guarded(sent, endpoint)))
        while True:
            try:
                event = next(events)
            except StopIteration as end:
                return bool(end.value)
            sent.wire.alarm.push(endpoint.timeout)
            yield event


def _guarded(sent: reading.Sent, endpoint: Endpoint) -> Iterator[bytes]:
    """The stream's lines; a connection that drops mid-stream, or goes quiet, becomes our
    error, keeping what came before; a connection we cut ourselves (Stop) just ends."""
    try:
        for line in reading.read_lines(sent.response.raw):
            if sent.stopped:
                return
            yield line
    except http.READ_ERRORS:
        if sent.stopped:
            return
        if not sent.wire.timed_out:
            raise http.dropped(endpoint) from None
    if sent.wire.timed_out and not sent.stopped:
        # A shut socket may read as the end of the stream rather than fail.
        raise errors.BackendTimeoutError(
            f"{endpoint.host} sent nothing for {endpoint.timeout:g} seconds in the middle of "
            "the answer. What arrived before is kept; try again, or raise STUDIO_TIMEOUT."
        )
