"""What the page's handlers give the tabs, over the fake backend: typed lengths, entities with
their types, the gallery's memory, the settings read back from a PNG, and the game's cards."""

from __future__ import annotations

import io
import shutil
from types import SimpleNamespace

import gradio as gr
import pytest
from PIL import Image

from studio import errors
from studio.tasks.image_settings import (
    SHAPES,
    SIZE_STEP,
    make_image_request,
    parameters_text,
    png_with_parameters,
    settings_from_parameters,
)
from studio.tasks.text import NumberBox
from studio.ui import entities, game_play, imagine, summarize
from studio.ui.waiting import Doing
from tests.conftest import ROOT
from tests.stand_ins.fake_backend import fake_config

CHELSEA = ROOT / "assets" / "chelsea.jpg"


def png(color: str = "blue") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(out, "PNG")
    return out.getvalue()


LENGTH = NumberBox("Length", 1, 1024, whole=True, unit="tokens")


@pytest.mark.parametrize(
    ("typed", "number"), [("", None), ("  ", None), (" 12 ", 12), ("1,024", 1024), (7.0, 7)]
)
def test_a_typed_number_is_read(typed, number):
    read = LENGTH.read(typed)
    assert read == number and type(read) is type(number)


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("twelve", "Length must be a number, not 'twelve'"),
        (True, "Length must be a number, not True"),
        ("nan", "Length must be between 1 and 1024 tokens, not NaN"),
        (float("nan"), "Length must be between 1 and 1024 tokens, not NaN"),
        ("inf", "Length must be between 1 and 1024 tokens, not infinity"),
        ("1e400", "Length must be between 1 and 1024 tokens, not infinity"),
        (float("-inf"), "not -infinity"),
        (1025, "not 1025"),
        ("2.5", "Length must be a whole number of tokens, not 2.5"),
    ],
)
def test_a_typed_number_that_is_not_one_is_named(typed, says):
    with pytest.raises(errors.InputError, match=says):
        LENGTH.read(typed)


def test_a_huge_whole_number_is_kept_exactly():
    seed = NumberBox("Seed", 0, 2**63 - 1, whole=True)
    assert seed.read(2**63 - 1) == 2**63 - 1 and seed.read(str(2**63 - 1)) == 2**63 - 1
    with pytest.raises(errors.InputError, match="Seed must be between 0 and 9223372036854775807"):
        seed.read(2**63)


def test_a_random_value_outside_the_range_is_taken_and_said():
    seed = NumberBox("The seed", 0, 9, whole=True, random=-1)
    assert seed.read(-1) == -1 and seed.read("-1") == -1
    with pytest.raises(errors.InputError, match=r"The seed must be -1 \(random\) or between 0"):
        seed.read(-2)


def test_summarize_reads_lengths_typed_in_its_boxes(fake_backend):
    fake_backend.answer([{"summary_text": "Short."}])
    assert summarize.summary(fake_config(), "A text to shorten.", "5", "") == "Short."
    assert fake_backend.calls[0].parameters == {"min_length": 5}
    with pytest.raises(errors.InputError, match="whole number of tokens, not 2.5"):
        summarize.summary(fake_config(), "A text to shorten.", "2.5", "")


def test_entities_are_marked_with_their_type_and_one_legend(fake_backend):
    text = "<b>Ada</b> met Hugging Face"
    fake_backend.answer(
        [
            {"entity_group": "PER", "word": "Ada", "start": 3, "end": 6, "score": 0.9},
            {"entity_group": "ORG", "word": "Hugging Face", "start": 15, "end": 27, "score": 0.9},
        ]
    )
    marked, rows = entities.entities_view(fake_config(), text)
    assert "&lt;b&gt;" in marked and "<b>Ada" not in marked  # the text is shown, not run
    assert marked.count("class='entity'") == 2 and marked.count("entity-legend") == 1
    assert "Hugging Face</span><span class='entity-type'>organisation" in marked
    assert [row[:2] for row in rows] == [["Ada", "PER"], ["Hugging Face", "ORG"]]


def test_no_entities_says_so(fake_backend):
    fake_backend.answer([])
    marked, rows = entities.entities_view(fake_config(), "the cat sat on the mat")
    assert entities.NONE_FOUND in marked and rows == []


def test_a_gallery_picture_brings_back_its_settings_and_seed(fake_backend, tmp_path):
    fake_backend.answer(png(), png("red"))
    config, folder = fake_config(), str(tmp_path)
    controls = ("a fox", "blurry", 12, 4.5, 704, 384, 99)
    path, settings, gallery, pictures, record = imagine.paint_for_page(
        config, folder, [], *controls
    )
    _, _, gallery, pictures, _ = imagine.paint_for_page(
        config, folder, pictures, "a boat", "", 25, 7, 512, 512, 5
    )
    assert gallery.visible is True
    labels = [label for _, label in imagine.gallery_items(pictures)]
    assert labels == ["seed 5 · a boat", "seed 99 · a fox"]
    chosen = imagine.choose(pictures, SimpleNamespace(index=1))
    assert list(chosen[:7]) == list(controls)
    assert chosen[7] == path and chosen[8].startswith("Seed 99 · 12 steps")


def test_settings_read_from_a_png_fill_the_controls(tmp_path):
    request = make_image_request("a fox, at dusk", negative_prompt="fog: thick", seed=4321)
    made = tmp_path / "made.png"
    made.write_bytes(png_with_parameters(Image.new("RGB", (8, 8)), request, model="org/m"))
    text = imagine.read_png(str(tmp_path), {"path": str(made)})
    assert text == parameters_text(request, model="org/m")
    assert imagine.use_settings(text) == ["a fox, at dusk", "fog: thick", 25, 7.0, 512, 512, 4321]

    plain = tmp_path / "plain.png"
    plain.write_bytes(png())
    with pytest.raises(errors.InputError, match="holds no settings"):
        imagine.read_png(str(tmp_path), {"path": str(plain)})
    with pytest.raises(errors.InputError, match="Upload the image again"):
        imagine.read_png(str(tmp_path / "elsewhere"), {"path": str(made)})


def test_automatic1111_settings_text_is_read_too():
    text = (
        "a castle\non a hill\nNegative prompt: people,\ncars\n"
        'Steps: 30, Sampler: Euler a, CFG scale: 6.5, Seed: 77, Size: 768x448, Model: "a, b"'
    )
    assert settings_from_parameters(text) == {
        "prompt": "a castle\non a hill",
        "negative_prompt": "people,\ncars",
        "steps": 30,
        "guidance": 6.5,
        "seed": 77,
        "width": 768,
        "height": 448,
    }
    only_a_prompt = imagine.use_settings("just a prompt")
    assert only_a_prompt[0] == "just a prompt" and only_a_prompt[2] is not None
    assert isinstance(only_a_prompt[2], type(gr.skip()))  # steps stay as they are


def test_every_shape_is_a_size_a_model_takes():
    for width, height in SHAPES.values():
        assert width % SIZE_STEP == 0 and height % SIZE_STEP == 0
        assert 0.75 <= width * height / 512**2 <= 1.25


def test_the_game_shows_round_0_then_each_caption_then_its_picture(fake_backend, tmp_path):
    upload = tmp_path / "photo.jpg"
    shutil.copy(CHELSEA, upload)
    fake_backend.answer([{"generated_text": "a cat"}], png(), [{"generated_text": "a blue box"}])
    fake_backend.answer(png("red"))
    steps = list(
        game_play.play_on_cards(fake_config(), str(tmp_path), {"path": str(upload)}, 2, 10)
    )
    doing = [step.what for step in steps if isinstance(step, Doing)]
    assert doing == [
        "Round 1 of 2: captioning your picture",
        "Round 1 of 2: painting the caption",
        "Round 2 of 2: captioning round 1",
        "Round 2 of 2: painting the caption",
    ]
    texts = [step[2::3] for step in steps if not isinstance(step, Doing)]  # each card's text
    assert "Round 0" in texts[0][0]
    assert texts[1][1] == "**Round 1** · seed 10\n\na cat\n\n*Painting…*"
    assert texts[2][1] == "**Round 1** · seed 10\n\na cat"
    assert "Captioning round 1's picture" in texts[2][2]
    assert texts[-1][2] == "**Round 2** · seed 11\n\na blue box"
    assert [call.task for call in fake_backend.calls] == ["caption", "image", "caption", "image"]
