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
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

from PIL import Image

from studio.backends import registry as backends
from studio.backends.registry import Cancel, ChatRequest
from studio.config import Config, Endpoint
from studio.errors import ConfigurationError
from studio.tasks import summarize as summaries
from studio.tasks.entities import Entity, merge_entities
from studio.tasks.images import ImageRequest, PreparedImage, caption_from_answer, image_from_answer
from studio.tasks.replies import ReplyStats

Progress = Callable[[str], None] | None
T = TypeVar("T")


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


def summarize_text(
    endpoint: Endpoint,
    text: str,
    *,
    min_length: int | None = None,
    max_length: int | None = None,
    progress: Progress = None,
) -> summaries.Summary:
    """A summary, asked in pieces when the text is longer than the model reads at once."""

    def complete(piece: str, parameters: dict | None) -> Any:
        return backends.get_completion(endpoint, piece, parameters, progress=progress)

    return summaries.summarize(text, complete, min_length=min_length, max_length=max_length)


def find_entities(endpoint: Endpoint, text: str, *, progress: Progress = None) -> list[Entity]:
    """Whole entities in `text`, merged from whatever tokens or groups the server answers."""
    return merge_entities(text, backends.get_completion(endpoint, text, progress=progress))


def caption_image(endpoint: Endpoint, image: PreparedImage, *, progress: Progress = None) -> str:
    """A one-sentence caption of a prepared upload, stripped."""
    answer = backends.get_completion(
        endpoint, image.jpeg, content_type="image/jpeg", progress=progress
    )
    return caption_from_answer(answer)


def paint_picture(
    endpoint: Endpoint, request: ImageRequest, *, progress: Progress = None
) -> Image.Image:
    """The picture for checked settings; raw bytes, base64 in JSON and `b64_json` all decode."""
    answer = backends.get_completion(
        endpoint, request.prompt, request.to_parameters(), progress=progress
    )
    return image_from_answer(answer)


# --- streaming a chat reply --------------------------------------------------------------------


async def stream_reply(
    endpoint: Endpoint, request: ChatRequest, *, progress: Progress = None
) -> AsyncIterator[tuple[str, ReplyStats]]:
    """The reply so far and its timing, after each piece that arrives.

    Closing or cancelling this closes the upstream connection at once: leaving sets the reply's
    `Cancel`, which shuts the socket the reading thread is blocked on.
    """
    cancel = Cancel()
    stats = ReplyStats()  # started before the request is sent: time to first token includes it
    text = ""
    pieces = iterate_in_thread(
        lambda: backends.stream_chat(endpoint, request, cancel, progress=progress), cancel
    )
    async with contextlib.aclosing(pieces):
        async for delta in pieces:
            stats.add(delta)
            text += delta.text
            yield text, stats


_END = object()


async def iterate_in_thread(make: Callable[[], Iterator[T]], cancel: Cancel) -> AsyncIterator[T]:
    """Items of a blocking iterator, read in a thread of its own, handed to the event loop.

    The thread owns the iterator from creation to `close`, so closing never races a read.
    Leaving this generator in any way (end, error, close, task cancelled) sets `cancel`, which
    interrupts the thread's blocked read; the thread then closes the iterator and ends.
    """
    loop = asyncio.get_running_loop()
    items: asyncio.Queue = asyncio.Queue()

    def hand_over(item: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the event loop is gone: the app is stopping
            loop.call_soon_threadsafe(items.put_nowait, item)

    def pump() -> None:
        try:
            with contextlib.closing(make()) as iterator:
                for item in iterator:
                    if cancel.is_set():
                        break
                    hand_over(item)
        except Exception as exc:  # re-raised by the reader, in the event loop
            hand_over(exc)
        else:
            hand_over(_END)

    # The thread runs in this event's context, so it can show progress messages to the person.
    context = contextvars.copy_context()
    threading.Thread(target=context.run, args=(pump,), name="chat-stream", daemon=True).start()
    try:
        while (item := await items.get()) is not _END:
            if isinstance(item, Exception):
                raise item
            yield item
    finally:
        cancel.set()
