"""The pictures a person sends in the Chat tab: taken from this page's own message box only.

    the message box's files (uploaded, dropped, pasted, or taken with the camera under it:
    Gradio's upload route, its cache)
      └ uploaded_path: a file in Gradio's cache, or refused ─ prepare_upload (Caption's checks:
        size limits, decoded safely, upright, downscaled) ─ the JPEG written beside it
      └ picture_part (studio.tasks.chat_images), kept in the session's `made` by its path

The chat the page sends back is then matched against `made` (studio.chat.history.known_only):
a picture is one this session made, or nothing is read. The box's files arrive unprocessed
(`preprocess=False`), so no file a client names is opened before `uploaded_path` checks it.
/chat_with_image (studio.ui.chat.api) takes its picture the same way.
"""

from __future__ import annotations

import asyncio
import mimetypes
import uuid
from pathlib import Path
from typing import Any

import gradio as gr

from studio.errors import InputError
from studio.tasks.chat import content_text
from studio.tasks.chat_images import MAX_PICTURES, TOO_MANY, data_url, picture_part, pictures_in
from studio.tasks.uploads import PreparedImage, prepare_upload
from studio.ui.common import NOT_UPLOADED, shows_errors, uploaded_path

FOLDER = "chat-pictures"  # under Gradio's cache, so the page can show what was sent


def camera(box: gr.MultimodalTextbox) -> gr.Image:
    """A webcam under the message box (the box takes uploads, drops and pastes only): each
    photo taken joins the box's pictures, and the camera is ready for the next."""
    with gr.Accordion("Camera", open=False, elem_id="chat-camera-view"):
        shot = gr.Image(
            label="Take a photo to send with your message",
            type="filepath",
            sources=["webcam"],
            height=240,
            elem_id="chat-camera",
        )
    folder = shot.GRADIO_CACHE
    # Unprocessed: the photo's path is checked (uploaded_path) before the box names it, since
    # the box's own processing would copy whatever file it names into Gradio's cache.
    shot.input(
        lambda photo, message: with_photo(photo, message, folder),
        [shot, box],
        [box, shot],
        queue=False,
        api_visibility="private",
        preprocess=False,
    )
    return shot


@shows_errors
def with_photo(photo: Any, message: Any, folder: str) -> tuple:
    """The box's value with `photo` added to its files, and the camera cleared."""
    if not isinstance(photo, dict) or uploaded_path(photo, folder) is None:
        return gr.skip(), gr.skip()
    text = message.get("text") if isinstance(message, dict) else message
    # The camera's upload names no type: with one, the box shows the photo, not a file icon.
    photo = {**photo, "mime_type": mimetypes.guess_type(photo["path"])[0] or "image/png"}
    box = {"text": text if isinstance(text, str) else "", "files": [*box_files(message), photo]}
    return box, None


def box_files(message: Any) -> list:
    """The files in the message box's value (`{"text", "files"}`); none in a plain str."""
    files = message.get("files") if isinstance(message, dict) else None
    return files if isinstance(files, list) else []


async def pictures_sent(
    message: Any, folder: str | None, made: dict[str, dict], *, max_side: int
) -> list[dict]:
    """The history parts of the pictures in the box, each checked and downscaled as Caption's
    uploads are, and kept in `made`; off the event loop: a photo takes a moment to decode."""
    return await asyncio.to_thread(prepared, message, folder, made, max_side=max_side)


async def with_picture(
    message: Any, image: Any, history: list, folder: str | None, *, max_side: int
) -> str | list[dict]:
    """/chat_with_image's user message: the text, then the picture checked and downscaled as
    the page's are; the pictures already in the conversation count towards the most it keeps."""
    kept = [part for said in history for part in pictures_in(said.get("content"))]
    made = {str(at): part for at, part in enumerate(kept)}
    box = {"text": content_text(message), "files": [image] if image else []}
    return await user_content(box, folder, made, max_side=max_side)


async def user_content(
    message: Any, folder: str | None, made: dict[str, dict], *, max_side: int
) -> str | list[dict]:
    """A user message's content: the box's text alone, or its text then its pictures, each
    checked, downscaled and kept in `made` (`pictures_sent`)."""
    pictures = await pictures_sent(message, folder, made, max_side=max_side)
    text = content_text(message)
    return [{"type": "text", "text": text}, *pictures] if pictures else text


@shows_errors  # a picture that cannot be used: its reason in plain words, the text kept in the box
def prepared(
    message: Any, folder: str | None, made: dict[str, dict], *, max_side: int
) -> list[dict]:
    files = box_files(message)
    if files and not folder:  # no cache to read from: no file is read at all
        raise InputError(NOT_UPLOADED)
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
