"""The picture grid's pure logic: the axes read by each setting's rule and bounded, every
cell's settings, the composed grid's size, and its settings read back from the PNG."""

from __future__ import annotations

import pytest
from PIL import Image

from studio.errors import InputError
from studio.tasks.image_settings import read_parameters, settings_from_parameters
from studio.tasks.picture_grid import (
    MAX_CELLS,
    compose,
    grid_png,
    plan,
    read_axes,
    read_axis,
    read_grid,
)

SDXL = "stabilityai/stable-diffusion-xl-base-1.0"
SETTINGS = dict(
    prompt="a red fox", negative_prompt="blurry", steps=20, guidance=5, width=128, height=64
)


def fixed_seed(seed: object) -> int:
    """resolve_seed's stand-in: an empty or random seed is 4242, any other kept."""
    return 4242 if seed in (None, "", -1) else int(seed)


def test_values_are_read_by_their_settings_rules():
    assert read_axis("Guidance", "3.5, 7").values == (3.5, 7)
    assert read_axis("Steps", " 10 20;30 ").values == (10, 20, 30)
    assert read_axis("Seed", "1, -1, -1").values == (1, -1, -1)  # random, more than once
    with pytest.raises(InputError, match="Steps must be a whole number"):
        read_axis("Steps", "10, 12.5")
    with pytest.raises(InputError, match="Guidance must be between 0 and 20, not 25"):
        read_axis("Guidance", "7, 25")
    with pytest.raises(InputError, match="Guidance must be a number, not 'high'"):
        read_axis("Guidance", "high")
    with pytest.raises(InputError, match="Type the values of Seed"):
        read_axis("Seed", "  ")
    with pytest.raises(InputError, match="each value once"):
        read_axis("Seed", "3, 3")
    with pytest.raises(InputError, match="runs over Seed, Guidance, Steps"):
        read_axis("Width", "64")


def test_the_grid_is_bounded():
    with pytest.raises(InputError, match="at most 8 values along one side, not 9"):
        read_axis("Seed", ",".join(str(n) for n in range(9)))
    across, down = read_axes("Seed", "1,2,3,4", "Guidance", "1,2,3,4")
    assert len(across.values) * len(down.values) == MAX_CELLS
    with pytest.raises(InputError, match=r"at most 16 pictures \(4 by 4\); 5 by 4 is 20"):
        read_axes("Seed", "1,2,3,4,5", "Guidance", "1,2,3,4")
    with pytest.raises(InputError, match="both vary Seed"):
        read_axes("Seed", "1,2", "Seed", "3,4")
    assert read_axes("Steps", "1,2", "None", "ignored")[1] is None


def test_each_cell_has_its_own_settings_and_the_rest_shared():
    across, down = read_axes("Seed", "7, 8", "Guidance", "3.5, 7")
    grid = plan(SETTINGS, across, down, model=SDXL, choose_seed=fixed_seed)
    assert (grid.rows, grid.columns) == (2, 2)
    cells = [(r.seed, r.guidance, r.steps) for r in grid.requests]
    assert cells == [(7, 3.5, 20), (8, 3.5, 20), (7, 7.0, 20), (8, 7.0, 20)]  # row by row
    assert {(r.prompt, r.negative_prompt, r.width, r.height) for r in grid.requests} == {
        ("a red fox", "blurry", 128, 64)
    }
    assert grid.label(3) == "Seed 8 · Guidance 7"


def test_a_random_seed_is_chosen_once_for_the_whole_grid():
    chosen = iter([11, 12, 13])
    grid = plan(
        {**SETTINGS, "seed": -1}, read_axis("Steps", "1, 2, 3"), choose_seed=lambda _: next(chosen)
    )
    assert [r.seed for r in grid.requests] == [11, 11, 11]
    seeds = plan(SETTINGS, read_axis("Seed", "5, -1"), choose_seed=fixed_seed)
    assert [r.seed for r in seeds.requests] == [5, 4242]


def test_a_model_without_guidance_refuses_a_guidance_axis():
    with pytest.raises(InputError, match="runs without guidance"):
        plan(SETTINGS, read_axis("Guidance", "1, 7"), model="stabilityai/sd-turbo")
    turbo = plan(SETTINGS, read_axis("Steps", "1, 2"), model="stabilityai/sd-turbo")
    assert {r.guidance for r in turbo.requests} == {0.0}


def test_a_bad_shared_setting_is_refused_before_any_cell():
    with pytest.raises(InputError, match="Width must be"):
        plan({**SETTINGS, "width": 5000}, read_axis("Seed", "1, 2"))


def test_the_composed_grid_has_a_cell_per_picture_and_room_for_the_labels():
    across, down = read_axes("Seed", "1, 2, 3", "Steps", "4, 5")
    grid = plan(SETTINGS, across, down, choose_seed=fixed_seed)
    pictures = [Image.new("RGB", (128, 64), (0, 0, 255))] * 5 + [None]  # the last never came
    image = compose(grid, pictures)
    assert image.width > 3 * 128 and image.height > 2 * 64  # labels left and above
    assert image.width < 3 * 128 + 200 and image.height < 2 * 64 + 60
    right, bottom = image.width - 1, image.height - 1
    assert image.getpixel((right, bottom)) == (200, 200, 200)  # the missing cell, grey
    assert image.getpixel((right, bottom - 64)) == (0, 0, 255)
    one_row = plan(SETTINGS, across, choose_seed=fixed_seed)
    assert compose(one_row, [Image.new("RGB", (256, 256))] * 3).width == 3 * 128  # resized


def test_the_pngs_settings_read_back():
    across, down = read_axes("Seed", "7, 8", "Guidance", "3.5, 7")
    grid = plan(SETTINGS, across, down, model=SDXL, choose_seed=fixed_seed)
    png = grid_png(grid, compose(grid, [Image.new("RGB", (128, 64))] * 4))
    record = read_grid(png)
    assert record["prompt"] == "a red fox" and record["size"] == "128x64"
    assert record["axes"] == [
        {"name": "Seed", "values": [7, 8]},
        {"name": "Guidance", "values": [3.5, 7]},
    ]
    assert [(c["row"], c["column"], c["label"]) for c in record["cells"]][-1] == (
        1,
        1,
        "Seed 8 · Guidance 7",
    )
    last = settings_from_parameters(record["cells"][-1]["parameters"])
    assert (last["seed"], last["guidance"], last["steps"]) == (8, 7.0, 20)
    first = settings_from_parameters(read_parameters(png))  # what image tools read
    assert (first["seed"], first["guidance"], first["prompt"]) == (7, 3.5, "a red fox")
    assert read_grid(grid_png(grid, Image.new("RGB", (8, 8)))) is not None
    plain = Image.new("RGB", (8, 8))
    plain.save(buffer := __import__("io").BytesIO(), "PNG")
    assert read_grid(buffer.getvalue()) is None
