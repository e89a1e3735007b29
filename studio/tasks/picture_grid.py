"""A picture grid: one prompt painted over one or two settings (seed, guidance, steps), each
cell a picture of its own, the whole grid composed into one PNG with every cell's settings
inside, as AUTOMATIC1111's X/Y plot does. Pure: no Gradio, no HTTP.

    read_axis("Guidance", "3.5, 7") ─ Axis: values read by the setting's own rule
    plan(settings, across, down) ─ Grid: every cell's checked ImageRequest, row by row
    compose(grid, pictures) ─ one image, the axes' values written along its edges
    grid_png(grid, image) ─ PNG bytes: the first cell's `parameters` and the whole grid's JSON
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

from PIL import Image, ImageDraw, ImageFont, PngImagePlugin

from studio.errors import InputError
from studio.tasks.image_settings import (
    GUIDANCE,
    PARAMETERS_KEY,
    RANDOM_SEED,
    SEED,
    STEPS,
    ImageRequest,
    make_image_request,
    parameters_text,
    resolve_seed,
)
from studio.tasks.model_settings import picture_defaults
from studio.tasks.text import NumberBox, plain
from studio.tasks.uploads import open_encoded

# The settings a grid can run over: the name people see, the request's field, its rule.
AXES: dict[str, tuple[str, NumberBox]] = {
    "Seed": ("seed", SEED),
    "Guidance": ("guidance", GUIDANCE),
    "Steps": ("steps", STEPS),
}
NO_AXIS = "None"  # the second axis's choice for a grid of one row
MAX_CELLS = 16  # 4 by 4: each cell is a request, and a class shares one server's queue
MAX_VALUES = 8  # along one axis: a row of 8 pictures still fits a screen, scrolled
GRID_KEY = "grid"  # the PNG text chunk that holds the whole grid, as JSON
BACKGROUND, INK, EMPTY = (255, 255, 255), (20, 20, 20), (200, 200, 200)


@dataclass(frozen=True)
class Axis:
    """One setting the grid runs over, and its values in the order typed."""

    name: str  # a key of AXES
    values: tuple[float, ...]

    @property
    def field(self) -> str:
        return AXES[self.name][0]

    def label(self, value: float) -> str:
        shown = "random" if self.field == "seed" and value == RANDOM_SEED else plain(value)
        return f"{self.name} {shown}"


def read_axis(name: str, text: str | None) -> Axis:
    """The values typed for a setting ("1, 2, 3" or "3.5 7"), each read by that setting's rule.
    Refused: an unknown setting, no value, more than MAX_VALUES, the same value twice (a seed
    of -1, random, may come more than once)."""
    if name not in AXES:
        raise InputError(f"A grid runs over {', '.join(AXES)}: choose one of them.")
    box = AXES[name][1]
    typed = [part for part in re.split(r"[,;\s]+", str(text or "").strip()) if part]
    if not typed:
        raise InputError(f"Type the values of {name} to paint, separated by commas: 1, 2, 3.")
    if len(typed) > MAX_VALUES:
        raise InputError(
            f"{name}: at most {MAX_VALUES} values along one side, not {len(typed)}: "
            "keep the ones you want to compare."
        )
    values = tuple(box.read(part) for part in typed)
    chosen = [value for value in values if not (name == "Seed" and value == RANDOM_SEED)]
    if len(set(chosen)) != len(chosen):
        raise InputError(f"{name}: each value once, so each picture shows something new.")
    return Axis(name, values)


def read_axes(
    across: str, across_values: str | None, down: str | None, down_values: str | None
) -> tuple[Axis, Axis | None]:
    """The grid's axes: along the top (columns) and, unless `down` is empty or NO_AXIS, down
    the side (rows). Refused: the same setting twice, more than MAX_CELLS pictures."""
    first = read_axis(across, across_values)
    if not down or down == NO_AXIS:
        return first, None
    if down == across:
        raise InputError(f"The two sides both vary {across}: choose another setting for one.")
    second = read_axis(down, down_values)
    cells = len(first.values) * len(second.values)
    if cells > MAX_CELLS:
        raise InputError(
            f"A grid holds at most {MAX_CELLS} pictures (4 by 4); {len(first.values)} by "
            f"{len(second.values)} is {cells}: take fewer values."
        )
    return first, second


@dataclass(frozen=True)
class Grid:
    """Every cell's checked request, row by row, and the axes it runs over."""

    across: Axis
    down: Axis | None
    requests: tuple[ImageRequest, ...]
    model: str = ""

    @property
    def columns(self) -> int:
        return len(self.across.values)

    @property
    def rows(self) -> int:
        return len(self.down.values) if self.down else 1

    def place(self, index: int) -> tuple[int, int]:
        """The cell's (row, column)."""
        return divmod(index, self.columns)

    def label(self, index: int) -> str:
        """What the cell varies: "Seed 7 · Guidance 3.5"."""
        row, column = self.place(index)
        parts = [self.across.label(self.across.values[column])]
        if self.down:
            parts.append(self.down.label(self.down.values[row]))
        return " · ".join(parts)


def plan(
    settings: dict,
    across: Axis,
    down: Axis | None = None,
    *,
    model: str = "",
    choose_seed: Callable[[object], int] = resolve_seed,
) -> Grid:
    """The grid's cells for `settings` (make_image_request's: prompt, negative_prompt, steps,
    guidance, width, height, seed), every one checked before any is painted. A seed left random
    is chosen once for the whole grid, so the cells differ only by the axes; a model that runs
    without guidance refuses a guidance axis (every cell would be the same)."""
    names = (across.name, down.name if down else NO_AXIS)
    if picture_defaults(model).guidance_free and "Guidance" in names:
        raise InputError(
            "This model runs without guidance, so every guidance would paint the same picture: "
            "vary the seed or the steps instead."
        )
    base = dict(settings)
    if "Seed" not in names:
        base["seed"] = choose_seed(settings.get("seed"))
    rows = down.values if down else (None,)
    requests = []
    for row_value in rows:
        for value in across.values:
            cell = {**base, across.field: value}
            if down:
                cell[down.field] = row_value
            if "Seed" in names:  # a seed of -1 along the axis: a random one for this cell
                cell["seed"] = choose_seed(cell["seed"])
            requests.append(make_image_request(**cell, model=model))
    return Grid(across, down, tuple(requests), model)


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except (ImportError, OSError):  # Pillow without FreeType: the small bitmap font
        return ImageFont.load_default()


def compose(grid: Grid, pictures: Sequence[Image.Image | None]) -> Image.Image:
    """The grid as one image: each picture in its cell at the size asked (a cell never painted,
    grey), the across values above the columns and the down values left of the rows."""
    first = grid.requests[0]
    width, height = first.width, first.height
    font = _font(max(14, min(width, height) // 14))
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    line = measure.textbbox((0, 0), "Ag", font=font)[3] + 12
    side = 0
    if grid.down:
        labels = [grid.down.label(value) for value in grid.down.values]
        side = max(measure.textlength(label, font=font) for label in labels) + 24
    canvas = Image.new(
        "RGB", (int(side) + width * grid.columns, line + height * grid.rows), BACKGROUND
    )
    draw = ImageDraw.Draw(canvas)
    for column, value in enumerate(grid.across.values):
        centre = side + column * width + width / 2
        draw.text((centre, line / 2), grid.across.label(value), fill=INK, font=font, anchor="mm")
    for row, value in enumerate(grid.down.values if grid.down else ()):
        middle = line + row * height + height / 2
        draw.text((side - 12, middle), grid.down.label(value), fill=INK, font=font, anchor="rm")
    for index, picture in enumerate(pictures):
        row, column = grid.place(index)
        box = (int(side) + column * width, line + row * height)
        if picture is None:
            draw.rectangle((*box, box[0] + width - 1, box[1] + height - 1), fill=EMPTY)
            continue
        cell = picture.convert("RGB")
        canvas.paste(cell if cell.size == (width, height) else cell.resize((width, height)), box)
    return canvas


def grid_record(grid: Grid) -> dict:
    """What the PNG keeps of the grid: the prompt, the axes, and every cell's settings."""
    first = grid.requests[0]
    axes = [axis for axis in (grid.across, grid.down) if axis]
    return {
        "prompt": first.prompt,
        "negative_prompt": first.negative_prompt,
        "size": f"{first.width}x{first.height}",
        "model": grid.model,
        "axes": [{"name": axis.name, "values": list(axis.values)} for axis in axes],
        "cells": [
            {
                "row": grid.place(index)[0],
                "column": grid.place(index)[1],
                "label": grid.label(index),
                "settings": asdict(request),
                "parameters": parameters_text(request, model=grid.model),
            }
            for index, request in enumerate(grid.requests)
        ],
    }


def grid_png(grid: Grid, image: Image.Image) -> bytes:
    """The composed grid as PNG bytes. `parameters` holds the first cell's settings, the way
    image tools read a picture's (AUTOMATIC1111 writes its grids so too); `grid` holds the
    prompt, the axes and every cell's settings, as JSON."""
    info = PngImagePlugin.PngInfo()
    info.add_text(PARAMETERS_KEY, parameters_text(grid.requests[0], model=grid.model))
    info.add_text(GRID_KEY, json.dumps(grid_record(grid), ensure_ascii=False))
    buffer = io.BytesIO()
    image.save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def read_grid(png_bytes: bytes) -> dict | None:
    """The grid a PNG made by `grid_png` holds (as `grid_record` wrote it); None for another."""
    image = open_encoded(png_bytes, InputError, "use a smaller image.")
    text = getattr(image, "text", {}).get(GRID_KEY)
    return json.loads(text) if text else None
