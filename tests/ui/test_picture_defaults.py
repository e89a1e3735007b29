"""A studio painting with sd-turbo asks for 1 step without guidance unless told otherwise, from
Imagine and from the game, through gradio_client on the real app against the image stand-in
(which records what it received); told to use guidance, it still sends none, and the picture's
settings say so. SDXL's own settings are tested with the other image tabs (test_image_tabs)."""

from __future__ import annotations

from pathlib import Path

import pytest
from gradio_client import Client, handle_file

from studio.tasks.image_settings import read_parameters
from tests.conftest import ROOT, start_studio, stop_studio
from tests.stand_ins.image_servers import ImageServer, picture_tabs_env
from tests.stand_ins.servers import server_fixture

TOKEN = "hf_test_secret_token_0123456789"
CHELSEA = ROOT / "assets" / "chelsea.jpg"
TURBO = {"num_inference_steps": 1, "guidance_scale": 0.0}

image_server = server_fixture(ImageServer)


@pytest.fixture(scope="module")
def client(image_server):
    """Every tab, the pictures painted by stabilityai/sd-turbo (named in the task API's URL)."""
    process, url = start_studio({"HF_TOKEN": TOKEN, **picture_tabs_env(image_server)})
    yield Client(url, verbose=False)
    assert TOKEN not in stop_studio(process), "the token reached a log line"


def painted(server: ImageServer) -> list[dict]:
    """The parameters of each picture the stand-in was asked for, the seed aside."""
    asked = [r.json()["parameters"] for r in server.requests if r.path.startswith("/tti/")]
    return [{k: v for k, v in parameters.items() if k != "seed"} for parameters in asked]


def test_imagine_starts_at_one_step_without_guidance(client, image_server):
    api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    defaults = {
        p["parameter_name"]: p["parameter_default"] for p in api["/generate_image"]["parameters"]
    }
    assert (defaults["steps"], defaults["guidance"]) == (1, 0)  # where the page's sliders start

    path = client.predict("a lighthouse", api_name="/generate_image")
    assert painted(image_server) == [TURBO | {"width": 512, "height": 512}]
    assert "Steps: 1, CFG scale: 0.0," in read_parameters(Path(path).read_bytes())


def test_the_game_paints_in_one_step_without_guidance(client, image_server):
    caption, path = client.predict(handle_file(str(CHELSEA)), 7, api_name="/caption_and_generate")
    assert read_parameters(Path(path).read_bytes()).startswith(
        f"{caption}\nSteps: 1, CFG scale: 0.0, Seed: 7"
    )
    client.predict(handle_file(str(CHELSEA)), 2, 8, api_name="/play_rounds")
    assert painted(image_server) == [TURBO | {"width": 512, "height": 512}] * 3


def test_guidance_asked_of_sd_turbo_is_not_sent_nor_claimed(client, image_server):
    path = client.predict("a fox", "fog", 4, 7, 256, 256, 5, api_name="/generate_image")
    # A turbo runs without guidance, so a negative prompt (which works through it) is not sent.
    assert painted(image_server) == [
        {"num_inference_steps": 4, "guidance_scale": 0.0, "width": 256, "height": 256}
    ]
    assert read_parameters(Path(path).read_bytes()) == (
        "a fox\nSteps: 4, CFG scale: 0.0, Seed: 5, Size: 256x256"  # no negative prompt line
    )
