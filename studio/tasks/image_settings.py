"""Text-to-image settings, checked, and kept inside the PNG the way AUTOMATIC1111 does, so image
tools can show how a picture was made. Pure: no Gradio, no HTTP."""

from __future__ import annotations

import contextlib
import io
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

from PIL import Image, PngImagePlugin, UnidentifiedImageError

from studio.errors import InputError
from studio.tasks.model_settings import COURSE, picture_defaults
from studio.tasks.pixels import to_rgb
from studio.tasks.text import NumberBox, checked_text
from studio.tasks.uploads import (
    DAMAGED_IMAGE,
    DECODE_ERRORS,
    NO_UPLOAD,
    NOT_AN_IMAGE,
    open_encoded,
)

# --- Text-to-image settings ------------------------------------------------------------------

# Image models read about 77 tokens of prompt; a page pasted by mistake is cut to nothing useful.
MAX_PROMPT_CHARS = 2_000
SEED_LIMIT = 2**32  # image seeds are 32-bit: 0 .. 2**32 - 1
RANDOM_SEED = -1  # what the seed box holds for "pick one for me"
SIZE_STEP = 64
MIN_SIZE, MAX_SIZE = 64, 1024
# The settings' boxes and sliders, and what the API takes: one rule each (studio.tasks.text).
# Steps and guidance start where the model's own defaults are (studio.tasks.model_settings);
# guidance 0 (up to 1) is off, as the turbo models are run.
STEPS = NumberBox("Steps", 1, 100, whole=True)
GUIDANCE = NumberBox("Guidance", 0.0, 20.0)
WIDTH = NumberBox("Width", MIN_SIZE, MAX_SIZE, default=512, unit="pixels")
HEIGHT = NumberBox("Height", MIN_SIZE, MAX_SIZE, default=512, unit="pixels")
SEED = NumberBox("The seed", 0, SEED_LIMIT - 1, whole=True, random=RANDOM_SEED)


def resolve_seed(seed: object) -> int:
    """The seed to use: empty or -1 pick a random 32-bit seed, anything else is checked and kept."""
    chosen = SEED.read(seed)
    if chosen is None or chosen == RANDOM_SEED:
        return secrets.randbelow(SEED_LIMIT)
    return chosen


@dataclass(frozen=True)
class ImageRequest:
    """Checked text-to-image settings. Build one with ``make_image_request`` from UI values."""

    prompt: str
    negative_prompt: str = ""
    steps: int = COURSE.steps
    guidance: float = COURSE.guidance
    width: int = 512
    height: int = 512
    seed: int | None = None  # None leaves the choice to the server (and it is not recorded)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise InputError naming the first setting that is out of range."""
        if not self.prompt.strip():
            raise InputError("Write a prompt describing the image first.")
        STEPS.read(self.steps)
        GUIDANCE.read(self.guidance)
        for box, value in ((WIDTH, self.width), (HEIGHT, self.height)):
            if box.read(value) % SIZE_STEP:
                raise InputError(
                    f"{box.name} must be a multiple of {SIZE_STEP} {box.allowed()}, not {value}."
                )
        if self.seed is not None and not 0 <= self.seed < SEED_LIMIT:
            raise InputError(f"The seed must be between 0 and {SEED_LIMIT - 1}.")

    def to_parameters(self) -> dict[str, Any]:
        """The task API's ``parameters`` for text to image."""
        parameters: dict[str, Any] = {}
        if self.negative_prompt:
            parameters["negative_prompt"] = self.negative_prompt
        parameters |= {
            "num_inference_steps": self.steps,
            "guidance_scale": self.guidance,
            "width": self.width,
            "height": self.height,
        }
        if self.seed is not None:
            parameters["seed"] = self.seed
        return parameters


def _image_side(box: NumberBox, value: object) -> int:
    """A width or height in range, rounded to the nearest multiple of 64 (models need that)."""
    return round(box.read(value) / SIZE_STEP) * SIZE_STEP


def make_image_request(
    prompt: str | None,
    *,
    negative_prompt: str | None = "",
    steps: object = None,
    guidance: object = None,
    width: object = WIDTH.default,
    height: object = HEIGHT.default,
    seed: object = None,
    model: str = "",
) -> ImageRequest:
    """An ImageRequest from UI or API values (numbers, or text as typed; empty is the
    default, `model`'s own for steps and guidance): text stripped, sizes rounded to a multiple
    of 64 (values outside 64-1024 are refused, not clamped), and the seed resolved so the result
    can be reproduced (empty or -1 become a random seed). A model that runs without guidance
    gets guidance 0 and no negative prompt whatever was asked (after both are checked): the
    request then says what the model uses, and so do the card and the PNG made from it."""
    defaults = picture_defaults(model)
    prompt = checked_text(prompt, "The prompt", limit=MAX_PROMPT_CHARS)
    negative = checked_text(negative_prompt, "The negative prompt", limit=MAX_PROMPT_CHARS)
    guidance = GUIDANCE.read(guidance)
    if defaults.guidance_free:
        negative, guidance = "", 0.0
    return ImageRequest(
        prompt=prompt,
        negative_prompt=negative,
        steps=_or(STEPS.read(steps), defaults.steps),
        guidance=float(_or(guidance, defaults.guidance)),
        width=_image_side(WIDTH, width),
        height=_image_side(HEIGHT, height),
        seed=resolve_seed(seed),
    )


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


def describe(request: ImageRequest) -> str:
    """The one line shown under a generated image: every setting, so it can be made again."""
    seed = "random" if request.seed is None else str(request.seed)
    negative = request.negative_prompt or "none"
    return (
        f"Seed {seed} · {request.steps} step{'s' if request.steps != 1 else ''} · "
        f"guidance {request.guidance:g} · "
        f"{request.width}×{request.height} · negative prompt: {negative}"
    )


# --- Settings inside the PNG -----------------------------------------------------------------

PARAMETERS_KEY = "parameters"  # the tEXt key AUTOMATIC1111 writes and image tools read


def _infotext_value(value: str) -> str:
    # AUTOMATIC1111 JSON-quotes values that would break its "Key: value, Key: value" line.
    if any(character in value for character in ",:\n"):
        return json.dumps(value, ensure_ascii=False)
    return value


def parameters_text(request: ImageRequest, *, model: str) -> str:
    """The AUTOMATIC1111 "infotext": prompt, optional negative prompt line, settings line."""
    lines = [request.prompt]
    if request.negative_prompt:
        lines.append(f"Negative prompt: {request.negative_prompt}")
    settings = [f"Steps: {request.steps}", f"CFG scale: {float(request.guidance)}"]
    if request.seed is not None:
        settings.append(f"Seed: {request.seed}")
    settings.append(f"Size: {request.width}x{request.height}")
    if model:
        settings.append(f"Model: {_infotext_value(model)}")
    lines.append(", ".join(settings))
    return "\n".join(lines)


def png_with_parameters(image: Image.Image, request: ImageRequest, *, model: str) -> bytes:
    """The image as PNG bytes with its settings in a ``parameters`` text chunk.

    Size records the requested size, as AUTOMATIC1111 does, even if a server returned another.
    """
    info = PngImagePlugin.PngInfo()
    # add_text writes tEXt, or iTXt when the prompt is not Latin-1; readers accept both.
    info.add_text(PARAMETERS_KEY, parameters_text(request, model=model))
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = to_rgb(image)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def read_parameters(png_bytes: bytes) -> str | None:
    """The ``parameters`` text of a PNG, or None when it has none (or is another format)."""
    if not png_bytes:
        raise InputError(NO_UPLOAD)
    try:
        image = open_encoded(png_bytes, InputError, "use a smaller image.")
        text = getattr(image, "text", {})  # reading it decodes the PNG to reach late chunks
    except UnidentifiedImageError as error:
        raise InputError(NOT_AN_IMAGE) from error
    except DECODE_ERRORS as error:
        raise InputError(DAMAGED_IMAGE) from error
    return text.get(PARAMETERS_KEY)


# Shapes offered as presets: about as many pixels as 512×512, each side a multiple of 64.
SHAPES = {
    "1:1": (512, 512),
    "4:3": (576, 448),
    "3:4": (448, 576),
    "16:9": (704, 384),
    "9:16": (384, 704),
}
_SETTING = re.compile(r'\s*([\w][\w \-/]*):\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)')


def settings_from_parameters(text: str) -> dict[str, Any]:
    """The settings in a `parameters` text (ours, or AUTOMATIC1111's): prompt and negative
    prompt, and steps, guidance, width, height and seed where the text has them."""
    lines = text.strip().splitlines()
    found: dict[str, Any] = {}
    if lines and lines[-1].lstrip().startswith("Steps:"):
        found = _settings_line(lines.pop())
    prompt, negative = lines, []
    for index, line in enumerate(lines):
        if line.startswith("Negative prompt:"):
            prompt, negative = lines[:index], lines[index:]
            negative[0] = negative[0].removeprefix("Negative prompt:").lstrip()
            break
    return {
        "prompt": "\n".join(prompt).strip(),
        "negative_prompt": "\n".join(negative).strip(),
    } | found


def _settings_line(line: str) -> dict[str, Any]:
    values = {key.strip(): value.strip() for key, value in _SETTING.findall(line)}
    values = {
        key: json.loads(value) if value.startswith('"') else value for key, value in values.items()
    }
    found: dict[str, Any] = {}
    for key, name, kind in (
        ("Steps", "steps", int),
        ("CFG scale", "guidance", float),
        ("Seed", "seed", int),
    ):
        with contextlib.suppress(KeyError, ValueError):
            found[name] = kind(values[key])
    with contextlib.suppress(KeyError, ValueError):
        width, height = values["Size"].lower().split("x")
        found["width"], found["height"] = int(width), int(height)
    return found
