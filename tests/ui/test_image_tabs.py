"""The Caption, Imagine and describe-and-generate tabs: against local image servers, in process
and through gradio_client on the real app."""

from __future__ import annotations

import base64
import io
import json
import struct
import zlib
from pathlib import Path

import pytest
import requests
from gradio_client import Client, handle_file
from PIL import ExifTags, Image, ImageChops

from studio.backends.openai_chat import CAPTION_INSTRUCTION, caption_chat_body
from studio.services import caption_image, paint_picture
from studio.tasks.game import Round
from studio.tasks.image_settings import make_image_request, read_parameters
from studio.tasks.pixels import looks_blank
from studio.tasks.uploads import MAX_UPLOAD_BYTES, prepare_upload
from studio.ui.common import settings_line
from tests.conftest import ROOT, make_endpoint, start_studio, stop_studio
from tests.stand_ins.image_servers import ImageServer
from tests.stand_ins.servers import server_fixture

TOKEN = "hf_test_secret_token_0123456789"
CHELSEA = ROOT / "assets" / "chelsea.jpg"  # 451x300
RED, GREY = (220, 20, 20), (128, 128, 128)


# --- servers and apps ------------------------------------------------------------------------


image_server = server_fixture(ImageServer)


def run_app(env: dict, *args: str):
    process, url = start_studio({"HF_TOKEN": TOKEN, "STUDIO_TIMEOUT": "5", **env}, *args)
    yield Client(url, verbose=False)
    output = stop_studio(process)
    assert TOKEN not in output, "the token reached a log line"


SDXL = "stabilityai/stable-diffusion-xl-base-1.0"  # a model that uses every option


def task_api_servers(server, model: str = SDXL) -> dict:
    """Captions from raw image bytes, pictures as raw JPEG, from the local image server."""
    return {
        "HF_API_ITT_BASE": f"{server.url}/itt/models/Salesforce/blip-image-captioning-base",
        "HF_API_TTI_BASE": f"{server.url}/tti/models/{model}",
        "STUDIO_IMAGE_MODEL": model,  # named in the PNG's parameters
    }


@pytest.fixture(scope="module")
def client(image_server):
    """The app with every tab, against task-API servers."""
    yield from run_app(task_api_servers(image_server))


@pytest.fixture(scope="module")
def game_client(image_server):
    """The describe-and-generate tab served alone, as --per-tab-ports also serves it."""
    yield from run_app(task_api_servers(image_server), "--tabs", "game")


@pytest.fixture(scope="module")
def chat_client(image_server):
    """The app with a vision chat server for captions, and pictures answered as b64_json."""
    base = image_server.url
    yield from run_app(
        {
            "STUDIO_CAPTION_CHAT_BASE": f"{base}/v1",
            "HF_API_TTI_BASE": f"{base}/tti-b64json/models/some/provider-model",
        }
    )


def sent(server: ImageServer, prefix: str) -> list:
    return [request for request in server.requests if request.path.startswith(prefix)]


# --- pictures to upload ----------------------------------------------------------------------


def encode(picture: Image.Image, image_format: str, **options) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, image_format, **options)
    return buffer.getvalue()


def phone_photo(size: tuple[int, int]) -> Image.Image:
    """Gradients and sensor-like noise, which compress about as badly as a real photo, with a
    red patch in the top left corner as the person sees it."""
    layers = [
        Image.linear_gradient("L").rotate(90).resize(size),
        Image.linear_gradient("L").resize(size),
        Image.radial_gradient("L").resize(size),
    ]
    noise = Image.effect_noise(size, 24)
    picture = Image.merge("RGB", [Image.blend(layer, noise, 0.25) for layer in layers])
    picture.paste(RED, (0, 0, size[0] // 5, size[0] // 5))
    return picture


def stored_sideways(upright: Image.Image, path: Path) -> Path:
    """Save as a phone does: pixels stored turned a quarter, EXIF Orientation 6 to turn back."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    path.write_bytes(encode(stored, "JPEG", quality=92, exif=exif.tobytes()))
    return path


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a size but holds no pixels: a decompression bomb's header."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


# --- pure request building -------------------------------------------------------------------


def test_the_caption_chat_body_asks_for_one_sentence_about_the_image():
    body = caption_chat_body("Qwen/Qwen2.5-VL-7B-Instruct", "data:image/jpeg;base64,AAAA")
    assert body == {
        "model": "Qwen/Qwen2.5-VL-7B-Instruct",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": CAPTION_INSTRUCTION},
                    {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,AAAA"}},
                ],
            }
        ],
        "max_tokens": 60,
        "stream": False,
    }
    assert "one-sentence caption" in CAPTION_INSTRUCTION


def test_a_round_is_labelled_with_its_number_seed_and_caption():
    played = Round(number=2, caption="a cat", seed=8, image=Image.new("RGB", (1, 1)))
    assert played.label == "Round 2 · seed 8: a cat"


# --- the two ways to caption, against the servers --------------------------------------------


def test_captioning_speaks_each_protocol(image_server):
    prepared = prepare_upload(CHELSEA)
    task = make_endpoint(f"{image_server.url}/itt/models/blip", task="caption")
    bare = make_endpoint(f"{image_server.url}/itt-object/models/blip", task="caption")
    chat = make_endpoint(
        f"{image_server.url}/v1", task="caption", protocol="openai", model="vision/model"
    )
    expected = f"a grey picture of 451x300 pixels ({len(prepared.jpeg)} bytes)"
    assert caption_image(task, prepared) == expected
    assert caption_image(bare, prepared) == expected
    assert caption_image(chat, prepared) == f"A{expected[1:]}."

    raw, _, chat_request = image_server.requests
    assert raw.headers["Content-Type"] == "image/jpeg" and raw.body == prepared.jpeg
    assert chat_request.path == "/v1/chat/completions"
    data_url = "data:image/jpeg;base64," + base64.b64encode(prepared.jpeg).decode()
    assert chat_request.json() == caption_chat_body("vision/model", data_url)


@pytest.mark.parametrize("route", ["tti", "tti-png", "tti-base64", "tti-b64json"])
def test_every_text_to_image_answer_shape_decodes(image_server, route):
    """Raw JPEG or PNG (the router), a JSON string of base64 (the course), b64_json."""
    endpoint = make_endpoint(f"{image_server.url}/{route}/models/sd", task="image")
    request = make_image_request("a lighthouse", width=256, height=128, seed=7)
    picture = paint_picture(endpoint, request)
    assert picture.size == (256, 128)
    again = paint_picture(endpoint, request)
    other_seed = paint_picture(
        endpoint, make_image_request("a lighthouse", width=256, height=128, seed=8)
    )
    # the seed moves the dots: same seed, same picture; another seed, another picture
    assert ImageChops.difference(picture.convert("RGB"), again.convert("RGB")).getbbox() is None
    assert ImageChops.difference(picture.convert("RGB"), other_seed.convert("RGB")).getbbox()
    assert image_server.requests[0].json() == {
        "inputs": "a lighthouse",
        "parameters": request.to_parameters(),
    }


def test_an_all_black_answer_is_named_as_the_safety_filter(image_server):
    endpoint = make_endpoint(f"{image_server.url}/tti-black/models/sd", task="image")
    request = make_image_request("anything", seed=1)
    picture = paint_picture(endpoint, request)
    assert looks_blank(picture)
    assert settings_line(request, picture).endswith("all black: probably the safety filter")


# --- Caption through gradio_client -----------------------------------------------------------


def test_a_12_megapixel_phone_photo_arrives_upright_and_downscaled(client, image_server, tmp_path):
    path = stored_sideways(phone_photo((3000, 4000)), tmp_path / "phone.jpg")

    caption = client.predict(handle_file(str(path)), api_name="/caption")

    (received,) = sent(image_server, "/itt/")
    assert received.headers["Content-Type"] == "image/jpeg"
    got = Image.open(io.BytesIO(received.body))
    # Upright (portrait), decoded straight at a quarter: long side 1000, within the 1024 limit.
    assert got.format == "JPEG" and got.size == (750, 1000)
    assert dict(got.getexif()) == {}  # orientation applied, metadata not sent on
    assert caption.startswith("a ") and "750x1000 pixels, red mark at top left" in caption
    print(
        f"\n4000x3000 photo (stored sideways, EXIF 6): file {path.stat().st_size:,} bytes, "
        f"as base64 JSON {len(base64.b64encode(path.read_bytes())) + 14:,} bytes; "
        f"the server received {len(received.body):,} bytes "
        f"({path.stat().st_size / len(received.body):.0f}x fewer)"
    )
    assert len(received.body) * 10 < path.stat().st_size


def test_an_example_photo_is_captioned_as_it_is(client, image_server):
    caption = client.predict(handle_file(str(CHELSEA)), api_name="/caption")
    (received,) = sent(image_server, "/itt/")
    assert caption == f"a grey picture of 451x300 pixels ({len(received.body)} bytes)"


def test_bad_uploads_get_clear_messages_and_reach_no_server(client, image_server, tmp_path):
    not_an_image = tmp_path / "notes.jpg"
    not_an_image.write_text("shopping list: eggs, milk")
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_header_only(20_000, 20_000))
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    cut_short = tmp_path / "cut.webp"
    cut_short.write_bytes(encode(Image.new("RGB", (64, 64), GREY), "WEBP")[:40])
    icon = tmp_path / "icon.ico"  # Pillow's ICO plugin would decode it while opening
    icon.write_bytes(encode(Image.new("RGB", (64, 64), GREY), "ICO"))
    cases = [
        (not_an_image, "not an image file we can read"),
        (cut_short, "damaged or incomplete"),
        (icon, "not an image file we can read"),
        (bomb, "too large to decode safely \\(400 megapixels; the limit is 50\\)"),
        (empty, "Upload an image first"),
    ]
    for path, message in cases:
        with pytest.raises(Exception, match=message):
            client.predict(handle_file(str(path)), api_name="/caption")
    with pytest.raises(Exception, match="Upload an image first"):
        client.predict(None, api_name="/caption")
    assert image_server.requests == []


def test_an_upload_over_the_size_limit_is_stopped(client, image_server, tmp_path):
    padded = tmp_path / "padded.png"
    with padded.open("wb") as file:
        file.write(encode(Image.new("RGB", (64, 64), GREY), "PNG"))
        file.truncate(MAX_UPLOAD_BYTES + 1)  # sparse on disk, but sent whole
    with pytest.raises(Exception, match="exceeds the maximum file size of 50000000 bytes"):
        client.predict(handle_file(str(padded)), api_name="/caption")
    # gradio_client checks before sending; the server refuses a raw upload itself
    with padded.open("rb") as file:
        refused = requests.post(f"{client.src}gradio_api/upload", files={"files": file})
    assert refused.status_code == 413 and "maximum allowed size" in refused.text
    assert image_server.requests == []


def test_a_path_on_the_server_is_not_an_upload(client, image_server):
    """A raw API call can name any server path as the image; only uploads are read."""
    for payload in ({"path": str(CHELSEA)}, {"path": "/etc/passwd"}):
        call = requests.post(f"{client.src}gradio_api/call/caption", json={"data": [payload]})
        events = requests.get(f"{call.url}/{call.json()['event_id']}", timeout=10).text
        assert "event: error" in events and "Upload the image again" in events
    assert image_server.requests == []


def test_a_server_failure_is_a_message(client, image_server):
    image_server.fail_next("/itt", (402, {"error": "exceeded your monthly included credits"}, {}))
    with pytest.raises(Exception, match="credits are used up"):
        client.predict(handle_file(str(CHELSEA)), api_name="/caption")


def test_captions_from_a_vision_chat_server(chat_client, image_server):
    caption = chat_client.predict(handle_file(str(CHELSEA)), api_name="/caption")
    (received,) = sent(image_server, "/v1/chat/completions")
    body = received.json()
    assert received.headers["Authorization"] == f"Bearer {TOKEN}"
    assert body["model"] == "vision/model"  # the one model the server lists, no setting
    url = body["messages"][0]["content"][1]["image_url"]["url"]
    jpeg = base64.b64decode(url.removeprefix("data:image/jpeg;base64,"))
    assert caption == f"A grey picture of 451x300 pixels ({len(jpeg)} bytes)."


# --- Imagine through gradio_client -----------------------------------------------------------


def test_generate_image_sends_every_option_and_the_png_says_how_it_was_made(client, image_server):
    path = client.predict(
        "a red fox in the snow", "blurry", 30, 8.5, 256, 128, 42, api_name="/generate_image"
    )

    (received,) = sent(image_server, "/tti/")
    assert received.json() == {
        "inputs": "a red fox in the snow",
        "parameters": {
            "negative_prompt": "blurry",
            "num_inference_steps": 30,
            "guidance_scale": 8.5,
            "width": 256,
            "height": 128,
            "seed": 42,
        },
    }
    downloaded = Path(path).read_bytes()  # the file as the person downloads it
    assert Path(path).name == "studio-42.png"
    assert Image.open(io.BytesIO(downloaded)).size == (256, 128)
    assert read_parameters(downloaded) == (
        "a red fox in the snow\n"
        "Negative prompt: blurry\n"
        f"Steps: 30, CFG scale: 8.5, Seed: 42, Size: 256x128, Model: {SDXL}"
    )


def test_generate_image_with_only_a_prompt_uses_the_model_s_defaults_and_a_random_seed(
    client, image_server
):
    first = client.predict("a lighthouse", api_name="/generate_image")
    second = client.predict("a lighthouse", api_name="/generate_image")
    parameters = [request.json()["parameters"] for request in sent(image_server, "/tti/")]
    for sent_parameters in parameters:
        seed = sent_parameters.pop("seed")
        assert 0 <= seed < 2**32
        assert sent_parameters == {
            "num_inference_steps": 30,  # SDXL's own steps and guidance
            "guidance_scale": 5.0,
            "width": 512,
            "height": 512,
        }
    assert read_parameters(Path(first).read_bytes()).endswith(f"Size: 512x512, Model: {SDXL}")
    assert Path(first).read_bytes() != Path(second).read_bytes()  # two random seeds


def test_the_same_seed_makes_the_same_picture(client):
    one = client.predict("a lighthouse", None, 10, 7, 128, 128, 5, api_name="/generate_image")
    two = client.predict("a lighthouse", None, 10, 7, 128, 128, 5, api_name="/generate_image")
    assert Path(one).read_bytes() == Path(two).read_bytes()


@pytest.mark.parametrize(
    "arguments, message",
    [
        (("   ",), "Write a prompt"),
        (("a fox", "", 0), "Steps must be between 1 and 100"),
        (("a fox", "", 25, 30), "Guidance must be between 0 and 20"),
        (("a fox", "", 25, 7, 2048), "Width must be between 64 and 1024"),
        (("a fox", "", 25, 7, 512, 512, -7), "seed must be -1 \\(random\\) or between"),
        (("a fox", "", 25, 7, 512, 512, 2.5), "seed must be a whole number"),
        ((123,), "The prompt must be text, not int"),
        (("a fox", 5), "The negative prompt must be text, not int"),
    ],
)
def test_bad_settings_get_clear_messages(client, image_server, arguments, message):
    with pytest.raises(Exception, match=message):
        client.predict(*arguments, api_name="/generate_image")
    assert image_server.requests == []


def test_pictures_answered_as_b64_json_come_through(chat_client, image_server):
    path = chat_client.predict("a teal boat", None, 20, 7, 192, 64, 3, api_name="/generate_image")
    assert sent(image_server, "/tti-b64json/")
    assert Image.open(path).size == (192, 64)
    # no STUDIO_IMAGE_MODEL with a URL of one's own: the PNG names no model
    assert read_parameters(Path(path).read_bytes()) == (
        "a teal boat\nSteps: 20, CFG scale: 7.0, Seed: 3, Size: 192x64"
    )


# --- the describe-and-generate game through gradio_client ------------------------------------


def test_caption_and_generate_paints_the_caption(client, image_server):
    caption, path = client.predict(handle_file(str(CHELSEA)), 77, api_name="/caption_and_generate")
    (captioned,) = sent(image_server, "/itt/")
    (painted,) = sent(image_server, "/tti/")
    assert caption == f"a grey picture of 451x300 pixels ({len(captioned.body)} bytes)"
    assert painted.json()["inputs"] == caption and painted.json()["parameters"]["seed"] == 77
    assert painted.json()["parameters"]["num_inference_steps"] == 30  # SDXL's own, as Imagine's
    assert painted.json()["parameters"]["guidance_scale"] == 5.0
    assert read_parameters(Path(path).read_bytes()).startswith(
        f"{caption}\nSteps: 30, CFG scale: 5.0"
    )


def test_rounds_caption_each_new_picture_and_grow_the_gallery(client, image_server):
    job = client.submit(handle_file(str(CHELSEA)), 3, 100, api_name="/play_rounds")
    final = job.result()

    # one update per round, each with one more picture
    assert [len(update) for update in job.outputs()] == [1, 2, 3]
    captioned = sent(image_server, "/itt/")
    prompts = [request.json() for request in sent(image_server, "/tti/")]
    assert len(captioned) == len(prompts) == 3
    assert [p["parameters"]["seed"] for p in prompts] == [100, 101, 102]
    # round 1 describes the photo; later rounds describe the picture painted before
    assert prompts[0]["inputs"].startswith("a grey picture of 451x300 pixels")
    assert "512x512 pixels" in prompts[1]["inputs"] and "512x512 pixels" in prompts[2]["inputs"]
    for number, (item, prompt) in enumerate(zip(final, prompts, strict=True), start=1):
        assert item["caption"] == f"Round {number} · seed {99 + number}: {prompt['inputs']}"
        text = read_parameters(Path(item["image"]).read_bytes())
        assert text.startswith(prompt["inputs"]) and f"Seed: {99 + number}" in text


def test_rounds_out_of_range_are_refused(client, image_server):
    with pytest.raises(Exception, match="Rounds must be between 1 and 5, not 6"):
        client.predict(handle_file(str(CHELSEA)), 6, api_name="/play_rounds")
    with pytest.raises(Exception, match="Upload an image first"):
        client.predict(None, 2, api_name="/play_rounds")
    assert image_server.requests == []


def test_the_game_alone_offers_caption_and_generate_image(game_client, image_server):
    endpoints = game_client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    game = {"/caption_and_generate", "/play_rounds"}
    assert set(endpoints) == {"/caption", "/generate_image"} | game

    caption = game_client.predict(handle_file(str(CHELSEA)), api_name="/caption")
    assert caption.startswith("a grey picture of 451x300 pixels")
    path = game_client.predict("a lighthouse", 9, api_name="/generate_image")  # (prompt, seed)
    (painted,) = sent(image_server, "/tti/")
    assert painted.json()["inputs"] == "a lighthouse" and painted.json()["parameters"]["seed"] == 9
    assert read_parameters(Path(path).read_bytes()).startswith("a lighthouse\nSteps: 30")


def test_with_every_tab_each_api_name_is_the_owning_tab_s(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {"/caption", "/generate_image"} <= set(endpoints)
    assert not [name for name in endpoints if name[-2:] in ("_1", "_2")]  # no game duplicates


def test_the_game_api_with_a_chat_captioner(chat_client, image_server):
    caption, path = chat_client.predict(handle_file(str(CHELSEA)), api_name="/caption_and_generate")
    assert caption.startswith("A grey picture of 451x300 pixels")
    assert json.loads(sent(image_server, "/tti-b64json/")[0].body)["inputs"] == caption
    assert Image.open(path).size == (512, 512)
