"""What the chat backends share: the OpenAI chat-completions body and its stream's chunks, the
forms a repetition penalty is sent in, and what a stream cut short says.

OpenAI-compatible servers speak these shapes (`openai_chat`), and so does the in-process backend
(`local`), whose models take the same body and answer in the same chunks; TGI's stream
(`tgi`) ends the same way when it is cut.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from studio.errors import BadResponseError, IncompleteStreamError
from studio.tasks.chat import UNFINISHED, ChatSettings, Delta, Message
from studio.tasks.continue_reply import CONTINUE_INSTRUCTION, continues_reply
from studio.tasks.token_probs import ROUTER_MAX, from_openai

CUT_SHORT = (
    "The server ended the stream before the reply was complete (no finish reason): the "
    "connection was cut, or the server stopped. What arrived is kept; try again."
)
# A stream that ends with [DONE] and no finish reason: llama-cpp-python's server ends a running
# reply so when another request arrives. The reply is kept as cut, and can be continued.
NO_FINISH_REASON = (
    "The server ended the reply without saying it was finished (no finish reason): it may have "
    "stopped it to answer another request. Press Continue for the rest."
)
REPETITION_PENALTY = "repetition_penalty"  # vLLM, TGI
REPEAT_PENALTY = "repeat_penalty"  # llama.cpp's servers, which ignore repetition_penalty
FREQUENCY_PENALTY = "frequency_penalty"  # transformers serve: a repetition penalty of 1 + value
LOCAL_NOTE = "studio_note"  # the in-process backend's word for the person, on a chunk


def openai_body(
    settings: ChatSettings,
    model: str,
    messages: Sequence[Message],
    *,
    stream: bool = True,
    penalty_as: str | None,
    on_router: bool = False,
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
    if penalty_as == REPEAT_PENALTY:  # always: llama-cpp-python's own default is 1.1
        body[REPEAT_PENALTY] = penalty
    if penalty != 1.0:
        notes.append(penalty_note(penalty, penalty_as))
        if penalty_as == REPETITION_PENALTY:
            body[REPETITION_PENALTY] = penalty
        elif penalty_as == FREQUENCY_PENALTY:
            body[FREQUENCY_PENALTY] = as_frequency_penalty(penalty)
    notes += thinking_fields(body, settings.thinking, on_router=on_router)
    notes += probability_fields(body, settings.alternatives, on_router=on_router)
    return body, notes


def thinking_fields(body: dict[str, Any], thinking: str, *, on_router: bool) -> list[str]:
    """The Thinking setting, in the fields servers read: an effort as ``reasoning_effort`` (the
    OpenAI name, which vLLM, SGLang and the router pass on), off as
    ``chat_template_kwargs.enable_thinking`` (Qwen3-style templates on vLLM, SGLang and
    transformers serve), which the router's providers do not take. Nothing for the default."""
    if not thinking:
        return []
    if thinking != "off":
        body["reasoning_effort"] = thinking
        return [
            f"Thinking {thinking} was sent as reasoning_effort; models trained for it read it "
            "(gpt-oss, DeepSeek, o-series), others think as they always do."
        ]
    if on_router:
        return [
            "Thinking off was not sent: the router's chat API cannot switch a model's thinking "
            "off; pick a model that does not think, or a low effort."
        ]
    body["chat_template_kwargs"] = {"enable_thinking": False}
    return [
        "Thinking off was sent as chat_template_kwargs.enable_thinking = false, which "
        "Qwen3-style chat templates read; other models may think anyway."
    ]


def probability_fields(
    body: dict[str, Any], alternatives: int | None, *, on_router: bool
) -> list[str]:
    """``logprobs`` and ``top_logprobs``, only when token probabilities are wanted."""
    if alternatives is None:
        return []
    body["logprobs"] = True
    body["top_logprobs"] = min(alternatives, ROUTER_MAX) if on_router else alternatives
    if on_router and alternatives > ROUTER_MAX:
        return [
            f"The router gives at most {ROUTER_MAX} alternatives per token; "
            f"{ROUTER_MAX} were asked."
        ]
    return []


def openai_deltas(events: Iterable[Mapping[str, Any]]) -> Iterator[Delta]:
    """Deltas from ``chat.completion.chunk`` objects (the first choice only).

    A reply is complete with a finish reason, or at the end of a stream that has one. One
    that ends with ``[DONE]`` (`events` answering True) and none was cut by the server: its
    last delta says so (`UNFINISHED`). A stream that just stops was cut, and raises
    IncompleteStreamError after what came.
    """
    events = iter(events)
    complete = False
    while True:
        try:
            event = next(events)
        except StopIteration as end:
            if end.value and not complete:
                yield Delta("", UNFINISHED, note=NO_FINISH_REASON)
                return
            break
        choices = event.get("choices") or []
        if not choices:
            continue  # a usage-only chunk
        choice = choices[0]
        delta = choice.get("delta") or {}
        text, reasoning = _text(delta, "content"), reasoning_of(delta)
        tokens = from_openai(choice.get("logprobs"))
        finish_reason = choice.get("finish_reason")
        complete = complete or bool(finish_reason)
        note = event.get(LOCAL_NOTE) or ""
        if text or reasoning or tokens or finish_reason or note:
            yield Delta(text, finish_reason, note=note, reasoning=reasoning, tokens=tokens)
    if not complete:
        raise IncompleteStreamError(CUT_SHORT)


def reasoning_of(delta: Mapping[str, Any]) -> str:
    """The thinking in a delta: ``reasoning`` (vLLM, the router), else ``reasoning_content``
    (DeepSeek, older vLLM, SGLang, llama.cpp, transformers serve)."""
    return _text(delta, "reasoning") or _text(delta, "reasoning_content")


def _text(delta: Mapping[str, Any], name: str) -> str:
    text = delta.get(name) or ""
    if not isinstance(text, str):
        raise BadResponseError(
            f"The server sent a reply piece that is not text: {type(text).__name__}."
        )
    return text


def as_frequency_penalty(penalty: float) -> float:
    """transformers serve's reading: repetition penalty = 1 + frequency_penalty."""
    return round(penalty - 1.0, 6)


def penalty_note(penalty: float, form: str | None) -> str:
    """What the person is told about a repetition penalty other than 1, sent as `form`."""
    if form == REPETITION_PENALTY:
        return (
            f"Repetition penalty {penalty:g} is not part of the OpenAI API; sent as "
            "repetition_penalty, which vLLM and TGI accept."
        )
    if form == FREQUENCY_PENALTY:
        return (
            f"Repetition penalty {penalty:g} was sent as frequency_penalty "
            f"{as_frequency_penalty(penalty):g}: this server refuses repetition_penalty and "
            "reads frequency_penalty as a repetition penalty of 1 + value (transformers serve)."
        )
    if form == REPEAT_PENALTY:
        return f"Repetition penalty {penalty:g} was sent as repeat_penalty, which llama.cpp reads."
    return f"Repetition penalty {penalty:g} was not sent: this server's API has no such setting."
