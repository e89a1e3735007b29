"""What the tabs do with models, shared by every tab that needs it: no Gradio, no HTTP.

Each service joins the pure task logic (`studio.tasks`) to a backend (`studio.backends`):
summarize a text, find entities, caption an image, paint a prompt, stream a chat reply. The UI
calls these; no UI module imports another to reach one.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from PIL import Image

from studio.backends import registry as backends
from studio.backends.registry import Cancel, ChatRequest
from studio.config import Config, Endpoint
from studio.errors import ConfigurationError
from studio.tasks import summarize as summaries
from studio.tasks.chat import Delta
from studio.tasks.entities import Entity, merge_entities
from studio.tasks.image_answers import caption_from_answer, image_from_answer
from studio.tasks.image_settings import ImageRequest
from studio.tasks.pacing import UPDATE_INTERVAL, ReplyBuffer, Update
from studio.tasks.reproduce import Call
from studio.tasks.uploads import PreparedImage

Progress = Callable[[str], None] | None


def setup_problem(config: Config, task: str) -> str | None:
    """Why a task cannot run yet, in words that say what to set; None when it can."""
    return backends.setup_problem(config.endpoint(task), config.token)


def require_setup(config: Config, task: str) -> None:
    """Refuse early, with what to set, when a task has no server and no token."""
    problem = setup_problem(config, task)
    if problem:
        raise ConfigurationError(problem)


def describe_backend(endpoint: Endpoint) -> str:
    """One line for people: which model, how it is asked, where."""
    return backends.backend_for(endpoint).describe(endpoint)


def repetition_penalty_info(endpoint: Endpoint) -> str:
    return backends.backend_for(endpoint).repetition_penalty_info(endpoint)


def ignored_options(endpoint: Endpoint) -> str | None:
    """Which image options the endpoint's server ignores, in a sentence; None: it uses them all."""
    return backends.backend_for(endpoint).ignored_options(endpoint)


def ask(
    endpoint: Endpoint,
    inputs: Any,
    parameters: dict | None = None,
    *,
    content_type: str | None = None,
    progress: Progress = None,
    calls: list[Call] | None = None,
    seed: int | None = None,
) -> Any:
    """`get_completion`, and a `Call` for "Show the code" appended to `calls` once answered."""
    started = time.monotonic()
    answer = backends.get_completion(
        endpoint, inputs, parameters, content_type=content_type, progress=progress
    )
    if calls is not None:
        seconds = time.monotonic() - started
        calls.append(Call(endpoint, inputs, parameters, content_type, seconds, seed))
    return answer


def summarize_text(
    endpoint: Endpoint,
    text: str,
    *,
    min_length: int | None = None,
    max_length: int | None = None,
    progress: Progress = None,
    calls: list[Call] | None = None,
) -> summaries.Summary:
    """A summary, asked in pieces when the text is longer than the model reads at once."""

    def complete(piece: str, parameters: dict | None) -> Any:
        return ask(endpoint, piece, parameters, progress=progress, calls=calls)

    return summaries.summarize(text, complete, min_length=min_length, max_length=max_length)


def find_entities(
    endpoint: Endpoint, text: str, *, progress: Progress = None, calls: list[Call] | None = None
) -> list[Entity]:
    """Whole entities in `text`, merged from whatever tokens or groups the server answers."""
    return merge_entities(text, ask(endpoint, text, progress=progress, calls=calls))


def caption_image(
    endpoint: Endpoint,
    image: PreparedImage,
    *,
    progress: Progress = None,
    calls: list[Call] | None = None,
) -> str:
    """A one-sentence caption of a prepared upload, stripped."""
    answer = ask(endpoint, image.jpeg, content_type="image/jpeg", progress=progress, calls=calls)
    return caption_from_answer(answer)


def paint_picture(
    endpoint: Endpoint,
    request: ImageRequest,
    *,
    progress: Progress = None,
    calls: list[Call] | None = None,
) -> Image.Image:
    """The picture for checked settings; raw bytes, base64 in JSON and `b64_json` all decode."""
    answer = ask(
        endpoint,
        request.prompt,
        request.to_parameters(),
        progress=progress,
        calls=calls,
        seed=request.seed,
    )
    return image_from_answer(answer)


# --- streaming a chat reply --------------------------------------------------------------------


async def stream_reply(
    endpoint: Endpoint,
    request: ChatRequest,
    *,
    progress: Progress = None,
    interval: float = UPDATE_INTERVAL,
) -> AsyncIterator[Update]:
    """The reply as it grows: the first text at once, then at most one update per `interval`
    with all that came meanwhile, and a `final` one when the reply has ended well. A failure is
    raised after an update with the text that came before it.

    A thread of its own reads the stream into a `ReplyBuffer`, counting every token; this event
    loop is woken only when it waits for news or for the end, never once per token. Closing or
    cancelling this closes the upstream connection at once: leaving sets the reply's `Cancel`,
    which shuts the socket the thread is blocked on.
    """
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
