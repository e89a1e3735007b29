"""OpenAI-compatible chat: `POST {base}/chat/completions`, streamed as `data: {chunk}` lines.

Spoken by the router (`https://router.huggingface.co/v1`), vLLM, SGLang, llama.cpp's server,
Ollama, TGI's Messages API and `transformers serve`. The endpoint's URL is the base (`.../v1`).

    chat     messages, settings -> stream of chat.completion.chunk ... data: [DONE]
             (`transformers serve` sends no [DONE]: its last chunk, with finish_reason and
             usage, ends the stream, and the end of the stream is the end of the reply)
    caption  a vision model asked for one sentence about a data: URL image, not streamed;
             answered as the task API's [{"generated_text"}]

Servers of one's own differ in what they take and how they fail; `self_hosted` holds what the
backend does about it (the repetition penalty a server refuses, a plain 500).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from studio.backends import self_hosted, transport
from studio.backends.base import Backend, ChatRequest, Probe, Progress
from studio.backends.model_list import model_for, served_models
from studio.backends.self_hosted import FREQUENCY_PENALTY, REPETITION_PENALTY
from studio.backends.task_api import router_setup_problem
from studio.backends.transport import Cancel
from studio.config import Endpoint
from studio.errors import (
    BackendError,
    BadResponseError,
    ConfigurationError,
    IncompleteStreamError,
)
from studio.tasks.chat import ChatSettings, Delta, Message
from studio.tasks.continue_reply import CONTINUE_INSTRUCTION, continues_reply

CHAT_PATH = "/chat/completions"
CUT_SHORT = (
    "The server ended the stream before the reply was complete (no finish reason): the "
    "connection was cut, or the server stopped. What arrived is kept; try again."
)
CAPTION_INSTRUCTION = (
    "Write a one-sentence caption for this image. Answer with the caption only, no preamble."
)
CAPTION_MAX_TOKENS = 60  # one sentence, with room to finish it


def openai_body(
    settings: ChatSettings,
    model: str,
    messages: Sequence[Message],
    *,
    stream: bool = True,
    penalty_as: str | None,
) -> tuple[dict[str, Any], list[str]]:
    """A ``/chat/completions`` body, and notes for the person about settings mapped or dropped.

    ``penalty_as``: the field the repetition penalty goes in, or None to leave it out. It is
    not in the OpenAI schema: vLLM and TGI take ``repetition_penalty``; ``transformers serve``
    refuses it and reads ``frequency_penalty`` as a repetition penalty of 1 + value; the
    router's providers may take neither.

    Messages that end with the model's own reply ask it to continue: the chat-completions API has
    no standard way to extend that reply, so a user turn asks for it.
    """
    messages = list(messages)
    if continues_reply(messages):
        messages.append({"role": "user", "content": CONTINUE_INSTRUCTION})
    body: dict[str, Any] = {
        "model": model,
        "messages": messages,
        "stream": stream,
        "max_tokens": int(settings.max_new_tokens),
        "temperature": settings.temperature,
    }
    notes = []
    if settings.top_p_in_range:
        body["top_p"] = settings.top_p
    elif settings.top_p <= 0:
        notes.append(f"Top-p {settings.top_p:g} must be above 0; the server's default was used.")
    if settings.seed is not None:
        body["seed"] = int(settings.seed)
    penalty = settings.repetition_penalty
    if penalty != 1.0:
        notes.append(self_hosted.penalty_note(penalty, penalty_as))
        if penalty_as == REPETITION_PENALTY:
            body[REPETITION_PENALTY] = penalty
        elif penalty_as == FREQUENCY_PENALTY:
            body[FREQUENCY_PENALTY] = self_hosted.as_frequency_penalty(penalty)
    return body, notes


def openai_deltas(events: Iterable[Mapping[str, Any]]) -> Iterator[Delta]:
    """Deltas from ``chat.completion.chunk`` objects (the first choice only).

    A reply is complete with a finish reason or ``[DONE]`` (`events` answering True when it
    ends); a stream that just stops was cut, and raises IncompleteStreamError after what came.
    """
    events = iter(events)
    complete = False
    while True:
        try:
            event = next(events)
        except StopIteration as end:
            complete = complete or bool(end.value)
            break
        choices = event.get("choices") or []
        if not choices:
            continue  # a usage-only chunk
        choice = choices[0]
        text = (choice.get("delta") or {}).get("content") or ""
        if not isinstance(text, str):
            raise BadResponseError(
                f"The server sent a reply piece that is not text: {type(text).__name__}."
            )
        finish_reason = choice.get("finish_reason")
        complete = complete or bool(finish_reason)
        if text or finish_reason:
            yield Delta(text, finish_reason)
    if not complete:
        raise IncompleteStreamError(CUT_SHORT)


def caption_chat_body(
    model: str, data_url: str, max_tokens: int = CAPTION_MAX_TOKENS
) -> dict[str, Any]:
    """An OpenAI-style chat completion request asking a vision model for a one-sentence caption.

    ``data_url`` is the image as a ``data:image/jpeg;base64,...`` URL.
    """
    return {
        "model": model,
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": CAPTION_INSTRUCTION},
                    {"type": "image_url", "image_url": {"url": data_url}},
                ],
            }
        ],
        "max_tokens": max_tokens,
        "stream": False,
    }


def completion_text(answer: Any) -> str:
    """The message text of a (not streamed) chat completion."""
    choices = answer.get("choices") if isinstance(answer, dict) else None
    first = choices[0] if isinstance(choices, list) and choices else None
    message = first.get("message") if isinstance(first, dict) else None
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, str | list):
        raise BadResponseError(
            "The captioning model's answer holds no caption: it sent no choices[0].message "
            "content. Is this server a chat-completions server with a vision model?"
        )
    if isinstance(content, str):
        return content
    # A list of parts: the text ones, joined as written (a caption split mid-sentence).
    return "".join(
        str(part.get("text") or "") if isinstance(part, dict) else str(part)
        for part in content
        if isinstance(part, str) or (isinstance(part, dict) and part.get("type") == "text")
    )


def chat_url(endpoint: Endpoint) -> str:
    return endpoint.url.rstrip("/") + CHAT_PATH


class OpenAIChatBackend(Backend):
    """One per process (the registry's): what it learns about servers of one's own, such as the
    form of the repetition penalty each takes, holds for every later request to them."""

    protocol = "openai"
    tasks = frozenset({"caption", "chat"})
    speaks = "chat completions"

    def __init__(self) -> None:
        self.servers = self_hosted.ServerNotes()

    def complete(
        self,
        endpoint: Endpoint,
        inputs: Any,
        parameters: dict | None = None,
        *,
        content_type: str | None = None,
        progress: Progress | None = None,
    ) -> Any:
        if endpoint.task != "caption" or not isinstance(inputs, bytes | bytearray):
            raise self._unsupported(endpoint)
        answer = transport.post(
            self.request_for(endpoint, inputs, content_type=content_type), endpoint
        )
        return [{"generated_text": completion_text(answer)}]

    def request_for(
        self,
        endpoint: Endpoint,
        inputs: Any,
        parameters: dict | None = None,
        *,
        content_type: str | None = None,
    ) -> transport.HttpRequest | None:
        """A caption: the image as a data: URL in one user message."""
        if endpoint.task != "caption" or not isinstance(inputs, bytes | bytearray):
            return None
        encoded = base64.b64encode(inputs).decode("ascii")
        data_url = f"data:{content_type or 'image/jpeg'};base64,{encoded}"
        body = caption_chat_body(model_for(endpoint), data_url)
        return transport.json_request(endpoint, chat_url(endpoint), body)

    def chat_http_request(self, endpoint: Endpoint, request: ChatRequest) -> transport.HttpRequest:
        return transport.at_path(endpoint, request.path, request.body)

    def chat_request(
        self,
        endpoint: Endpoint,
        messages: Sequence[Message],
        settings: ChatSettings,
    ) -> ChatRequest:
        """Repetition penalty is not in the OpenAI schema: it is sent to a server of your own
        as the field it takes (`repetition_penalty` until it refuses that) and left out on the
        router, whose providers may reject it."""
        penalty_as = None if endpoint.on_router else self.servers.penalty_form(endpoint)
        body, notes = openai_body(settings, model_for(endpoint), messages, penalty_as=penalty_as)
        return ChatRequest(CHAT_PATH, body, notes=tuple(notes), max_tokens=settings.max_new_tokens)

    def stream_chat(
        self,
        endpoint: Endpoint,
        request: ChatRequest,
        cancel: Cancel,
        *,
        progress: Progress | None = None,
    ) -> Iterator[Delta]:
        """A server of one's own that refuses `repetition_penalty` is asked again at once in the
        form it takes, and the first piece of the reply carries a note saying so. A plain 500
        from it is explained with the model setting and the models it lists."""
        try:
            yield from self._stream(endpoint, request, cancel)
            return
        except BackendError as error:  # statuses come before any piece of the reply
            if endpoint.on_router:
                raise
            again = self.servers.after_refusal(endpoint, request, error)
            if again is None:
                raise self_hosted.explained(endpoint, error) from None
        yield Delta("", note=again.notes[-1])
        yield from self._stream(endpoint, again, cancel)

    def _stream(self, endpoint: Endpoint, request: ChatRequest, cancel: Cancel) -> Iterator[Delta]:
        retry = transport.DEFAULT_RETRY if endpoint.on_router else self_hosted.RETRY
        events = transport.stream(
            self.chat_http_request(endpoint, request), endpoint, retry=retry, cancel=cancel
        )
        try:
            yield from openai_deltas(events)
        except IncompleteStreamError:
            if not cancel.is_set():  # Stop cut it, on purpose
                raise
        finally:
            events.close()

    def setup_problem(self, endpoint: Endpoint, token: str | None) -> str | None:
        return router_setup_problem(endpoint, token)

    def probe(self, endpoint: Endpoint, token: str | None) -> Probe:
        if problem := self.setup_problem(endpoint, token):
            return Probe(False, "not set up", problem)
        try:
            ids = served_models(endpoint, refresh=True)
            model = model_for(endpoint)
        except ConfigurationError as error:
            return Probe(False, "no model", error.message)
        if model.partition(":")[0] not in ids and model not in ids:
            return Probe(
                False,
                "model not listed",
                f"{endpoint.host} does not list {model}; set {endpoint.model_setting} to one it "
                f"serves ({', '.join(ids[:5]) or 'none'}).",
            )
        return Probe(True, "ready" if endpoint.model else f"ready: serves {model}")

    def repetition_penalty_info(self, endpoint: Endpoint) -> str:
        if endpoint.on_router:
            return "Not sent: the router's chat API has no such setting."
        return (
            "1 is off. Sent as repetition_penalty (vLLM, TGI); a server that refuses it gets it "
            "in the form it takes (transformers serve: frequency_penalty = value - 1)."
        )
