"""Each text-to-image model's own starting settings, so a picture is asked as its model is meant
to be run: sd-turbo paints in 1 step without guidance, where 25 steps would cost 25 times the
time on a CPU and guidance 7 burns its pictures. Pure: no Gradio, no HTTP.

A model is found by the name part of its id ("sd-turbo" in "stabilityai/sd-turbo"), ignoring
case; a task-API URL ends in the id, so its last part is the name too. A model not in the table
starts from the course's settings (25 steps, guidance 7).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PictureDefaults:
    """Where a model's sliders start, and whether it runs without guidance at all."""

    steps: int
    guidance: float
    # Distilled to paint without classifier-free guidance: its pipeline ignores the guidance
    # scale (FLUX.1 schnell) or is burnt by one above 1 (the turbos), and a negative prompt,
    # which works only through guidance, does nothing.
    guidance_free: bool = False


COURSE = PictureDefaults(steps=25, guidance=7.0)
TURBO = PictureDefaults(steps=1, guidance=0.0, guidance_free=True)

# (the start of a model's name, its defaults), the longer name first where one starts another.
# Steps and guidance as each model's card or its diffusers pipeline gives them, except that the
# Stable Diffusion pipelines' 50 steps are cut to 25 (30 for SDXL): they look much the same at
# half the time.
TABLE: tuple[tuple[str, PictureDefaults], ...] = (
    ("sd-turbo", TURBO),
    ("sdxl-turbo", TURBO),
    ("stable-diffusion-3.5-large-turbo", PictureDefaults(4, 0.0, guidance_free=True)),
    ("flux.1-schnell", PictureDefaults(4, 0.0, guidance_free=True)),
    ("flux.1-dev", PictureDefaults(28, 3.5)),
    ("stable-diffusion-xl-base", PictureDefaults(30, 5.0)),
    ("stable-diffusion-v1-", PictureDefaults(25, 7.5)),
    ("stable-diffusion-2", PictureDefaults(25, 7.5)),
)


def name_part(model: str) -> str:
    """The name in a model id or a model's URL, lower case: "sd-turbo"."""
    return model.split("?")[0].rstrip("/").rsplit("/", 1)[-1].lower()


def picture_defaults(model: str) -> PictureDefaults:
    """The settings `model` (an id, or a URL ending in one) starts from. A name holding "turbo"
    that the table does not know is taken for a turbo too, as the local backend has always
    taken it: run with guidance, such a model paints burnt pictures."""
    name = name_part(model)
    for start, defaults in TABLE:
        if name.startswith(start):
            return defaults
    return TURBO if "turbo" in name else COURSE


def guidance_note(model: str) -> str:
    """What the page says of a model that runs without guidance; "" for any other."""
    if not picture_defaults(model).guidance_free:
        return ""
    return (
        f"{name_part(model)} runs without guidance: guidance stays 0, and a negative prompt "
        "has no effect."
    )
