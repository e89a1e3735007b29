"""The chat's history as the page hands it over and edits it: what the starts take.

    a page's chat ─ text_only ─ the chat, if it holds only text (InputError otherwise)
    Retry ─ without_last_reply      Undo ─ undo_last_message      edit ─ history_edited

Pure: no Gradio. A history item is a dict, or a gr.ChatMessage (`studio.tasks.chat.field_of`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from studio.errors import InputError
from studio.tasks.chat import content_text, field_of

NOT_TEXT = (
    "The chat history this page sent has a file or a component in it, which the chat did not "
    "make: the Chat tab takes only text, so nothing was read. Reload the page to start a new "
    "chat."
)


def text_only(history: Any) -> list:
    """``history`` as a page sends it, if every part of every message is text (a str or a
    ``{"type": "text", "text": str}`` part); InputError otherwise."""
    if history is None:
        return []
    if not isinstance(history, list):
        raise InputError(NOT_TEXT)
    for message in history:
        content = field_of(message, "content")
        if not all(map(_is_text, content if isinstance(content, list) else [content])):
            raise InputError(NOT_TEXT)
    return history


def _is_text(part: Any) -> bool:
    if isinstance(part, Mapping):
        return part.get("type") == "text" and isinstance(part.get("text"), str)
    return isinstance(part, str)


def without_last_reply(history: Iterable[Any] | None) -> list:
    """For Retry: the chat up to the last user message, whose reply is then asked for again."""
    history = list(history or [])
    index = _last_user_index(history)
    return history if index is None else history[: index + 1]


def undo_last_message(history: Iterable[Any] | None) -> tuple[list, str]:
    """For Undo: the chat before the last user message, which goes back into the message box."""
    history = list(history or [])
    index = _last_user_index(history)
    if index is None:
        return history, ""
    return history[:index], content_text(field_of(history[index], "content"))


def history_edited(history: Sequence[Any] | None, index: Any, value: Any) -> list:
    """For an edited user message: the chat before it, then the message as now written; the
    replies after it go, so a new one can be asked for."""
    at = index[0] if isinstance(index, list | tuple) else index
    text = content_text(value)
    if not isinstance(at, int) or not text:
        return list(history or [])
    return [*list(history or [])[:at], {"role": "user", "content": text}]


def _last_user_index(history: Sequence[Any]) -> int | None:
    indices = range(len(history) - 1, -1, -1)
    return next((i for i in indices if field_of(history[i], "role") == "user"), None)
