"""Pictures in a chat: how one rides in the chat's history and goes out in a request.

    an upload ─ prepared (studio.tasks.uploads: checked, upright, downscaled JPEG)
      └ picture_part: the history's part, a file the page shows, carrying its data URL
    the history ─ message_content ─ an OpenAI message's parts: text, then `image_url`s

A picture stays in the chat: every later turn sends it again, since a chat model remembers
nothing between requests (and is dropped with its turn when the conversation is trimmed to
fit). The data URL rides in the part under `SENT` beside the file the Chatbot shows; Gradio
shows the file and never sends that field to the page, so the page never hands it back: the
page's copy of the chat is matched to the parts this chat made (studio.chat.history.known_only),
never read from a path a client wrote. Pure: no Gradio, no HTTP.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from typing import Any

SENT = "studio_data_url"  # the part's field that holds what is sent: never shown, never sent back
# A picture's share of the chat's character budget (studio.tasks.chat.CHARS_PER_TOKEN): vision
# models read a 1024-pixel picture as roughly 250 to 1,600 tokens; about 1,000 is counted.
IMAGE_CHARS = 4_000
MAX_PICTURES = 16  # a chat's pictures, kept in memory while the page is open

PICTURES_NOT_TAKEN = (
    "This chat's model server is asked in a way that carries text only, so the picture was not "
    "sent. Send the text alone (Undo takes the message back into the box)."
)
MODEL_TEXT_ONLY = (
    "{model} takes text only (the server's model list says so), so the picture was not sent. "
    "Pick a model that takes images{such_as}, or send the text alone (Undo takes the message "
    "back into the box)."
)
TOO_MANY = (
    f"This chat already holds {MAX_PICTURES} pictures, as many as it keeps. Clear the chat to "
    "start a new one with more."
)


def data_url(jpeg: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")


def picture_part(path: str, url: str, name: str) -> dict[str, Any]:
    """The history's part for a picture sent: the file `path` the page shows (the JPEG that
    was sent, in Gradio's cache), named `name`, and its data URL."""
    file = {"path": path, "mime_type": "image/jpeg", "orig_name": name}
    return {"type": "file", "file": file, "alt_text": name, SENT: url}


def is_picture(part: Any) -> bool:
    return isinstance(part, Mapping) and isinstance(part.get(SENT), str)


def picture_path(part: Any) -> str | None:
    """The path of a file part, as the page sends it back; None for any other part."""
    if isinstance(part, Mapping) and part.get("type") == "file":
        file = part.get("file")
        path = file.get("path") if isinstance(file, Mapping) else None
        return path if isinstance(path, str) else None
    return None


def pictures_in(content: Any) -> list[dict[str, Any]]:
    """The picture parts of a message's content (a str has none)."""
    parts = content if isinstance(content, list | tuple) else [content]
    return [part for part in parts if is_picture(part)]


def message_content(text: str, content: Any) -> str | list[dict[str, Any]]:
    """What a message sends: its text alone, or, with pictures, the OpenAI parts: the text
    first, then each picture as an `image_url` data URL."""
    urls = [part[SENT] for part in pictures_in(content)]
    if not urls:
        return text
    parts = [{"type": "text", "text": text}] if text else []
    return parts + [{"type": "image_url", "image_url": {"url": url}} for url in urls]


def content_chars(content: Any) -> int:
    """A message's share of the character budget: its text, and IMAGE_CHARS per picture."""
    if isinstance(content, str):
        return len(content)
    return sum(
        IMAGE_CHARS if part.get("type") == "image_url" else len(str(part.get("text", "")))
        for part in content
        if isinstance(part, Mapping)
    )


def has_pictures(messages: Iterable[Any]) -> bool:
    """Whether any message of a request (OpenAI messages) carries a picture."""
    return any(
        isinstance(message, Mapping)
        and isinstance(message.get("content"), list)
        and any(
            isinstance(part, Mapping) and part.get("type") == "image_url"
            for part in message["content"]
        )
        for message in messages
    )


def text_only_model(model: str, takers: Iterable[str] = ()) -> str:
    """Why a picture was not sent to `model`, naming up to two listed models that take one."""
    named = list(takers)[:2]
    such_as = f", such as {' or '.join(named)}" if named else ""
    return MODEL_TEXT_ONLY.format(model=model, such_as=such_as)


def shortened(messages: Any) -> Any:
    """`messages` with each picture's data URL cut to its start and its length: for people to
    read what was sent, a photo being some hundred thousand characters of base64."""
    if isinstance(messages, list):
        return [shortened(item) for item in messages]
    if not isinstance(messages, Mapping):
        return messages
    url = messages.get("url") if isinstance(messages.get("url"), str) else ""
    if url.startswith("data:") and len(url) > 80:
        head = url[: url.index(",") + 1] if "," in url else url[:40]
        return {**messages, "url": f"{head}… ({len(url):,} characters)"}
    return {key: shortened(value) for key, value in messages.items()}
