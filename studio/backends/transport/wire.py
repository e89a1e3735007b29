"""One deadline per request, from the moment it is sent to its last byte, and a cut from any
thread: the deadline and Stop end a blocked read at once, whatever it waits for.

A per-read timeout alone lets a server that sends a byte a second, or a keep-alive comment every
few seconds, hold a request (and a worker) open forever, even before its status line. A `Wire`
knows the socket of one request; its `Alarm` shuts that socket when its time comes, from one
watchdog thread for the whole process, and Stop shuts it the same way. The session's pools
(`WiredAdapter`) hand each request's socket to its wire as soon as it is connected.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import heapq
import itertools
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests
import requests.adapters

if TYPE_CHECKING:
    from studio.backends.transport.stop import Cancel


class Alarm:
    """A callback due at a time; `push` moves it later, `cancel` forgets it."""

    def __init__(self, watchdog: Watchdog, due: float, callback: Callable[[], None]) -> None:
        self._watchdog, self.due, self._callback = watchdog, due, callback
        self.cancelled = self.fired = False

    def push(self, seconds: float) -> None:
        self._watchdog.schedule(self, self._watchdog.clock() + seconds)

    def cancel(self) -> None:
        self.cancelled = True

    def fire(self) -> None:
        if not self.cancelled:
            self.fired = True
            self._callback()


class Watchdog:
    """One thread that fires every alarm of the process when it is due."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._heap: list[tuple[float, int, Alarm]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float, callback: Callable[[], None]) -> Alarm:
        alarm = Alarm(self, 0.0, callback)
        self.schedule(alarm, self.clock() + seconds)
        return alarm

    def schedule(self, alarm: Alarm, due: float) -> None:
        with self._wake:
            alarm.due = due
            heapq.heappush(self._heap, (due, next(self._order), alarm))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="watchdog", daemon=True)
                self._thread.start()
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._heap:
                    self._wake.wait()
                due, _, alarm = self._heap[0]
                wait = due - self.clock()
                if wait > 0:
                    self._wake.wait(wait)
                    continue
                heapq.heappop(self._heap)
                if alarm.cancelled or due != alarm.due:  # forgotten, or pushed later
                    continue
            alarm.fire()


WATCHDOG = Watchdog()


class Wire:
    """One request on its connection, from the moment it is sent to its last byte, with its
    deadline (`alarm`). `cut` shuts the socket from any thread (the deadline, Stop): a read
    blocked on the status line, a header or the body ends at once. A cut asked for before the
    request has its socket shuts the socket as soon as it has one."""

    def __init__(self, seconds: float) -> None:
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self.cut_asked = False
        self.alarm = WATCHDOG.arm(seconds, self.cut)

    @property
    def timed_out(self) -> bool:
        return self.alarm.fired

    def attach(self, sock: socket.socket | None) -> None:
        with self._lock:
            self._sock = sock
            if self.cut_asked:
                _shut(sock)

    def cut(self) -> None:
        with self._lock:
            self.cut_asked = True
            _shut(self._sock)

    def done(self) -> None:
        """Forget the socket: the connection may now serve another request, which a late
        deadline must not cut."""
        self.alarm.cancel()
        with self._lock:
            self._sock = None

    def __enter__(self) -> Wire:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.done()

    @contextlib.contextmanager
    def sending(self) -> Iterator[None]:
        """While the request is sent, the connection pools hand its socket to this wire."""
        token = _SENDING.set(self)
        try:
            yield
        finally:
            _SENDING.reset(token)


def _shut(sock: socket.socket | None) -> None:
    """Shut both ways: the blocked read gets the end at once, the server sees us gone. The plain
    socket's method, so that a TLS socket is not unwrapped under a thread reading it."""
    if sock is not None:
        try:
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except OSError:
            pass  # already closed


# The request this thread is sending, for the connection pools to hand its socket to.
_SENDING: contextvars.ContextVar[Wire | None] = contextvars.ContextVar(
    "studio_sending", default=None
)


class _AttachesWire:
    """A urllib3 pool that hands each request's socket to the `Wire` being sent, once connected
    and before a byte is sent (the pool connects HTTP sockets as early as HTTPS ones)."""

    def _validate_conn(self, conn: Any) -> None:
        super()._validate_conn(conn)  # type: ignore[misc]
        wire = _SENDING.get()
        if wire is not None:
            if conn.is_closed:
                conn.connect()
            wire.attach(conn.sock)


@functools.cache
def _attaching(pool_class: type) -> type:
    if issubclass(pool_class, _AttachesWire):
        return pool_class
    return type(f"Wired{pool_class.__name__}", (_AttachesWire, pool_class), {})


def _attach_wires(manager: Any) -> None:
    classes = manager.pool_classes_by_scheme
    manager.pool_classes_by_scheme = {k: _attaching(v) for k, v in classes.items()}


class WiredAdapter(requests.adapters.HTTPAdapter):
    """Pools whose sockets are handed to the request being sent (`Wire.sending`), so that its
    deadline or Stop can cut it before the answer has begun, through a proxy too."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        _attach_wires(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        _attach_wires(manager)
        return manager


@dataclass
class Sent:
    """An answer whose headers have come, its body still to read, on the `wire` whose deadline
    and Stop cut it. Leaving it (`with`) forgets the wire and closes the response."""

    response: requests.Response
    wire: Wire
    cancel: Cancel | None = None

    @property
    def stopped(self) -> bool:
        return self.cancel is not None and self.cancel.is_set()

    def __enter__(self) -> Sent:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.wire.done()
        self.response.close()
