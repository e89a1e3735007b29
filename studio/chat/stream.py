"""The stream of a chat reply: read in a thread of its own, handed to the event loop in paced
updates, and counted against the person who asked.

    stream_reply ─ metered (studio.classroom.usage): refused when over a limit, tokens counted
      ├ a thread ─ the backend's stream_chat ─ Delta ... ─ ReplyBuffer.add (studio.chat.pacing)
      └ the event loop ─ ReplyBuffer.take ─ Update ... at most one per interval, a final one

The thread reads the backend's blocking stream into a `ReplyBuffer`, counting every token; the
event loop is woken only when it waits for news or for the end, never once per token. Closing
the updates sets the reply's `Cancel`, which shuts the socket the thread is blocked on, so the
upstream connection closes at once. No Gradio; the backend does the HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections.abc import AsyncIterator, Callable, Iterator

from studio.backends import registry as backends
from studio.backends.registry import Cancel, ChatRequest
from studio.chat.pacing import STREAMING, UPDATE_INTERVAL, ReplyBuffer, Update, paced_interval
from studio.classroom.usage import Caller, metered
from studio.endpoint import Endpoint
from studio.tasks.chat import Delta

Progress = Callable[[str], None] | None


async def stream_reply(
    endpoint: Endpoint,
    request: ChatRequest,
    *,
    progress: Progress = None,
    interval: float = UPDATE_INTERVAL,
    caller: Caller | None = None,
) -> AsyncIterator[Update]:
    """The reply as it grows: the first text at once, then at most one update per `interval`
    (longer while many replies stream in the process: studio.chat.pacing) with all that came
    meanwhile, and a `final` one when the reply has ended well. A failure is raised after an
    update with the text that came before it. Closing or cancelling this closes the upstream
    connection at once.

    `endpoint`: the one the request was built for, with the model the person chose, which the
    backend names when it explains a failure. `caller`: whom the reply's tokens count against.
    """
    prompt = _last_words(request)
    with metered(caller, endpoint.task, endpoint.host, prompt=prompt) as call, STREAMING.running():
        paced = _paced(endpoint, request, progress, interval)
        async with contextlib.aclosing(paced) as updates:
            async for update in updates:
                call.tokens = update.stats.tokens  # counted against the person's chat tokens
                yield update


async def _paced(
    endpoint: Endpoint, request: ChatRequest, progress: Progress, interval: float
) -> AsyncIterator[Update]:
    cancel = Cancel()
    # Started before the request is sent: the first token's wait. Its interval follows the load.
    reply = ReplyBuffer(lambda: paced_interval(STREAMING.count, interval))
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


def _last_words(request: ChatRequest) -> str:
    """What the person asked last, for the usage view (when the teacher keeps prompts)."""
    messages = request.body.get("messages")
    if isinstance(messages, list) and messages and isinstance(messages[-1], dict):
        content = messages[-1].get("content")
        return content if isinstance(content, str) else ""
    inputs = request.body.get("inputs")
    return inputs[-200:] if isinstance(inputs, str) else ""
