"""The Caption tab: one sentence that describes an uploaded photo."""

from __future__ import annotations

import functools
from collections.abc import Collection

import gradio as gr

from studio.classroom.usage import Caller, Meter
from studio.config import Config
from studio.snippets import photo
from studio.ui.code_panel import api_call, code_panel, panel_values
from studio.ui.common import (
    EXAMPLES,
    caption_upload,
    caption_uploaded,
    setup_notice,
    shows_errors,
    upload_input,
)
from studio.ui.look import in_view_on_phone
from studio.ui.model_picker import model_picker
from studio.ui.status_line import status_line
from studio.ui.stop import stop_button, stop_control
from studio.ui.waiting import api_event, page_event, time_limit


@shows_errors
def caption_with_model(
    config: Config,
    folder: str,
    image: dict | None,
    model: str | None = None,
    *,
    caller: Caller | None = None,
) -> str:
    """Describe a photo in one sentence with an image-captioning model the server serves.

    The API's /caption_with_model, where the captions come from a vision chat server: /caption
    keeps the one input it was published with, as curl scripts send it.

    Args:
        image: an image: an http(s) URL or a data: URL (base64), or a file uploaded to the studio
        model: a model the vision chat server serves; empty: the configured one

    Returns:
        the caption: one sentence
    """
    return caption_uploaded(config, image, folder, model, caller=caller)


def caption_with_code(
    config: Config,
    image: dict | None,
    model: str | None = None,
    *,
    folder: str,
    caller: Caller | None = None,
) -> tuple:
    """The page's caption, by the model the person picked (None: the configured one), then its
    card and code: /caption_with_model when the person picked another model than the
    configured one, /caption otherwise."""
    calls: list = []
    caption = caption_uploaded(config, image, folder, model, calls=calls, caller=caller)
    api_name, args = api_call(config.endpoint("caption"), "/caption", [photo()], model)
    return caption, *panel_values(config, "Caption", calls, api_name, args)


def build(config: Config, served: Collection[str] = (), meter: Meter | None = None) -> None:
    setup_notice(config, "caption")
    with gr.Row():
        with gr.Column():
            image = upload_input("Image to caption", height=360, elem_id="caption-image")
            picker = model_picker(config.endpoint("caption"))
            inputs = [image, picker] if picker else [image]
            with gr.Row():
                button = gr.Button("Caption", variant="primary", scale=2)
                stop = stop_control(scale=1, elem_id="caption-stop")
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
        inputs,
        [caption, *panel.outputs],
        status,
        doing="Captioning",
        limit=time_limit(config, "caption"),
        preprocess=False,
        meter=meter,
        stop=stop,
    )
    stop_button(stop, [captioning], status)
    in_view_on_phone(caption)
    api_event(
        functools.partial(caption_upload, config, folder),
        [image],
        caption,
        api_name="caption",
        preprocess=False,
        meter=meter,
    )
    if picker:  # the model can be chosen per request: an API name of its own takes it
        model = gr.Textbox("", label="Model (empty: the configured one)", visible=False)
        api_event(
            functools.partial(caption_with_model, config, folder),
            [image, model],
            caption,
            api_name="caption_with_model",
            preprocess=False,
            meter=meter,
        )
