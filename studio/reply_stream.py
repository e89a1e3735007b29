"""A chat reply read in a thread of its own and handed to the event loop in paced updates.

The thread reads the backend's blocking stream into a `ReplyBuffer`, counting every token; the
event loop is woken only when it waits for news or for the end, never once per token. Closing
the updates sets the reply's `Cancel`, which shuts the socket the thread is blocked on, so the
upstream connection closes at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections.abc import AsyncIterator, Callable, Iterator

from studio.backends import registry as backends
from studio.backends.registry import Cancel, ChatRequest
from studio.endpoint import Endpoint
from studio.tasks.chat import Delta
from studio.tasks.pacing import ReplyBuffer, Update


async def paced_reply(
    endpoint: Endpoint,
    request: ChatRequest,
    progress: Callable[[str], None] | None,
    interval: float,
) -> AsyncIterator[Update]:
    """The reply's updates, at most one per `interval`, a `final` one when it ended well; a
    failure is raised after the text that came before it."""
    cancel = Cancel()
    reply = ReplyBuffer(interval)  # started before the request is sent: the first token's wait
    woken = asyncio.Event()
    loop = asyncio.get_running_loop()

    def wake() -> None:
        with contextlib.suppress(RuntimeError):  # the event loop is gone: the app is stopping
            loop.call_soon_threadsafe(woken.set)

    _read_in_thread(
        lambda: backends.stream_chat(endpoint, request, cancel, progress=progress),
        reply,
        cancel,
        wake,
    )
    try:
        while True:
            woken.clear()
            delay = reply.wait_time()
            if delay != 0:
                await _woken_or_after(woken, delay)
                continue
            update = reply.take()
            if update.new or update.final:
                yield update
            if update.error is not None:
                raise update.error
            if update.final:
                return
    finally:
        cancel.set()


def _read_in_thread(
    make: Callable[[], Iterator[Delta]],
    reply: ReplyBuffer,
    cancel: Cancel,
    wake: Callable[[], None],
) -> None:
    """Read a blocking stream of deltas into `reply` in a thread of its own, calling `wake`
    when `reply` says the event loop waits for what came.

    The thread owns the iterator from creation to `close`, so closing never races a read;
    setting `cancel` interrupts its blocked read, and it then closes the iterator and ends. It
    runs in the caller's context, so it can show progress messages to the person.
    """

    def read() -> None:
        try:
            with contextlib.closing(make()) as deltas:
                for delta in deltas:
                    if cancel.is_set():
                        break
                    if reply.add(delta):
                        wake()
        except Exception as exc:  # raised in the event loop, after the text before it
            ended = reply.end(exc)
        else:
            ended = reply.end()
        if ended:
            wake()

    context = contextvars.copy_context()
    threading.Thread(target=context.run, args=(read,), name="chat-stream", daemon=True).start()


async def _woken_or_after(woken: asyncio.Event, seconds: float | None) -> None:
    """Wait until `woken` is set, or `seconds` have passed (None: no limit)."""
    timer = None if seconds is None else asyncio.get_running_loop().call_later(seconds, woken.set)
    try:
        await woken.wait()
    finally:
        if timer is not None:
            timer.cancel()
