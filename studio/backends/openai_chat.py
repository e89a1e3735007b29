"""OpenAI-compatible chat: `POST {base}/chat/completions`, streamed as `data: {chunk}` lines.

Spoken by the router (`https://router.huggingface.co/v1`), vLLM, SGLang, llama.cpp's server,
Ollama, TGI's Messages API and `transformers serve`. The endpoint's URL is the base (`.../v1`).

    chat     messages, settings -> stream of chat.completion.chunk ... data: [DONE]
             (`transformers serve` sends no [DONE]: its last chunk, with finish_reason and
             usage, ends the stream, and the end of the stream is the end of the reply)
    caption  a vision model asked for one sentence about a data: URL image, not streamed;
             answered as the task API's [{"generated_text"}]

Servers of one's own differ in what they take and how they fail; `self_hosted` holds what the
backend does about it (the repetition penalty each reads, its context, a plain 500).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Sequence
from typing import Any

from studio.backends import optional_fields, self_hosted, transport
from studio.backends.base import (
    CONFIGURED,
    Backend,
    Capabilities,
    ChatRequest,
    Probe,
    Route,
    TaskRequest,
    not_set_up,
    penalty_as_usual,
    router_setup_problem,
    via,
)
from studio.backends.chat_shapes import openai_body, openai_deltas
from studio.backends.model_list import model_for, served_models
from studio.backends.transport import Cancel
from studio.catalog import TASKS
from studio.endpoint import Endpoint
from studio.errors import (
    BackendError,
    BadResponseError,
    ConfigurationError,
    IncompleteStreamError,
)
from studio.tasks.chat import ChatSettings, Delta, Message
from studio.tasks.progress import Progress

CHAT_PATH = "/chat/completions"
CAPTION_INSTRUCTION = (
    "Write a one-sentence caption for this image. Answer with the caption only, no preamble."
)
CAPTION_MAX_TOKENS = 60  # one sentence, with room to finish it


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


def penalty_words(endpoint: Endpoint) -> str:
    """What the chat's repetition penalty does here, for the person at the page: it is not in
    the OpenAI schema, so the router leaves it out, and a server of one's own gets it as
    repetition_penalty or in the form it takes (self_hosted.ServerNotes)."""
    if endpoint.on_router:
        return "Has no effect here: this model service has no such setting."
    return penalty_as_usual(endpoint)


class OpenAIChatBackend(Backend):
    """One per process (the registry's): what it learns about servers of one's own, such as the
    form of the repetition penalty each takes, holds for every later request to them."""

    caps = Capabilities(
        protocol="openai",
        tasks=frozenset({"caption", "chat"}),
        describe=via("chat completions"),
        servers={task: TASKS[task].chat_base_setting for task in ("caption", "chat")},
        router=Route("/v1", provider=""),  # every provider, the router's choice
        lists_models=True,
        takes_images=True,
        code="openai",
        penalty=penalty_words,
    )

    def __init__(self) -> None:
        self.servers = self_hosted.ServerNotes()

    def request(
        self, endpoint: Endpoint, asked: TaskRequest | ChatRequest
    ) -> transport.HttpRequest | None:
        """A chat turn at its path; a caption: the image as a data: URL in one user message."""
        if isinstance(asked, ChatRequest):
            return transport.at_path(endpoint, asked.path, asked.body)
        if endpoint.task != "caption" or not isinstance(asked.inputs, bytes | bytearray):
            return None
        encoded = base64.b64encode(asked.inputs).decode("ascii")
        data_url = f"data:{asked.content_type or 'image/jpeg'};base64,{encoded}"
        body = caption_chat_body(model_for(endpoint), data_url)
        return transport.json_request(endpoint, chat_url(endpoint), body)

    def complete(
        self, endpoint: Endpoint, asked: TaskRequest, *, progress: Progress | None = None
    ) -> Any:
        request = self.request(endpoint, asked)
        if request is None:
            raise self._unsupported(endpoint)
        answer = transport.post(request, endpoint)
        return [{"generated_text": completion_text(answer)}]

    def chat_request(
        self,
        endpoint: Endpoint,
        messages: Sequence[Message],
        settings: ChatSettings,
    ) -> ChatRequest:
        """Repetition penalty is not in the OpenAI schema: it is sent to a server of your own
        as the field it takes (`repetition_penalty` until it refuses that) and left out on the
        router, whose providers may reject it."""
        on_router = endpoint.on_router
        penalty_as = None if on_router else self.servers.penalty_form(endpoint)
        model = model_for(endpoint)
        body, notes = openai_body(
            settings, model, messages, penalty_as=penalty_as, on_router=on_router
        )
        return ChatRequest(
            CHAT_PATH,
            body,
            notes=tuple(notes),
            max_tokens=settings.max_new_tokens,
            asks_probabilities=settings.alternatives is not None,
        )

    def stream_chat(
        self,
        endpoint: Endpoint,
        request: ChatRequest,
        cancel: Cancel,
        *,
        progress: Progress | None = None,
    ) -> Iterator[Delta]:
        """A server of one's own gets the request in the form it takes and within its context
        (`self_hosted`); any server that refuses an optional field (Thinking, token
        probabilities) is asked again without it. The first piece of the reply carries a note
        saying so. A plain 500 from a server of one's own is explained with the model setting
        and the models it lists."""
        if not endpoint.on_router:
            yield from self.servers.stream(endpoint, request, cancel, self._stream)
            return
        for _ in range(2):  # the two optional settings, each refused once
            try:
                yield from self._stream(endpoint, request, cancel)
                return
            except BackendError as error:  # statuses come before any piece of the reply
                again = optional_fields.without_refused(endpoint, request, error)
                if again is None:
                    raise
            request = again
            yield Delta("", note=again.notes[-1])
        yield from self._stream(endpoint, request, cancel)

    def _stream(self, endpoint: Endpoint, request: ChatRequest, cancel: Cancel) -> Iterator[Delta]:
        retry = transport.DEFAULT_RETRY if endpoint.on_router else self_hosted.RETRY
        events = transport.stream(
            transport.at_path(endpoint, request.path, request.body),
            endpoint,
            retry=retry,
            cancel=cancel,
        )
        try:
            yield from openai_deltas(events)
        except IncompleteStreamError:
            if not cancel.is_set():  # Stop cut it, on purpose
                raise
        finally:
            events.close()

    def probe(self, endpoint: Endpoint, *, network: bool = True) -> Probe:
        if problem := router_setup_problem(endpoint):
            return not_set_up(problem)
        if not network:
            return CONFIGURED
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
