"""The Caption tab: one sentence that describes an uploaded photo."""

from __future__ import annotations

import functools
from collections.abc import Collection

import gradio as gr

from studio.config import Config
from studio.ui.common import EXAMPLES, caption_uploaded, setup_notice, shows_errors, upload_input


@shows_errors
def caption_upload(config: Config, folder: str, image: dict | None) -> str:
    """The caption of an upload Gradio stored in `folder`, unprocessed (see upload_input)."""
    return caption_uploaded(config, image, folder)


def build(config: Config, served: Collection[str] = ()) -> None:
    setup_notice(config, "caption")
    with gr.Row():
        with gr.Column():
            image = upload_input("Image to caption", height=360, elem_id="caption-image")
            button = gr.Button("Caption", variant="primary")
        with gr.Column():
            caption = gr.Textbox(label="Caption", lines=3, buttons=["copy"], elem_id="caption")
    gr.Examples(EXAMPLES, inputs=[image], label="Example photos")
    button.click(
        functools.partial(caption_upload, config, image.GRADIO_CACHE),
        inputs=image,
        outputs=caption,
        api_name="caption",
        preprocess=False,
    )
