"""The Imagine tab: text to image with the course's advanced options, and a gallery per person.

A picture chosen in the gallery brings back its prompt, settings and seed; a PNG dropped in
(made here or by another image tool) shows the settings inside it, ready to use again.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from studio.classroom.usage import Caller, Meter
from studio.config import Config
from studio.errors import InputError
from studio.services import ignored_options, paint_picture, require_setup
from studio.tasks.image_settings import (
    RANDOM_SEED,
    make_image_request,
    read_parameters,
    settings_from_parameters,
)
from studio.tasks.model_settings import guidance_note
from studio.ui.code_panel import panel_values
from studio.ui.common import (
    keep_picture,
    notify_progress,
    picture_model,
    setup_notice,
    shows_errors,
)
from studio.ui.common import uploaded_path as stored_upload
from studio.ui.imagine_layout import ImaginePage, layout
from studio.ui.look import in_view_on_phone
from studio.ui.stop import stop_button
from studio.ui.waiting import api_event, page_event, time_limit

HISTORY_LIMIT = 48  # pictures kept in a person's gallery, newest first
NO_SETTINGS = "This PNG holds no settings: it was not made by the studio or a tool that keeps them."
PRIVATE = dict(api_visibility="private")
# The controls a picture's settings fill, in the order of ImagePage.controls.
SETTINGS = ("prompt", "negative_prompt", "steps", "guidance", "width", "height", "seed")


def paint(
    config: Config,
    folder: str,
    controls: Sequence[Any],
    *,
    calls: list | None = None,
    caller: Caller | None = None,
) -> tuple[str, dict[str, Any]]:
    """The picture's path (a PNG with its settings inside, in `folder`) and its record, for
    `controls` (the values of SETTINGS in its order, as the page or the API sent them); `calls`
    hears of the request, made for `caller`."""
    settings = dict(zip(SETTINGS, controls, strict=True))
    request = make_image_request(**settings, model=picture_model(config))
    require_setup(config, "image")
    endpoint = config.endpoint("image")
    picture = paint_picture(endpoint, request, progress=notify_progress, calls=calls, caller=caller)
    return keep_picture(picture, request, model=endpoint.model, folder=folder)


@shows_errors
def generate_image(
    config: Config,
    folder: str,
    prompt: str,
    negative_prompt: str | None = None,
    steps: float | None = None,
    guidance: float | None = None,
    width: float = 512,
    height: float = 512,
    seed: float = RANDOM_SEED,
    *,
    caller: Caller | None = None,
) -> tuple[str, dict[str, Any]]:
    """Make a picture from a text prompt with a text-to-image model (Stable Diffusion XL by
    default). A model that ignores an option still paints, and says so; one that runs without
    guidance (sd-turbo) paints with guidance 0 and no negative prompt, and its record says so.

    The API's /generate_image (and the MCP tool generate_image): the picture's path and its
    record.

    Args:
        prompt: what the picture shows, in English, up to 2,000 characters
        negative_prompt: what the picture should not show (optional)
        steps: denoising steps, 1 to 100 (default: the model's own, 1 for sd-turbo, 25 for
            a model the studio does not know): more is slower and often finer
        guidance: how closely to follow the prompt, 0 to 20 (default: the model's own, 0 for
            sd-turbo, 7 for a model the studio does not know); up to 1 is off
        width: the width in pixels, a multiple of 64 from 64 to 1024 (default 512)
        height: the height in pixels, a multiple of 64 from 64 to 1024 (default 512)
        seed: the random seed, 0 to 4294967295, for the same picture again; -1: a random one

    Returns:
        the picture, as a PNG with its settings inside
    """
    controls = (prompt, negative_prompt, steps, guidance, width, height, seed)
    return paint(config, folder, controls, caller=caller)


def paint_for_page(
    config: Config,
    folder: str,
    pictures: list,
    *controls: Any,
    calls: list | None = None,
    caller: Caller | None = None,
) -> tuple:
    """Paint, and put the picture first in the person's gallery: the result, its settings, the
    gallery, the gallery's records and the latest record."""
    path, record = paint(config, folder, controls, calls=calls, caller=caller)
    settings, gallery, pictures = remember(record, pictures)
    return path, settings, gallery, pictures, record


def paint_with_code(
    config: Config, folder: str, pictures: list, *controls: Any, caller: Caller | None = None
) -> tuple:
    """The page's picture as `paint_for_page` gives it, then its card and code."""
    calls: list = []
    painted = paint_for_page(config, folder, pictures, *controls, calls=calls, caller=caller)
    return *painted, *picture_code(config, calls, painted[-1])


def picture_code(config: Config, calls: list, record: dict[str, Any]) -> tuple:
    """The card and code of a picture: /generate_image with every setting, the seed resolved."""
    made = record["request"]
    args = [made[name] for name in SETTINGS]
    return panel_values(
        config, "Image", calls, "/generate_image", args, settings=record["settings"], picture=True
    )


def remember(record: dict[str, Any], pictures: list) -> tuple[str, Any, list]:
    """The new picture first in the person's gallery, which keeps the newest HISTORY_LIMIT."""
    pictures = [record, *(pictures or [])][:HISTORY_LIMIT]
    return record["settings"], gr.Gallery(gallery_items(pictures), visible=True), pictures


def gallery_items(pictures: list) -> list[tuple[str, str]]:
    return [(record["path"], f"seed {record['seed']} · {record['prompt']}") for record in pictures]


def choose(pictures: list, selected: gr.SelectData) -> tuple:
    """A picture chosen in the gallery: its prompt, settings and seed back in the controls, and
    the picture as the result."""
    record = pictures[selected.index]
    return (*settings_values(record["request"]), record["path"], record["settings"], record)


def settings_values(settings: dict[str, Any]) -> list:
    """The controls' new values, in SETTINGS order; a setting not given is left as it is."""
    return [settings[name] if name in settings else gr.skip() for name in SETTINGS]


def last_seed(record: dict[str, Any] | None):
    if not record:
        gr.Info("Generate an image first; then its seed can be used again.")
        return gr.skip()
    return record["seed"]


def read_png(folder: str, payload: Any) -> str:
    """The settings text inside a dropped PNG (our own parameters, or AUTOMATIC1111's)."""
    path = stored_upload(payload, folder)
    if path is None:
        return ""
    text = read_parameters(Path(path).read_bytes())
    if not text:
        raise InputError(NO_SETTINGS)
    return text


def use_settings(text: str) -> list:
    """The controls filled from a settings text, as dropped in or pasted."""
    if not (text or "").strip():
        raise InputError("Drop a PNG with settings inside, or paste its settings text, first.")
    return settings_values(settings_from_parameters(text))


def options_note(config: Config) -> str:
    """Which options the model or its server ignores, in small print; empty when it uses them
    all."""
    notes = [guidance_note(picture_model(config)), ignored_options(config.endpoint("image"))]
    note = " ".join(filter(None, notes))
    return f"*{note}*" if note else ""


def build(config: Config, served: Collection[str] = (), meter: Meter | None = None) -> None:
    setup_notice(config, "image")
    wire(layout(picture_model(config)), config, meter)


def wire(page: ImaginePage, config: Config, meter: Meter | None = None) -> None:
    folder = page.result.GRADIO_CACHE
    painting = page_event(
        [page.generate.click, page.prompt.submit],
        functools.partial(paint_with_code, config, folder),
        [page.history, *page.controls],
        [page.result, page.settings, page.gallery, page.history, page.latest, *page.panel.outputs],
        page.status,
        doing="Painting",
        limit=time_limit(config, "image"),
        preprocess=False,  # the values reach make_image_request as sent: it checks them all
        meter=meter,
        stop=page.stop,
    )
    stop_button(page.stop, [painting], page.status)
    in_view_on_phone(page.result)
    # Read on each page load and after each picture: the provider is named once the Hub has
    # said which it is.
    note_again = {"outputs": page.options_note, "show_progress": "hidden", **PRIVATE}
    gr.on(None, functools.partial(options_note, config), **note_again)
    painting.success(functools.partial(options_note, config), **note_again)
    page.clear.add([page.prompt, page.result, page.settings, page.status, *page.panel.outputs])
    wire_controls(page)
    page_event(
        [page.png.upload],
        functools.partial(read_png, folder),
        [page.png],
        [page.png_text],
        page.png_status,
        doing="Reading the PNG",
        limit=None,
        done="Settings read: Use these settings puts them in the controls.",
        preprocess=False,
    )
    page_event(
        [page.use_png.click],
        use_settings,
        [page.png_text],
        page.controls,
        page.png_status,
        doing="Filling in the settings",
        limit=None,
        done="Settings filled in: Generate makes the picture again.",
    )
    api_event(
        functools.partial(generate_image, config, folder),
        page.controls,
        [page.result, page.latest],
        api_name="generate_image",
        preprocess=False,
        meter=meter,
    )


def wire_controls(page: ImaginePage) -> None:
    """The controls that only fill in other controls: the gallery brings back a picture's
    settings, the shape presets, the swap and the seed buttons. Nothing asks a model."""
    page.gallery.select(
        choose,
        page.history,
        [*page.controls, page.result, page.settings, page.latest],
        **PRIVATE,
    )
    for button, (width, height) in page.shapes:
        button.click(lambda w=width, h=height: (w, h), None, [page.width, page.height], **PRIVATE)
    sizes = [page.width, page.height]
    page.swap.click(lambda w, h: (h, w), sizes, sizes, **PRIVATE)
    page.random_seed.click(lambda: RANDOM_SEED, outputs=page.seed, **PRIVATE)
    page.reuse_seed.click(last_seed, inputs=page.latest, outputs=page.seed, **PRIVATE)
