"""What the tabs do with models, shared by every tab that needs it: no Gradio, no HTTP.

Each service joins the pure task logic (`studio.tasks`) to a backend (`studio.backends`):
summarize a text, find entities, caption an image, paint a prompt, stream a chat reply. The UI
calls these; no UI module imports another to reach one.

Each model request is counted here, whoever calls (page or API): `studio.usage.metered` asks
who is asking, refuses with the wait when they are over a limit, and notes the request for the
teacher's usage view (a chat reply's tokens when it ends).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from PIL import Image

from studio.backends import registry as backends
from studio.backends.model_list import ModelChoices, model_choices
from studio.backends.registry import Cancel, ChatRequest
from studio.config import Config, Endpoint
from studio.errors import ConfigurationError, InputError
from studio.tasks import summarize as summaries
from studio.tasks.chat import ChatSettings, Delta, Message
from studio.tasks.entities import Entity, merge_entities
from studio.tasks.image_answers import caption_from_answer, image_from_answer
from studio.tasks.image_settings import ImageRequest
from studio.tasks.models import checked_model_id
from studio.tasks.pacing import UPDATE_INTERVAL, ReplyBuffer, Update
from studio.tasks.uploads import PreparedImage
from studio.usage import metered

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


# --- the model, chosen per person -------------------------------------------------------------

FIXED_MODEL = (
    "This tab's model is set where the studio runs ({setting}); it cannot be chosen per request."
)


def served_model_choices(endpoint: Endpoint, *, refresh: bool = False) -> ModelChoices:
    """What a model picker offers: `choices` (the server's `GET /v1/models`, the configured
    model first), `default` ("" when the person must pick) and `problem` (None, or what the
    person can do: the reason, with the setting, goes to the log). Never raises for a server
    that is down; the list is asked once per server unless `refresh`."""
    return model_choices(endpoint, refresh=refresh)


def with_model(endpoint: Endpoint, model: str | None) -> Endpoint:
    """The endpoint asking `model` instead of its own (None or "": its own). Only chat
    completions servers take a model per request; any id is sent as typed (the router's list is
    long), and a server that does not serve it says so."""
    chosen = checked_model_id(model)
    if chosen is None or chosen == endpoint.model:
        return endpoint
    if endpoint.protocol != "openai":
        raise InputError(FIXED_MODEL.format(setting=endpoint.model_setting))
    return dataclasses.replace(endpoint, model=chosen)


def chat_request(
    endpoint: Endpoint,
    messages: list[Message],
    settings: ChatSettings,
    *,
    model: str | None = None,
    template: str | None = None,
) -> ChatRequest:
    """The request for a chat turn, for `model` when one was chosen (see `with_model`);
    `template` as for `backends.chat_request`."""
    chosen = with_model(endpoint, model)
    return backends.chat_request(chosen, messages, settings, template=template)


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

    summaries.validate(text, min_length, max_length)  # the person's input costs no request
    with metered(endpoint.task, endpoint.host, prompt=text):
        return summaries.summarize(text, complete, min_length=min_length, max_length=max_length)


def find_entities(endpoint: Endpoint, text: str, *, progress: Progress = None) -> list[Entity]:
    """Whole entities in `text`, merged from whatever tokens or groups the server answers."""
    with metered(endpoint.task, endpoint.host, prompt=text):
        answer = backends.get_completion(endpoint, text, progress=progress)
    return merge_entities(text, answer)


def caption_image(
    endpoint: Endpoint,
    image: PreparedImage,
    *,
    model: str | None = None,
    progress: Progress = None,
) -> str:
    """A one-sentence caption of a prepared upload, stripped; by `model` when one was chosen."""
    endpoint = with_model(endpoint, model)
    with metered(endpoint.task, endpoint.host):
        answer = backends.get_completion(
            endpoint, image.jpeg, content_type="image/jpeg", progress=progress
        )
        return caption_from_answer(answer)


def paint_picture(
    endpoint: Endpoint, request: ImageRequest, *, progress: Progress = None
) -> Image.Image:
    """The picture for checked settings; raw bytes, base64 in JSON and `b64_json` all decode."""
    with metered(endpoint.task, endpoint.host, images=1, prompt=request.prompt):
        answer = backends.get_completion(
            endpoint, request.prompt, request.to_parameters(), progress=progress
        )
        return image_from_answer(answer)


# --- streaming a chat reply --------------------------------------------------------------------


async def stream_reply(
    endpoint: Endpoint,
    request: ChatRequest,
    *,
    model: str | None = None,
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

    `model`: the one `chat_request` was built for, when the person chose one; the backend
    explains a failure with it.
    """
    endpoint = with_model(endpoint, model)
    with metered(endpoint.task, endpoint.host, prompt=_last_words(request)) as call:
        async with contextlib.aclosing(_stream(endpoint, request, progress, interval)) as updates:
            async for update in updates:
                call.tokens = update.stats.tokens  # counted against the person's chat tokens
                yield update


def _last_words(request: ChatRequest) -> str:
    """What the person asked last, for the usage view (when the teacher keeps prompts)."""
    messages = request.body.get("messages")
    if isinstance(messages, list) and messages and isinstance(messages[-1], dict):
        content = messages[-1].get("content")
        return content if isinstance(content, str) else ""
    inputs = request.body.get("inputs")
    return inputs[-200:] if isinstance(inputs, str) else ""


async def _stream(
    endpoint: Endpoint, request: ChatRequest, progress: Progress, interval: float
) -> AsyncIterator[Update]:
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
