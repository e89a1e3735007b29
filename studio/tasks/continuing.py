"""Going on with a reply the token limit cut, and asking again from an edited question.

    history ending in a cut reply ─ continuation_messages ─ messages ending with that reply
    a backend's chat_request: a raw text server's prompt ends with the reply, open, so the
    model writes on from its last word; a chat-completions server gets CONTINUE_INSTRUCTION
    after it, as a user turn, since their API has no standard way to extend the last message

Pure: no Gradio, no HTTP. Messages are the plain dicts of `studio.tasks.chat`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from studio.errors import InputError
from studio.tasks.chat import Message, build_messages, content_text, normalise_history

CONTINUE_INSTRUCTION = (
    "Continue your last reply from exactly where it stopped. Do not repeat anything already "
    "written and do not comment on it."
)


def continuation_messages(
    system_prompt: str | None, history: Iterable[Any] | None, *, budget_chars: int
) -> list[Message]:
    """System prompt, the history that fits, the question, and the partial reply last.

    The partial reply counts against ``budget_chars`` like the question does.
    """
    messages = normalise_history(history)
    if len(messages) < 2 or messages[-1]["role"] != "assistant":
        raise InputError("There is no reply to continue.")
    partial = messages[-1]["content"]
    asked = max(i for i, m in enumerate(messages) if m["role"] == "user")
    budget = budget_chars - len(partial)
    if budget <= 0:
        raise InputError("The reply is as long as this chat may be; it cannot go on.")
    built = build_messages(
        system_prompt, messages[:asked], messages[asked]["content"], budget_chars=budget
    )
    return [*built, {"role": "assistant", "content": partial}]


def is_continuation(messages: Sequence[Message]) -> bool:
    """Whether these messages ask the model to go on with their last one, its own reply."""
    return bool(messages) and messages[-1]["role"] == "assistant"


def join_continuation(partial: str, more: str, *, exact: bool) -> str:
    """The reply with what came after it. ``exact``: the model wrote on from the reply's last
    character (a raw prompt), so nothing goes between; otherwise it began anew, and a space
    goes between two words."""
    if exact or not partial or not more:
        return partial + more
    if partial[-1].isspace() or more[0].isspace() or more[0] in ".,;:!?)]}'\"":
        return partial + more
    return f"{partial} {more}"


def history_edited(history: Sequence[Any] | None, index: Any, value: Any) -> list:
    """For an edited user message: the chat before it, then the message as now written; the
    replies after it go, so a new one can be asked for."""
    at = index[0] if isinstance(index, list | tuple) else index
    text = content_text(value)
    if not isinstance(at, int) or not text:
        return list(history or [])
    return [*list(history or [])[:at], {"role": "user", "content": text}]
