"""The Imagine tab: text to image with the course's advanced options, and a gallery per person."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import gradio as gr
from gradio import processing_utils
from PIL import Image

from studio.config import Config, Endpoint
from studio.tasks.images import (
    MAX_GUIDANCE,
    MAX_SIZE,
    MAX_STEPS,
    MIN_GUIDANCE,
    MIN_SIZE,
    MIN_STEPS,
    RANDOM_SEED,
    SIZE_STEP,
    ImageRequest,
    describe,
    image_from_answer,
    looks_blank,
    make_image_request,
    png_with_parameters,
)
from studio.transport import get_completion
from studio.ui.common import notify_progress, require_setup, setup_notice, shows_errors

BLANK_WARNING = (
    "The image came back all black. That is most likely the model's safety filter: try "
    "another prompt or another seed."
)
HISTORY_LIMIT = 48  # pictures kept in a person's gallery, newest first
EXAMPLES = [
    ["A watercolour of a lighthouse on a cliff at dawn"],
    ["A robot reading a book in a cosy library, digital art"],
    ["A bowl of ramen on a wooden table, studio photograph"],
]


def generate_picture(endpoint: Endpoint, request: ImageRequest) -> Image.Image:
    """Ask the image model; raw image bytes, base64 in JSON and `b64_json` all decode."""
    answer = get_completion(
        endpoint, request.prompt, request.to_parameters(), progress=notify_progress
    )
    return image_from_answer(answer)


def save_png(picture: Image.Image, request: ImageRequest, *, model: str, folder: str) -> str:
    """Write the PNG with its settings inside where Gradio serves files from, and return its
    path. Gradio serves a file already there as is, so a download is exactly these bytes."""
    png = png_with_parameters(picture, request, model=model)
    return processing_utils.save_bytes_to_cache(png, f"studio-{request.seed}.png", folder)


def settings_line(request: ImageRequest, picture: Image.Image) -> str:
    """Every setting, and a note when the picture looks like the safety filter's black square."""
    line = describe(request)
    return f"{line} · all black: probably the safety filter" if looks_blank(picture) else line


def build(config: Config, served: Collection[str] = ()) -> None:
    endpoint = config.endpoint("image")
    setup_notice(config, "image")
    history = gr.State([])  # this person's pictures in this browser session, newest first
    latest = gr.State(None)  # the latest picture's record: path, seed, settings
    with gr.Row(equal_height=True):
        prompt = gr.Textbox(
            label="Prompt", placeholder="Describe the image to make", lines=2, scale=5
        )
        with gr.Column(scale=1, min_width=140):
            generate = gr.Button("Generate", variant="primary")
            stop = gr.Button("Stop", variant="stop")
    with gr.Accordion("Advanced options", open=False):
        negative_prompt = gr.Textbox(
            label="Negative prompt", placeholder="What the image should not show"
        )
        with gr.Row():
            steps = gr.Slider(MIN_STEPS, MAX_STEPS, value=25, step=1, label="Inference steps")
            guidance = gr.Slider(
                MIN_GUIDANCE, MAX_GUIDANCE, value=7, step=0.5, label="Guidance scale"
            )
        with gr.Row():
            width = gr.Slider(MIN_SIZE, MAX_SIZE, value=512, step=SIZE_STEP, label="Width")
            height = gr.Slider(MIN_SIZE, MAX_SIZE, value=512, step=SIZE_STEP, label="Height")
        with gr.Row():
            seed = gr.Number(
                RANDOM_SEED,
                label="Seed (-1: random)",
                precision=0,
                elem_id="imagine-seed",
                scale=3,
            )
            with gr.Column(scale=1, min_width=180):
                random_seed = gr.Button("Random seed", size="sm")
                reuse_seed = gr.Button("Reuse last seed", size="sm")
    with gr.Row():
        with gr.Column(scale=3):
            result = gr.Image(
                label="Result",
                type="filepath",
                format="png",
                interactive=False,
                buttons=["download", "fullscreen"],
                height=512,
                elem_id="imagine-result",
            )
            settings = gr.Textbox(
                label="How it was made",
                interactive=False,
                buttons=["copy"],
                elem_id="imagine-settings",
            )
        with gr.Column(scale=2):
            gallery = gr.Gallery(
                label="Your images in this session",
                elem_id="imagine-gallery",
                columns=3,
                fit_columns=False,
                height=560,
                object_fit="contain",
                interactive=False,
            )
    gr.Examples(EXAMPLES, inputs=[prompt], label="Example prompts")

    @shows_errors
    def generate_image(
        prompt: str,
        negative_prompt: str | None = None,
        steps: float = 25,
        guidance: float = 7,
        width: float = 512,
        height: float = 512,
        seed: float = RANDOM_SEED,
    ) -> tuple[str, dict[str, Any]]:
        request = make_image_request(
            prompt,
            negative_prompt=negative_prompt,
            steps=steps,
            guidance=guidance,
            width=width,
            height=height,
            seed=seed,
        )
        require_setup(config, "image")
        picture = generate_picture(endpoint, request)
        if looks_blank(picture):  # shown anyway: the settings say what to change
            gr.Warning(BLANK_WARNING)
        path = save_png(picture, request, model=endpoint.model, folder=result.GRADIO_CACHE)
        record = {
            "path": path,
            "seed": request.seed,
            "prompt": request.prompt,
            "settings": settings_line(request, picture),
        }
        return path, record

    def remember(record: dict[str, Any], pictures: list) -> tuple[str, list, list]:
        pictures = [(record["path"], f"{record['prompt']} · seed {record['seed']}"), *pictures]
        pictures = pictures[:HISTORY_LIMIT]
        return record["settings"], pictures, pictures

    def last_seed(record: dict[str, Any] | None):
        if not record:
            gr.Info("Generate an image first; then its seed can be used again.")
            return gr.skip()
        return record["seed"]

    # preprocess=False: the values reach make_image_request as sent, so it is the one place
    # that checks them and says what is wrong.
    generating = gr.on(
        [generate.click, prompt.submit],
        generate_image,
        inputs=[prompt, negative_prompt, steps, guidance, width, height, seed],
        outputs=[result, latest],
        api_name="generate_image",
        preprocess=False,
    )
    generating.success(
        remember,
        inputs=[latest, history],
        outputs=[settings, gallery, history],
        api_visibility="private",
    )
    stop.click(None, cancels=[generating])
    random_seed.click(lambda: RANDOM_SEED, outputs=seed, api_visibility="private")
    reuse_seed.click(last_seed, inputs=latest, outputs=seed, api_visibility="private")
