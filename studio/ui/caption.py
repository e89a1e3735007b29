"""The Caption tab: one sentence that describes an uploaded photo."""

from __future__ import annotations

import functools
from collections.abc import Collection

import gradio as gr

from studio.config import Config
from studio.snippets import photo
from studio.ui.code_panel import code_panel, shown
from studio.ui.common import EXAMPLES, caption_uploaded, setup_notice, shows_errors, upload_input
from studio.ui.waiting import api_event, page_event, status_line, stop_button, time_limit


@shows_errors
def caption_upload(config: Config, folder: str, image: dict | None) -> str:
    """The caption of an upload Gradio stored in `folder`, unprocessed (see upload_input)."""
    return caption_uploaded(config, image, folder)


def caption_with_code(config: Config, image: dict | None, folder: str) -> tuple:
    """The page's caption, then its card and code."""
    calls: list = []
    caption = caption_uploaded(config, image, folder, calls)
    return caption, *shown(config, "Caption", calls, "/caption", [photo()])


def build(config: Config, served: Collection[str] = ()) -> None:
    setup_notice(config, "caption")
    with gr.Row():
        with gr.Column():
            image = upload_input("Image to caption", height=360, elem_id="caption-image")
            with gr.Row():
                button = gr.Button("Caption", variant="primary", scale=2)
                stop = gr.Button("Stop", variant="stop", scale=1)
                clear = gr.ClearButton(scale=1)
            status = status_line("caption")
        with gr.Column():
            caption = gr.Textbox(label="Caption", lines=3, buttons=["copy"], elem_id="caption")
            panel = code_panel("caption")
    gr.Examples(EXAMPLES, inputs=[image], label="Example photos")
    clear.add([image, caption, status, *panel.outputs])
    folder = image.GRADIO_CACHE
    # preprocess=False: our code opens the upload, so a file that is not an image gets our words.
    captioning = page_event(
        [button.click],
        functools.partial(caption_with_code, config, folder=folder),
        [image],
        [caption, *panel.outputs],
        status,
        doing="Captioning",
        limit=time_limit(config, "caption"),
        preprocess=False,
    )
    stop_button(stop, [captioning], status)
    api_event(
        functools.partial(caption_upload, config, folder),
        image,
        caption,
        api_name="caption",
        preprocess=False,
    )
