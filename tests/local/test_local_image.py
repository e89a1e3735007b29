"""Text to image through complete(), on a tiny Stable Diffusion pipeline."""

from __future__ import annotations

import io

import pytest

import studio.local as local
from studio.errors import InputError


def picture(png: bytes):
    from PIL import Image

    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def make(tiny, prompt: str = "a red cat", **parameters) -> bytes:
    return local.complete("image", tiny["image"], prompt, {"num_inference_steps": 2, **parameters})


def test_answer_is_a_png_of_the_requested_size(tiny):
    png = make(tiny, width=48, height=32, seed=1)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = picture(png)
    assert (image.format, image.size, image.mode) == ("PNG", (48, 32), "RGB")


def test_a_seed_gives_the_same_image_and_another_seed_another(tiny):
    first = make(tiny, seed=7, width=32, height=32)
    again = make(tiny, seed=7, width=32, height=32)
    other = make(tiny, seed=8, width=32, height=32)
    assert first == again
    assert first != other


def test_without_a_seed_images_differ(tiny):
    assert make(tiny, width=32, height=32) != make(tiny, width=32, height=32)


def test_every_option_reaches_the_pipeline(tiny):
    base = {"seed": 3, "width": 32, "height": 32, "guidance_scale": 5.0}
    reference = make(tiny, **base)
    assert make(tiny, **{**base, "negative_prompt": "a dog"}) != reference
    assert make(tiny, **{**base, "guidance_scale": 9.0}) != reference
    assert make(tiny, **{**base, "num_inference_steps": 3}) != reference
    assert make(tiny, prompt="the sun", **base) != reference


def test_steps_are_reported(tiny):
    messages: list[str] = []
    local.complete(
        "image",
        tiny["image"],
        "a cat",
        {"num_inference_steps": 3, "width": 32, "height": 32},
        progress=messages.append,
    )
    assert [m for m in messages if m.startswith("Step")] == ["Step 1/3", "Step 2/3", "Step 3/3"]


def test_old_target_size_and_rounding_to_multiples_of_eight(tiny):
    assert picture(make(tiny, target_size={"width": 40, "height": 24})).size == (40, 24)
    assert picture(make(tiny, width=45, height=30)).size == (48, 32)


def test_a_named_scheduler_is_used_for_that_request_only(tiny):
    base = {"seed": 3, "width": 32, "height": 32}
    reference = make(tiny, **base)
    other = make(tiny, scheduler="EulerAncestralDiscreteScheduler", **base)
    assert other != reference
    assert make(tiny, **base) == reference


@pytest.mark.parametrize(
    ("parameters", "match"),
    [
        ({"scheduler": "NoSuchScheduler"}, "scheduler"),
        ({"num_inference_steps": 0}, "num_inference_steps"),
        ({"width": "wide"}, "width"),
    ],
)
def test_bad_options_are_input_errors(tiny, parameters, match):
    with pytest.raises(InputError, match=match):
        make(tiny, **parameters)


def test_an_empty_prompt_is_an_input_error(tiny):
    with pytest.raises(InputError):
        make(tiny, prompt="  ")


@pytest.mark.parametrize(
    ("model", "asked", "guidance", "steps"),
    [
        ("stabilityai/sd-turbo", {}, 0.0, 1),
        ("stabilityai/sdxl-turbo", {"guidance_scale": 7.5, "num_inference_steps": 4}, 0.0, 4),
        ("stabilityai/sd-turbo", {"guidance_scale": 0.5}, 0.0, 1),  # up to 1 is off: said as 0
        ("black-forest-labs/FLUX.1-schnell", {"guidance_scale": 3.5}, 0.0, 4),
        ("runwayml/stable-diffusion-v1-5", {"guidance_scale": 7.5}, 7.5, None),
    ],
)
def test_models_distilled_without_guidance_run_without_it(model, asked, guidance, steps):
    from studio.local.text_to_image import call_options

    options = call_options(model, "a cat", {**asked, "negative_prompt": "fog"})
    assert options.get("guidance_scale") == guidance
    assert options.get("num_inference_steps") == steps
    # A negative prompt works only through guidance: none is passed where there is none.
    assert ("negative_prompt" in options) == (guidance > 1)


def test_a_turbo_s_card_shows_the_steps_and_guidance_it_painted_with(tiny, tmp_path):
    """Through Imagine's page handler: a model named sd-turbo (the tiny pipeline, in a folder of
    that name) paints in 1 step without guidance when given no steps, even asked for guidance 7
    and a negative prompt, and its card, settings line and PNG say what it used."""
    from PIL import Image

    from studio.config import load_config
    from studio.ui import imagine

    turbo = tmp_path / "sd-turbo"
    turbo.symlink_to(tiny["image"], target_is_directory=True)
    env = {"STUDIO_LOCAL": "image", "STUDIO_IMAGE_MODEL": str(turbo), "STUDIO_DEVICE": "cpu"}
    config = load_config(env)
    answer = imagine.paint_with_code(
        config, str(tmp_path), [], "a red cat", "a dog", "", 7, 64, 64, 5
    )
    card = answer[-3]  # the panel: card, code in every language, the code box
    assert "Parameters: num_inference_steps=1, guidance_scale=0.0, width=64, height=64" in card
    assert "Settings:   Seed 5 · 1 step · guidance 0 · 64×64 · negative prompt: none" in card
    assert "Steps: 1, CFG scale: 0.0, Seed: 5" in read_png_parameters(answer[0])
    # The picture is the one those settings make.
    used = make(
        tiny, "a red cat", num_inference_steps=1, guidance_scale=0.0, width=64, height=64, seed=5
    )
    assert Image.open(answer[0]).tobytes() == picture(used).tobytes()


def read_png_parameters(path: str) -> str:
    from studio.tasks.image_settings import read_parameters

    with open(path, "rb") as saved:
        return read_parameters(saved.read())
