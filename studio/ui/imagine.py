"""The Imagine tab: text to image with the course's advanced options, and a gallery per person."""

from __future__ import annotations

import functools
from collections.abc import Collection
from typing import Any

import gradio as gr

from studio.config import Config
from studio.services import ignored_options, paint_picture, require_setup
from studio.tasks.image_settings import (
    MAX_GUIDANCE,
    MAX_SIZE,
    MAX_STEPS,
    MIN_GUIDANCE,
    MIN_SIZE,
    MIN_STEPS,
    RANDOM_SEED,
    SIZE_STEP,
    make_image_request,
)
from studio.ui.common import keep_picture, notify_progress, setup_notice, shows_errors

HISTORY_LIMIT = 48  # pictures kept in a person's gallery, newest first
EXAMPLES = [
    ["A watercolour of a lighthouse on a cliff at dawn"],
    ["A robot reading a book in a cosy library, digital art"],
    ["A bowl of ramen on a wooden table, studio photograph"],
]


@shows_errors
def generate_image(
    config: Config,
    folder: str,
    prompt: str,
    negative_prompt: str | None = None,
    steps: float = 25,
    guidance: float = 7,
    width: float = 512,
    height: float = 512,
    seed: float = RANDOM_SEED,
) -> tuple[str, dict[str, Any]]:
    """The picture's path (a PNG with its settings inside, in `folder`) and its record."""
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
    endpoint = config.endpoint("image")
    picture = paint_picture(endpoint, request, progress=notify_progress)
    return keep_picture(picture, request, model=endpoint.model, folder=folder)


def remember(record: dict[str, Any], pictures: list) -> tuple[str, list, list]:
    """The new picture first in the person's gallery, which keeps the newest HISTORY_LIMIT."""
    pictures = [(record["path"], f"{record['prompt']} · seed {record['seed']}"), *pictures]
    pictures = pictures[:HISTORY_LIMIT]
    return record["settings"], pictures, pictures


def last_seed(record: dict[str, Any] | None):
    if not record:
        gr.Info("Generate an image first; then its seed can be used again.")
        return gr.skip()
    return record["seed"]


def options_note(config: Config) -> str:
    """Which options the image server ignores, in small print; empty when it uses them all."""
    note = ignored_options(config.endpoint("image"))
    return f"*{note}*" if note else ""


def advanced_options() -> list[gr.components.Component]:
    """Negative prompt, steps, guidance, width, height and seed, in the request's order."""
    negative_prompt = gr.Textbox(
        label="Negative prompt", placeholder="What the image should not show"
    )
    with gr.Row():
        steps = gr.Slider(MIN_STEPS, MAX_STEPS, value=25, step=1, label="Inference steps")
        guidance = gr.Slider(MIN_GUIDANCE, MAX_GUIDANCE, value=7, step=0.5, label="Guidance scale")
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
    return [negative_prompt, steps, guidance, width, height, seed]


def results() -> tuple[gr.Image, gr.Textbox, gr.Gallery]:
    """The picture, how it was made, and the person's gallery."""
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
    return result, settings, gallery


def build(config: Config, served: Collection[str] = ()) -> None:
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
        negative_prompt, steps, guidance, width, height, seed = advanced_options()
        note = gr.Markdown(options_note(config), elem_id="imagine-options")
        with gr.Row():
            with gr.Column(scale=1, min_width=180):
                random_seed = gr.Button("Random seed", size="sm")
                reuse_seed = gr.Button("Reuse last seed", size="sm")
    result, settings, gallery = results()
    gr.Examples(EXAMPLES, inputs=[prompt], label="Example prompts")

    # preprocess=False: the values reach make_image_request as sent, so it is the one place
    # that checks them and says what is wrong.
    generating = gr.on(
        [generate.click, prompt.submit],
        functools.partial(generate_image, config, result.GRADIO_CACHE),
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
    # Read again on each page load and after each picture: the provider is named once the Hub
    # has said which it is.
    note_again = {"outputs": note, "api_visibility": "private", "show_progress": "hidden"}
    gr.on(None, functools.partial(options_note, config), **note_again)
    generating.success(functools.partial(options_note, config), **note_again)
    stop.click(None, cancels=[generating])
    random_seed.click(lambda: RANDOM_SEED, outputs=seed, api_visibility="private")
    reuse_seed.click(last_seed, inputs=latest, outputs=seed, api_visibility="private")
