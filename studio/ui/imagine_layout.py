"""The Imagine tab's layout: the prompt and its controls beside the result on a wide screen
(one above the other on a phone), the person's gallery below once it has a picture."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from studio.tasks.image_settings import (
    GUIDANCE,
    HEIGHT,
    RANDOM_SEED,
    SHAPES,
    SIZE_STEP,
    STEPS,
    WIDTH,
)
from studio.tasks.model_settings import PictureDefaults, guidance_note, picture_defaults
from studio.ui.code_panel import code_panel
from studio.ui.common import made_picture, slider, upload_input
from studio.ui.status_line import status_line
from studio.ui.stop import stop_control

EXAMPLES = [
    ["A watercolour of a lighthouse on a cliff at dawn"],
    ["A robot reading a book in a cosy library, digital art"],
    ["A bowl of ramen on a wooden table, studio photograph"],
]
SEED_INFO = "The same seed and settings make the same picture again; -1 picks one at random."


@dataclass(frozen=True)
class ImaginePage:
    """The tab's components, for the event wiring."""

    prompt: Any
    negative_prompt: Any
    steps: Any
    guidance: Any
    width: Any
    height: Any
    seed: Any
    options_note: Any  # which options the image server ignores, in small print
    generate: Any
    stop: Any
    clear: Any
    status: Any
    shapes: list  # (button, (width, height))
    swap: Any
    random_seed: Any
    reuse_seed: Any
    png: Any
    png_text: Any
    use_png: Any
    png_status: Any
    result: Any
    settings: Any
    gallery: Any
    history: Any  # this person's pictures' records in this browser session, newest first
    latest: Any  # the latest picture's record: path, seed, settings
    panel: Any  # the latest picture's card and code (studio.ui.code_panel)

    @property
    def controls(self) -> list:
        """The request's inputs in its order: prompt, negative prompt, steps, guidance, width,
        height, seed."""
        return [
            self.prompt,
            self.negative_prompt,
            self.steps,
            self.guidance,
            self.width,
            self.height,
            self.seed,
        ]


def layout(model: str = "") -> ImaginePage:
    """The tab's components, its sliders where `model` (its id, or its URL) starts."""
    parts: dict[str, Any] = {"history": gr.State([]), "latest": gr.State(None)}
    with gr.Row():
        with gr.Column(scale=5, min_width=300):
            parts["prompt"] = gr.Textbox(
                label="Prompt", placeholder="Describe the image to make", lines=3
            )
            with gr.Row():
                parts["generate"] = gr.Button("Generate", variant="primary", scale=2)
                parts["stop"] = stop_control(scale=1, elem_id="imagine-stop")
                parts["clear"] = gr.ClearButton(scale=1)
            parts["status"] = status_line("imagine")
            with gr.Accordion("Advanced options", open=False):
                parts |= advanced_options(picture_defaults(model), guidance_note(model))
            with gr.Accordion("Settings inside a PNG", open=False):
                parts |= png_info()
            gr.Examples(EXAMPLES, inputs=[parts["prompt"]], label="Example prompts")
        with gr.Column(scale=6, min_width=300):
            parts["result"], parts["settings"] = made_picture(
                "Result", "imagine", elem_id="imagine-result", height=480
            )
            parts["panel"] = code_panel("imagine")
    parts["gallery"] = gr.Gallery(
        label="Your images (choose one to bring back its settings)",
        elem_id="imagine-gallery",
        columns=4,  # two on a phone (studio.ui.look)
        fit_columns=False,
        height="auto",  # as tall as its pictures
        object_fit="contain",
        allow_preview=False,
        interactive=False,
        visible=False,  # until the first picture: an empty gallery is only a tall grey box
    )
    return ImaginePage(**parts)


def advanced_options(defaults: PictureDefaults, note: str) -> dict[str, Any]:
    """Negative prompt, steps, guidance, the shape, width, height and seed: the steps and
    guidance at the model's defaults, the guidance fixed for a model that runs without it."""
    parts: dict[str, Any] = {}
    parts["negative_prompt"] = gr.Textbox(
        label="Negative prompt", placeholder="What the image should not show"
    )
    with gr.Row():
        parts["steps"] = slider(
            STEPS,
            1,
            defaults.steps,
            label="Steps",
            info="More steps: more detail, and slower.",
            elem_id="imagine-steps",
        )
        parts["guidance"] = slider(
            GUIDANCE,
            0.5,
            defaults.guidance,
            label="Guidance",
            info=note or "How closely the picture follows the prompt.",
            interactive=not defaults.guidance_free,
            elem_id="imagine-guidance",
        )
    gr.Markdown("Shape (width:height)")
    with gr.Row(elem_classes=["shape-buttons"]):
        parts["shapes"] = [
            (gr.Button(name, size="sm", min_width=56), size) for name, size in SHAPES.items()
        ]
        parts["swap"] = gr.Button("⇄ Swap", size="sm", min_width=80)
    with gr.Row():
        parts["width"] = slider(WIDTH, SIZE_STEP, label="Width", elem_id="imagine-width")
        parts["height"] = slider(HEIGHT, SIZE_STEP, label="Height", elem_id="imagine-height")
    with gr.Row(equal_height=True):
        parts["seed"] = gr.Number(
            RANDOM_SEED,
            label="Seed",
            info=SEED_INFO,
            precision=0,
            elem_id="imagine-seed",
            scale=2,
        )
        with gr.Column(scale=1, min_width=160):
            parts["random_seed"] = gr.Button("Random seed", size="sm")
            parts["reuse_seed"] = gr.Button("Reuse last seed", size="sm")
    parts["options_note"] = gr.Markdown("", elem_id="imagine-options")
    return parts


def png_info() -> dict[str, Any]:
    """A PNG dropped in shows the settings inside it, which can fill the controls."""
    parts: dict[str, Any] = {}
    parts["png"] = upload_input(
        "A PNG made here or by an image tool", height=200, elem_id="png-info"
    )
    parts["png_text"] = gr.Textbox(
        label="Its settings",
        info="Or paste settings text here.",
        lines=3,
        elem_id="png-info-text",
    )
    parts["use_png"] = gr.Button("Use these settings", size="sm")
    parts["png_status"] = status_line("png-info")
    return parts
