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
    if penalty_as == REPEAT_PENALTY:  # always: llama-cpp-python's own default is 1.1
        body[REPEAT_PENALTY] = penalty
    if penalty != 1.0:
        notes.append(penalty_note(penalty, penalty_as))
        if penalty_as == REPETITION_PENALTY:
            body[REPETITION_PENALTY] = penalty
        elif penalty_as == FREQUENCY_PENALTY:
            body[FREQUENCY_PENALTY] = as_frequency_penalty(penalty)
    return body, notes


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
