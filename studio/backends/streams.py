"""Reading a streamed answer over HTTP: Server-Sent Events as JSON objects, as they arrive.

Stop (a `Cancel`) shuts the socket from any thread; a stream that goes quiet for longer than the
endpoint's timeout is cut by the watchdog; a connection that drops keeps what arrived.
"""

from __future__ import annotations

import time
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
    this one is blocked waiting for the next event; the stream then ends quietly. Before the
    server has sent its headers there is no response to shut yet: the connection closes as soon
    as they arrive (TGI, vLLM and the router send them at once when streaming).

    Answers True when the stream ended with `[DONE]`. Between two events at most the endpoint's
    timeout may pass (keep-alive comments do not count), and one line may be at most
    `reading.MAX_LINE_BYTES`.
    """
    sleep = time.sleep if cancel is None else cancel.sleep
    try:
        response = http.send(request, endpoint, retry=retry, sleep=sleep)
    except Cancelled:
        return
    alarm = reading.WATCHDOG.arm(endpoint.timeout, lambda: http.interrupt(response))
    try:
        if cancel is not None:
            cancel.call_on_set(lambda: http.interrupt(response))
        lines = _guarded(reading.read_lines(response.raw), endpoint, cancel, alarm)
        events = json_events(parse_sse(lines))
        while True:
            try:
                event = next(events)
            except StopIteration as end:
                return bool(end.value)
            alarm.push(endpoint.timeout)
            yield event
    finally:
        alarm.cancel()
        response.close()


def _guarded(
    lines: Iterator[bytes], endpoint: Endpoint, cancel: Cancel | None, alarm: reading.Alarm
) -> Iterator[bytes]:
    """Turn a connection that drops mid-stream, or goes quiet, into our error, keeping what
    came before; a connection we cut ourselves (Stop) just ends."""
    try:
        for line in lines:
            if cancel is not None and cancel.is_set():
                return
            yield line
    except http.READ_ERRORS:
        if cancel is not None and cancel.is_set():
            return
        if not alarm.fired:
            raise http.dropped(endpoint) from None
    if alarm.fired and not (cancel is not None and cancel.is_set()):
        # A shut socket may read as the end of the stream rather than fail.
        raise errors.BackendTimeoutError(
            f"{endpoint.host} sent nothing for {endpoint.timeout:g} seconds in the middle of "
            "the answer. What arrived before is kept; try again, or raise STUDIO_TIMEOUT."
        )
