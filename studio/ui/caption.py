"""The Caption tab: one sentence that describes an uploaded photo."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

import gradio as gr

from studio.config import Config, Endpoint
from studio.errors import InputError
from studio.tasks.images import (
    PreparedImage,
    caption_chat_body,
    caption_from_answer,
    prepare_upload,
)
from studio.transport import get_completion, post_json
from studio.ui.common import notify_progress, require_setup, setup_notice, shows_errors

ASSETS = Path(__file__).resolve().parents[2] / "assets"
EXAMPLES = [[str(path)] for path in sorted(ASSETS.glob("*.jpg"))]
NOT_UPLOADED = "Upload the image again: only an image uploaded to the studio can be used."


def caption_image(endpoint: Endpoint, image: PreparedImage) -> str:
    """Ask the captioning model in the protocol its endpoint speaks; the caption, stripped."""
    if endpoint.protocol == "openai":  # a vision chat model: the image as a data URL
        body = caption_chat_body(endpoint.model, image.to_data_url())
        return caption_from_answer(post_json(endpoint, "/chat/completions", body))
    # The task API takes the raw JPEG; the local backend answers in the same shape.
    answer = get_completion(
        endpoint, image.jpeg, content_type="image/jpeg", progress=notify_progress
    )
    return caption_from_answer(answer)


def upload_input(label: str, **options: Any) -> gr.Image:
    """An image upload that our code opens itself, so that a file too large to decode safely
    or one that is not an image gets our message (Gradio would open it first otherwise).

    Events that read it pass `preprocess=False` and `prepare` to get the file.
    """
    return gr.Image(
        label=label,
        type="filepath",
        sources=["upload", "webcam", "clipboard"],
        **options,
    )


def uploaded_path(payload: Any, folder: str) -> str | None:
    """The file behind an unprocessed image input, which must be one Gradio stored in `folder`
    (uploads and examples): a client could otherwise name any path on the server."""
    path = payload.get("path") if isinstance(payload, dict) else None
    if not path:
        return None
    if not Path(path).resolve().is_relative_to(Path(folder).resolve()):
        raise InputError(NOT_UPLOADED)
    return path


def prepare(config: Config, payload: Any, folder: str) -> PreparedImage:
    """The upload checked, upright, RGB and downscaled, as the JPEG to send."""
    return prepare_upload(uploaded_path(payload, folder), max_side=config.max_image_side)


def caption_uploaded(config: Config, payload: Any, folder: str) -> str:
    """Caption an unprocessed upload; the file is checked before any model is asked."""
    prepared = prepare(config, payload, folder)
    require_setup(config, "caption")
    return caption_image(config.endpoint("caption"), prepared)


def build(config: Config, served: Collection[str] = ()) -> None:
    setup_notice(config, "caption")
    with gr.Row():
        with gr.Column():
            image = upload_input("Image to caption", height=360, elem_id="caption-image")
            button = gr.Button("Caption", variant="primary")
        with gr.Column():
            caption = gr.Textbox(label="Caption", lines=3, buttons=["copy"], elem_id="caption")
    gr.Examples(EXAMPLES, inputs=[image], label="Example photos")

    uploads = image.GRADIO_CACHE  # where Gradio keeps uploads and examples

    @shows_errors
    def caption_upload(image: dict | None) -> str:
        return caption_uploaded(config, image, uploads)

    button.click(
        caption_upload, inputs=image, outputs=caption, api_name="caption", preprocess=False
    )
