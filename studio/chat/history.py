"""The chat's history as the page hands it over and edits it: what the starts take.

    a page's chat ─ known_only ─ the chat, if it holds only text and the pictures this chat
                                  made, each put back as made (InputError otherwise)
    Retry ─ without_last_reply      Undo ─ undo_last_message      edit ─ history_edited

Pure: no Gradio. A history item is a dict, or a gr.ChatMessage (`studio.tasks.chat.field_of`).
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from studio.errors import InputError
from studio.tasks.chat import content_text, field_of
from studio.tasks.chat_images import is_picture, picture_path, pictures_in

NOT_TEXT = (
    "The chat history this page sent has a file or a component in it that this chat did not "
    "make, so nothing was read. Reload the page to start a new chat."
)


def text_only(history: Any) -> list:
    """``history`` as a page sends it, if every part of every message is text (a str or a
    ``{"type": "text", "text": str}`` part); InputError otherwise."""
    return known_only(history, {})


def known_only(history: Any, made: Mapping[str, Mapping]) -> list:
    """``history`` as a page sends it, if every part is text or a picture this chat made (a
    file part whose path is a key of `made`), each picture put back as made: the page's copy
    of a part is never used. InputError for anything else, before anything reads it."""
    if history is None:
        return []
    if not isinstance(history, list):
        raise InputError(NOT_TEXT)
    checked = []
    for message in history:
        content = field_of(message, "content")
        parts = [
            _known(part, made) for part in (content if isinstance(content, list) else [content])
        ]
        if any(part is None for part in parts):
            raise InputError(NOT_TEXT)
        if isinstance(content, list) and any(map(is_picture, parts)):
            message = {**message, "content": parts}  # a picture: as made, not as sent back
        checked.append(message)
    return history if all(map(operator.is_, checked, history)) else checked


def _known(part: Any, made: Mapping[str, Mapping]) -> Any:
    if _is_text(part):
        return part
    path = picture_path(part)
    return made.get(path) if path is not None else None


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
    history = list(history or [])
    at = index[0] if isinstance(index, list | tuple) else index
    text = content_text(value)
    if not isinstance(at, int) or not text:
        return history
    edited = history[at] if 0 <= at < len(history) else {}
    pictures = pictures_in(field_of(edited, "content"))  # an edit changes the text alone
    content = [{"type": "text", "text": text}, *pictures] if pictures else text
    return [*history[:at], {"role": "user", "content": content}]


def _last_user_index(history: Sequence[Any]) -> int | None:
    indices = range(len(history) - 1, -1, -1)
    return next((i for i in indices if field_of(history[i], "role") == "user"), None)
