"""The pictures a person sends in the Chat tab: taken from this page's own message box only.

    the message box's files (uploaded, dropped or pasted: Gradio's upload route, its cache)
      └ uploaded_path: a file in Gradio's cache, or refused ─ prepare_upload (Caption's checks:
        size limits, decoded safely, upright, downscaled) ─ the JPEG written beside it
      └ picture_part (studio.tasks.chat_images), kept in the session's `made` by its path

The chat the page sends back is then matched against `made` (studio.chat.history.known_only):
a picture is one this session made, or nothing is read. The box's files arrive unprocessed
(`preprocess=False`), so no file a client names is opened before `uploaded_path` checks it.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

from studio.errors import InputError
from studio.tasks.chat_images import MAX_PICTURES, TOO_MANY, data_url, picture_part
from studio.tasks.uploads import PreparedImage, prepare_upload
from studio.ui.common import NOT_UPLOADED, shows_errors, uploaded_path

FOLDER = "chat-pictures"  # under Gradio's cache, so the page can show what was sent


def box_files(message: Any) -> list:
    """The files in the message box's value (`{"text", "files"}`); none in a plain str."""
    files = message.get("files") if isinstance(message, dict) else None
    return files if isinstance(files, list) else []


async def pictures_sent(
    message: Any, folder: str, made: dict[str, dict], *, max_side: int
) -> list[dict]:
    """The history parts of the pictures in the box, each checked and downscaled as Caption's
    uploads are, and kept in `made`; off the event loop: a photo takes a moment to decode."""
    return await asyncio.to_thread(prepared, message, folder, made, max_side=max_side)


@shows_errors  # a picture that cannot be used: its reason in plain words, the text kept in the box
def prepared(message: Any, folder: str, made: dict[str, dict], *, max_side: int) -> list[dict]:
    files = box_files(message)
    if len(made) + len(files) > MAX_PICTURES:
        raise InputError(TOO_MANY)
    parts = []
    for file in files:
        path = uploaded_path(file, folder)
        if path is None:
            raise InputError(NOT_UPLOADED)
        picture = prepare_upload(path, max_side=max_side)
        parts.append(keep(picture, folder, _name(file, path), made))
    return parts


def keep(prepared: PreparedImage, folder: str, name: str, made: dict[str, dict]) -> dict:
    """The JPEG that is sent, written where Gradio serves it from, and its part kept."""
    where = Path(folder).resolve() / FOLDER
    where.mkdir(parents=True, exist_ok=True)
    path = where / f"{uuid.uuid4().hex}.jpg"
    path.write_bytes(prepared.jpeg)
    part = picture_part(str(path), data_url(prepared.jpeg), name)
    made[str(path)] = part
    return part


def _name(file: dict, path: str) -> str:
    name = file.get("orig_name")
    return name if isinstance(name, str) and name.strip() else Path(path).name
