"""Compare's picture grid against the stand-in image server: /compare_pictures sends one request
per cell with that cell's settings, answers every cell with its card, and the grid's PNG holds
them all; a grid too large or a bad value costs no request."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from studio.tasks.image_settings import read_parameters
from studio.tasks.picture_grid import read_grid
from tests.conftest import start_studio, stop_studio
from tests.stand_ins.image_servers import ImageServer
from tests.stand_ins.servers import server_fixture

TOKEN = "hf_test_secret_token_0123456789"
SDXL = "stabilityai/stable-diffusion-xl-base-1.0"  # a model that takes guidance

image_server = server_fixture(ImageServer)


@pytest.fixture(scope="module")
def client(image_server):
    env = {
        "HF_API_TTI_BASE": f"{image_server.url}/tti-png/models/{SDXL}",
        "STUDIO_IMAGE_MODEL": SDXL,
        "STUDIO_CHAT_BASE": f"{image_server.url}/v1",  # the Text half: not asked here
        "HF_TOKEN": TOKEN,
        "STUDIO_TIMEOUT": "10",
    }
    process, url = start_studio(env, "--tabs", "compare")
    yield Client(url, verbose=False)
    assert TOKEN not in stop_studio(process), "the token reached a log line"


def grid_args(**changed) -> dict:
    args = dict(
        prompt="a teal boat",
        negative_prompt="fog",
        across="Seed",
        across_values="7, 8",
        down="Guidance",
        down_values="3.5, 7",
        steps=12,
        guidance=None,
        width=128,
        height=64,
        seed=-1,
    )
    return args | changed


def test_every_cell_is_asked_with_its_own_settings_and_the_png_holds_them(client, image_server):
    grid, cells, records = client.predict(*grid_args().values(), api_name="/compare_pictures")
    sent = sorted(
        (p["seed"], p["guidance_scale"], p["num_inference_steps"], p["width"], p["height"])
        for p in (request.json()["parameters"] for request in image_server.requests)
    )
    assert sent == [(7, 3.5, 12, 128, 64), (7, 7.0, 12, 128, 64), (8, 3.5, 12, 128, 64)] + [
        (8, 7.0, 12, 128, 64)
    ]
    assert {
        request.json()["parameters"]["negative_prompt"] for request in image_server.requests
    } == {"fog"}
    assert [cell["caption"] for cell in cells] == [
        "Seed 7 · Guidance 3.5",
        "Seed 8 · Guidance 3.5",
        "Seed 7 · Guidance 7",
        "Seed 8 · Guidance 7",
    ]
    assert all(Path(cell["image"]).read_bytes().startswith(b"\x89PNG") for cell in cells)
    last = records[-1]["card"]
    assert "Seed 8 · 12 steps · guidance 7 · 128×64" in last and "Seed:" in last
    assert TOKEN not in last
    assert [record["request"]["guidance"] for record in records] == [3.5, 3.5, 7.0, 7.0]
    png = Path(grid).read_bytes()
    record = read_grid(png)
    assert record["axes"] == [
        {"name": "Seed", "values": [7, 8]},
        {"name": "Guidance", "values": [3.5, 7]},
    ]
    assert [cell["settings"]["seed"] for cell in record["cells"]] == [7, 8, 7, 8]
    assert record["model"] == SDXL and record["prompt"] == "a teal boat"
    assert read_parameters(png).startswith("a teal boat\nNegative prompt: fog\nSteps: 12")


def test_one_axis_shares_one_random_seed(client, image_server):
    args = grid_args(across="Steps", across_values="1, 2, 3", down="None", down_values="")
    grid, cells, _ = client.predict(*args.values(), api_name="/compare_pictures")
    parameters = [request.json()["parameters"] for request in image_server.requests]
    assert sorted(p["num_inference_steps"] for p in parameters) == [1, 2, 3]
    assert len({p["seed"] for p in parameters}) == 1  # the cells differ only by their steps
    assert len(cells) == 3 and len(read_grid(Path(grid).read_bytes())["cells"]) == 3


def test_a_grid_too_large_or_a_bad_value_costs_no_request(client, image_server):
    too_many = grid_args(across_values="1, 2, 3, 4, 5", down_values="1, 2, 3, 4")
    with pytest.raises(AppError, match=r"at most 16 pictures \(4 by 4\); 5 by 4 is 20"):
        client.predict(*too_many.values(), api_name="/compare_pictures")
    with pytest.raises(AppError, match="Guidance must be between 0 and 20, not 30"):
        client.predict(*grid_args(down_values="3, 30").values(), api_name="/compare_pictures")
    assert image_server.requests == []


def test_cancelling_after_the_first_cell_asks_for_no_more(client, image_server):
    image_server.delay = 2.0  # each picture takes two seconds
    job = client.submit(*grid_args().values(), api_name="/compare_pictures")
    deadline = time.monotonic() + 60
    while not job.outputs():  # the first cell has arrived
        assert time.monotonic() < deadline, "no cell arrived"
        time.sleep(0.05)
    job.cancel()
    asked = len(image_server.requests)
    assert asked <= 2  # the first cell, and perhaps the second, cut in flight
    time.sleep(2 * image_server.delay)  # as long as two more cells would take
    assert len(image_server.requests) == asked
