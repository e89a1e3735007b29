"""Continue: a reply the token limit cut grows from where it stopped.

    history ending in a cut reply ─ continue_messages ─ messages ending with that reply
    a backend's chat_request: a raw text server's prompt ends with the reply, open, so the
    model continues it exactly from its last character (`ChatRequest.continues_exactly`); a
    chat-completions server gets CONTINUE_INSTRUCTION after it, as a user turn, since their API
    has no standard way to extend the last message
    the text that comes ─ continued_text ─ the reply, grown

Pure: no Gradio, no HTTP. Messages are the plain dicts of `studio.tasks.chat`; the backends ask
`continues_reply` whether a request continues a reply.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from studio.errors import InputError
from studio.tasks.chat import Message, build_messages, normalise_history

CONTINUE_INSTRUCTION = (
    "Continue your last reply from exactly where it stopped. Do not repeat anything already "
    "written and do not comment on it."
)


def continue_messages(
    system_prompt: str | None, history: Iterable[Any] | None, *, budget_chars: int
) -> list[Message]:
    """System prompt, the history that fits, the question, and the cut reply last.

    The cut reply counts against ``budget_chars`` like the question does.
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


def continues_reply(messages: Sequence[Message]) -> bool:
    """Whether these messages ask the model to continue their last one, its own reply: a raw
    prompt then ends inside that reply, open."""
    return bool(messages) and messages[-1]["role"] == "assistant"


def continued_text(partial: str, more: str, *, exact: bool) -> str:
    """The reply with what came after it. ``exact``: the model continued from the reply's last
    character (a raw prompt), so nothing goes between; otherwise it began anew, and a space
    goes between two words."""
    if exact or not partial or not more:
        return partial + more
    if partial[-1].isspace() or more[0].isspace() or more[0] in ".,;:!?)]}'\"":
        return partial + more
    return f"{partial} {more}"
