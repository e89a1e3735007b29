"""Each image model's own starting settings (studio.tasks.model_settings), and a request made for
a model: what is not given is the model's default, and a model that runs without guidance is
asked with none, so its record never claims a guidance it did not use."""

from __future__ import annotations

import pytest

from studio.errors import InputError
from studio.tasks.image_settings import describe, make_image_request, parameters_text
from studio.tasks.model_settings import COURSE, guidance_note, name_part, picture_defaults


@pytest.mark.parametrize(
    ("model", "steps", "guidance", "free"),
    [
        ("stabilityai/sd-turbo", 1, 0.0, True),
        ("stabilityai/sdxl-turbo", 1, 0.0, True),
        ("StabilityAI/SD-Turbo", 1, 0.0, True),  # ids are matched ignoring case
        ("https://router.huggingface.co/hf-inference/models/stabilityai/sd-turbo", 1, 0.0, True),
        ("http://127.0.0.1:8080/models/stabilityai/sdxl-turbo/", 1, 0.0, True),
        ("black-forest-labs/FLUX.1-schnell", 4, 0.0, True),
        ("black-forest-labs/FLUX.1-dev", 28, 3.5, False),
        ("stabilityai/stable-diffusion-xl-base-1.0", 30, 5.0, False),
        ("stable-diffusion-v1-5/stable-diffusion-v1-5", 25, 7.5, False),
        ("CompVis/stable-diffusion-v1-4", 25, 7.5, False),
        ("stabilityai/stable-diffusion-2-1", 25, 7.5, False),
        ("stabilityai/stable-diffusion-3.5-large-turbo", 4, 0.0, True),
        ("someone/my-turbo-finetune", 1, 0.0, True),  # a turbo the table does not name
    ],
)
def test_known_models_start_from_their_own_settings(model, steps, guidance, free):
    defaults = picture_defaults(model)
    assert (defaults.steps, defaults.guidance, defaults.guidance_free) == (steps, guidance, free)


@pytest.mark.parametrize(
    "model", ["", "someone/a-new-model", "https://example.org/v1", "sd-turbo-like/its-own-name"]
)
def test_an_unknown_model_starts_from_the_course_settings(model):
    # Only the name part counts: "sd-turbo-like" is the owner, not the model.
    assert picture_defaults(model) == COURSE == picture_defaults("")
    assert (COURSE.steps, COURSE.guidance) == (25, 7.0)


def test_the_name_part_is_the_last_part_of_an_id_or_a_url():
    assert name_part("stabilityai/SD-Turbo") == "sd-turbo"
    assert name_part("https://host/models/org/Name/?x=1") == "name"
    assert name_part("sd-turbo") == "sd-turbo"


def test_a_request_for_a_model_starts_from_its_defaults():
    turbo = make_image_request("a fox", model="stabilityai/sd-turbo", seed=1)
    assert (turbo.steps, turbo.guidance) == (1, 0.0)
    sdxl = make_image_request("a fox", model="stabilityai/stable-diffusion-xl-base-1.0", seed=1)
    assert (sdxl.steps, sdxl.guidance) == (30, 5.0)
    unknown = make_image_request("a fox", seed=1)
    assert (unknown.steps, unknown.guidance) == (25, 7.0)
    # Empty values, as a text box or a REST call sends them, are the model's defaults too.
    typed = make_image_request(
        "a fox", steps="", guidance=None, model="black-forest-labs/FLUX.1-dev"
    )
    assert (typed.steps, typed.guidance) == (28, 3.5)


def test_what_is_asked_is_kept_for_a_model_that_uses_guidance():
    request = make_image_request(
        "a fox",
        negative_prompt="fog",
        steps=12,
        guidance=0,
        model="stabilityai/stable-diffusion-xl-base-1.0",
    )
    assert (request.steps, request.guidance, request.negative_prompt) == (12, 0.0, "fog")


def test_a_model_without_guidance_is_asked_with_none_and_its_record_says_so():
    request = make_image_request(
        "a fox", negative_prompt="fog", steps=4, guidance=7, model="stabilityai/sd-turbo", seed=3
    )
    assert (request.steps, request.guidance, request.negative_prompt) == (4, 0.0, "")
    assert request.to_parameters()["guidance_scale"] == 0.0
    assert "negative_prompt" not in request.to_parameters()
    assert "guidance 0 ·" in describe(request) and "negative prompt: none" in describe(request)
    assert "CFG scale: 0.0" in parameters_text(request, model="stabilityai/sd-turbo")


def test_a_bad_guidance_is_refused_even_for_a_model_that_ignores_it():
    with pytest.raises(InputError, match="Guidance must be between 0 and 20"):
        make_image_request("a fox", guidance=float("nan"), model="stabilityai/sd-turbo")


def test_the_page_says_when_a_model_runs_without_guidance():
    assert guidance_note("stabilityai/sd-turbo") == (
        "sd-turbo runs without guidance: guidance stays 0, and a negative prompt has no effect."
    )
    assert guidance_note("stabilityai/stable-diffusion-xl-base-1.0") == ""
