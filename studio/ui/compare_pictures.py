"""Compare's Pictures: one prompt painted as a grid over one or two settings (seed, guidance,
steps), each cell shown as it arrives with its card, and the whole grid one PNG to download
with every cell's settings inside.

    plan (studio.tasks.picture_grid) ─ every cell checked before the first is painted
      └ painted(...) ─ services.paint_picture per cell, counted as Imagine's pictures are
          ├ the page: cells shown one by one, Stop ends the rest
          └ the API's /compare_pictures: the grid's PNG, the cells, their cards
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import gradio as gr
from PIL import Image

from studio.classroom.gradio_internals import save_to_cache
from studio.classroom.usage import Caller, Meter
from studio.config import Config
from studio.services import paint_picture, require_setup
from studio.tasks import picture_grid as grid_task
from studio.tasks.image_settings import RANDOM_SEED
from studio.tasks.model_settings import picture_defaults
from studio.tasks.reproduce import card
from studio.ui.common import (
    keep_picture,
    notify_progress,
    picture_model,
    setup_notice,
    shows_errors,
)
from studio.ui.status_line import status_line
from studio.ui.stop import stop_button, stop_control
from studio.ui.waiting import Doing, api_event, page_event, time_limit

# Every cell shares the seed, unless the seed is an axis: the cells then differ by the axes alone.
SEED_INFO = "-1 picks one seed at random for the whole grid."

# The controls, in the order of `compare_pictures`'s parameters.
CONTROLS = (
    "prompt",
    "negative_prompt",
    "across",
    "across_values",
    "down",
    "down_values",
    "steps",
    "guidance",
    "width",
    "height",
    "seed",
)


def planned(config: Config, controls: tuple) -> grid_task.Grid:
    """The grid the controls ask for, every cell checked: nothing is painted for a refused one."""
    given = dict(zip(CONTROLS, controls, strict=True))
    across, down = grid_task.read_axes(
        given.pop("across"), given.pop("across_values"), given.pop("down"), given.pop("down_values")
    )
    grid = grid_task.plan(given, across, down, model=picture_model(config))
    require_setup(config, "image")
    return grid


def painted(
    config: Config, folder: str, grid: grid_task.Grid, caller: Caller | None
) -> Iterator[tuple[Image.Image, dict[str, Any]]]:
    """Each cell's picture and record (its path, a PNG with its settings inside, its label and
    card), in the grid's order, one request each."""
    endpoint = config.endpoint("image")
    for index, request in enumerate(grid.requests):
        calls: list = []
        picture = paint_picture(
            endpoint, request, progress=notify_progress, calls=calls, caller=caller
        )
        path, record = keep_picture(picture, request, model=endpoint.model, folder=folder)
        title = f"Picture grid, cell {index + 1} of {len(grid.requests)}: {grid.label(index)}"
        record |= {
            "label": grid.label(index),
            "card": card(title, calls, settings=record["settings"]),
        }
        yield picture, record


def saved_grid(grid: grid_task.Grid, pictures: list, folder: str) -> str:
    """The composed grid saved as one PNG, where Gradio serves it from as is."""
    png = grid_task.grid_png(grid, grid_task.compose(grid, pictures))
    return save_to_cache(png, f"studio-grid-{grid.requests[0].seed}.png", folder)


def cells_of(records: list) -> list[tuple[str, str]]:
    """The gallery's items: each cell's picture and what it varies."""
    return [(record["path"], record["label"]) for record in records]


def cells_shown(records: list, grid: grid_task.Grid) -> dict:
    """The page's gallery, as many columns as the grid."""
    return gr.update(value=cells_of(records), columns=grid.columns)


def paint_for_page(
    config: Config, folder: str, *controls: Any, caller: Caller | None = None
) -> Iterator:
    """The page's work: the cells emptied, then each cell as it arrives (the gallery, the
    records, its card), and last the whole grid's PNG."""
    grid = planned(config, controls)
    skip = gr.skip()
    total = len(grid.requests)
    yield gr.update(value=[], columns=grid.columns), [], None, ""
    yield Doing(f"Painting picture 1 of {total}")
    pictures: list = []
    records: list = []
    for picture, record in painted(config, folder, grid, caller):
        pictures.append(picture)
        records.append(record)
        yield cells_shown(records, grid), records, skip, record["card"]
        if len(records) < total:
            yield Doing(f"Painting picture {len(records) + 1} of {total}")
    yield Doing("Putting the grid together")
    yield skip, skip, saved_grid(grid, pictures, folder), skip


@shows_errors
def compare_pictures(
    config: Config,
    folder: str,
    prompt: str,
    negative_prompt: str | None = "",
    across: str = "Seed",
    across_values: str = "1, 2",
    down: str = grid_task.NO_AXIS,
    down_values: str = "",
    steps: float | None = None,
    guidance: float | None = None,
    width: float = 512,
    height: float = 512,
    seed: float = RANDOM_SEED,
    *,
    caller: Caller | None = None,
) -> Iterator[tuple]:
    """Paint one prompt as a grid over one or two settings, at most 16 pictures (4 by 4).

    The API's /compare_pictures streams each cell as it is painted; the last update holds the
    whole grid as one PNG whose text metadata holds the prompt, the axes and every cell's
    settings (`parameters`: the first cell's, as image tools read it; `grid`: all, as JSON).

    Args:
        prompt: what every picture shows, in English
        negative_prompt: what no picture should show (optional)
        across: the setting that changes along the top: Seed, Guidance or Steps
        across_values: its values, separated by commas, e.g. "1, 2, 3" or "3.5, 7"
        down: the setting that changes down the side: Seed, Guidance, Steps, or None for one row
        down_values: its values, separated by commas
        steps: denoising steps of every cell (unless an axis), 1 to 100; empty: the model's own
        guidance: guidance of every cell (unless an axis), 0 to 20; empty: the model's own
        width: the width in pixels, a multiple of 64 from 64 to 1024
        height: the height in pixels, a multiple of 64 from 64 to 1024
        seed: the seed of every cell (unless an axis); -1: one random seed for the whole grid

    Returns:
        the grid's PNG (empty until every cell is painted), the cells with their labels, and
        every cell's record: its label, settings, card and request
    """
    controls = (prompt, negative_prompt, across, across_values, down, down_values)
    grid = planned(config, (*controls, steps, guidance, width, height, seed))
    pictures: list = []
    records: list = []
    for picture, record in painted(config, folder, grid, caller):
        pictures.append(picture)
        records.append(record)
        yield None, cells_of(records), told(records)
    yield saved_grid(grid, pictures, folder), cells_of(records), told(records)


def told(records: list) -> list[dict]:
    """The records as the API tells them: the pictures are the cells, not a path on the server
    (which a client would also take for a file to fetch)."""
    return [{key: value for key, value in record.items() if key != "path"} for record in records]


def chosen_card(records: list | None, selected: gr.SelectData) -> str:
    """The card of the cell chosen in the gallery."""
    records = records or []
    return records[selected.index]["card"] if selected.index < len(records) else ""


def build(config: Config, meter: Meter | None = None) -> None:
    setup_notice(config, "image")
    gr.Markdown(
        "One prompt painted over one or two settings: each picture differs from its neighbours "
        f"by one value. At most {grid_task.MAX_CELLS} pictures (4 by 4)."
    )
    parts = layout(picture_defaults(picture_model(config)).guidance_free)
    controls = [parts[name] for name in CONTROLS]
    folder = parts["grid"].GRADIO_CACHE
    painting = page_event(
        [parts["go"].click, parts["prompt"].submit],
        functools.partial(paint_for_page, config, folder),
        controls,
        [parts["cells"], parts["records"], parts["grid"], parts["card"]],
        parts["status"],
        doing="Checking the grid",
        limit=time_limit(config, "image"),
        preprocess=False,  # every value is read by its setting's rule (studio.tasks.picture_grid)
        meter=meter,
        stop=parts["stop"],
    )
    stop_button(parts["stop"], [painting], parts["status"])
    parts["cells"].select(chosen_card, parts["records"], parts["card"], api_visibility="private")
    api_event(
        functools.partial(compare_pictures, config, folder),
        controls,
        [parts["grid"], parts["cells"], gr.JSON(visible=False)],
        api_name="compare_pictures",
        preprocess=False,
        meter=meter,
    )


def layout(guidance_free: bool) -> dict[str, Any]:
    """The controls left, the cells, the chosen cell's card and the whole grid right. A model
    that runs without guidance starts with steps down the side instead of guidance."""
    parts: dict[str, Any] = {"records": gr.State([])}
    axes = list(grid_task.AXES)
    down, values = ("Steps", "1, 2") if guidance_free else ("Guidance", "3.5, 7")
    with gr.Row():
        with gr.Column(scale=5, min_width=300):
            parts["prompt"] = gr.Textbox(label="Prompt", lines=2, elem_id="grid-prompt")
            parts["negative_prompt"] = gr.Textbox("", label="Negative prompt", max_lines=2)
            with gr.Row():
                parts["across"] = gr.Radio(
                    axes, value="Seed", label="Across", elem_id="grid-across"
                )
                parts["across_values"] = text("1, 2", "Its values", "grid-across-values")
            with gr.Row():
                choices = [grid_task.NO_AXIS, *axes]
                parts["down"] = gr.Radio(choices, value=down, label="Down", elem_id="grid-down")
                parts["down_values"] = text(values, "Its values", "grid-down-values")
            with gr.Row():
                parts["steps"] = text("", "Steps", "grid-steps", "empty: the model's own")
                parts["guidance"] = text("", "Guidance", "grid-guidance", "empty: the model's own")
                parts["seed"] = gr.Number(
                    RANDOM_SEED, label="Seed", info=SEED_INFO, precision=0, elem_id="grid-seed"
                )
            with gr.Row():
                parts["width"] = gr.Number(512, label="Width", precision=0, step=64)
                parts["height"] = gr.Number(512, label="Height", precision=0, step=64)
            with gr.Row():
                parts["go"] = gr.Button("Paint the grid", variant="primary", elem_id="grid-go")
                parts["stop"] = stop_control(elem_id="grid-stop")
            parts["status"] = status_line("grid")
        with gr.Column(scale=6, min_width=300):
            parts["cells"] = gr.Gallery(
                label="The cells, as they arrive (choose one for its card)",
                elem_id="grid-cells",
                columns=2,
                height="fit-content",  # "auto" would stop at 550 pixels and scroll
                object_fit="contain",
                allow_preview=False,
                interactive=False,
            )
            parts["card"] = gr.Textbox(
                label="Card", lines=4, interactive=False, buttons=["copy"], elem_id="grid-card"
            )
            # The label stands above the picture: over it, it would hide the first column's.
            gr.Markdown("**The whole grid**: one PNG, every cell's settings inside")
            parts["grid"] = gr.Image(
                label="The whole grid",
                show_label=False,
                type="filepath",
                format="png",
                interactive=False,
                buttons=["download", "fullscreen"],
                elem_id="grid-png",
            )
    return parts


def text(value: str, label: str, elem_id: str, placeholder: str = "") -> gr.Textbox:
    return gr.Textbox(
        value, label=label, placeholder=placeholder, max_lines=1, elem_id=elem_id, min_width=120
    )
