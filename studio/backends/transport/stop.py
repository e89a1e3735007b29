"""Stop: a `Cancel` that any thread sets (the Stop button, a closed page) to end one request.

Over HTTP it cuts the request's connection at once, whatever the request waits for
(`wire.Wire.cut`); generation in this process polls it. A stream is given its `Cancel`; a task
request finds the one its context was given (`stop_with`). This module imports nothing of the
studio: everything that stops, in the transport and outside it, stands on it.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable


class Cancelled(BaseException):
    """Raised in the thread of a request whose `Cancel` was set (Stop): its connection is cut.

    A BaseException, as asyncio's CancelledError is: the handlers that turn failures into
    messages and log lines (`except Exception`) let it pass, since nobody waits for the answer.
    """


class Cancel(threading.Event):
    """Stop for one streamed reply, set from any thread (Stop, a closed page).

    A `threading.Event`, so in-process generation can poll it; a stream over HTTP registers a
    callback that interrupts its blocked read, so stopping does not wait for the next token.
    """

    def __init__(self) -> None:
        super().__init__()
        self._callbacks_lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []

    def set(self) -> None:
        with self._callbacks_lock:
            super().set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def call_on_set(self, callback: Callable[[], None]) -> None:
        """Run `callback` when this is set; at once when it already is."""
        with self._callbacks_lock:
            if not self.is_set():
                self._callbacks.append(callback)
                return
        callback()

    def check(self) -> None:
        """Raise Cancelled when this is set: work in this process checks it between its steps."""
        if self.is_set():
            raise Cancelled()

    def sleep(self, seconds: float) -> None:
        """`time.sleep` for retry waits that gives up when this is set."""
        if self.wait(seconds):
            raise Cancelled()


# The Stop of the call this context runs: every request sent from it is cut when it is set.
_STOP: contextvars.ContextVar[Cancel | None] = contextvars.ContextVar("studio_stop", default=None)


def stop_with(cancel: Cancel) -> None:
    """Let `cancel` stop every request sent from this context from now on (call it in a thread
    that runs in a context of its own): over HTTP it cuts the connection at once, whatever the
    request waits for, and the request raises `Cancelled`."""
    _STOP.set(cancel)


def current_cancel() -> Cancel | None:
    """The `Cancel` that `stop_with` gave this context, if any."""
    return _STOP.get()
