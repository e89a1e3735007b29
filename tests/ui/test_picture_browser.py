"""The picture tabs as a class meets them, in Debian's Chromium: the game's round cards and its
Stop, Imagine beside its result, its shapes, its gallery and the settings inside a PNG, the
Caption tab's wait, and Imagine on a phone."""

from __future__ import annotations

import re
import time

import pytest
from PIL import Image

from studio.tasks.image_settings import SHAPES, make_image_request, png_with_parameters
from tests.conftest import ROOT, screenshot, start_studio, stop_studio
from tests.stand_ins.image_servers import ImageServer, picture_tabs_env
from tests.stand_ins.servers import server_fixture

expect = pytest.importorskip("playwright.sync_api").expect


pytestmark = pytest.mark.usefixtures("patient_expect")


CHELSEA = str(ROOT / "assets" / "chelsea.jpg")  # 451x300
TWO_FRAMES = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"


picture_server = server_fixture(ImageServer)


@pytest.fixture(scope="module")
def picture_app(picture_server):
    process, url = start_studio(picture_tabs_env(picture_server))
    yield url
    stop_studio(process)


def wait_until(condition, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.1)


def open_tab(page, url: str, name: str) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(url)
    page.get_by_role("tab", name=name).click()


def start_game(page, url: str, seed: str = "100") -> None:
    open_tab(page, url, "Describe and generate")
    page.locator("#game-examples").get_by_role("button").nth(1).click()  # the cat
    expect(page.locator("#game-image img").first).to_be_visible()
    page.locator("#game-picture-settings").get_by_text("Picture settings").click()
    page.locator("#game-seed input").fill(seed)
    page.get_by_role("button", name="Play", exact=True).click()


def prompts(server) -> list[str]:
    return [r.json()["inputs"] for r in server.requests if r.path.startswith("/tti/")]


def test_each_round_is_a_card_with_its_picture_whole_caption_and_seed(
    page, picture_app, picture_server
):
    picture_server.delay = 1.0  # slow enough to see round 1 while round 2 is asked for
    start_game(page, picture_app)
    expect(page.locator("#round-0")).to_contain_text("Round 0")
    expect(page.locator("#round-0-picture img")).to_be_visible()

    status = page.locator("#game-status")
    expect(status).to_contain_text("Round 2 of 3")
    expect(page.locator("#round-1-picture img")).to_be_visible()  # not under an overlay
    expect(page.locator("#round-1")).to_contain_text("Round 1 · seed 100")
    screenshot(page, "game-round-2.png", full_page=True)

    expect(status).to_contain_text("Done in", timeout=60_000)
    for number, prompt in enumerate(prompts(picture_server), start=1):
        card = page.locator(f"#round-{number}")
        expect(card).to_contain_text(f"Round {number} · seed {99 + number}")
        expect(card).to_contain_text(prompt)  # the whole caption, however long
        expect(page.locator(f"#round-{number}-picture img")).to_be_visible()
    expect(page.locator("#game-rounds .round-card:visible")).to_have_count(4)
    screenshot(page, "game-cards.png", full_page=True)

    page.locator("#game-clear").click()
    expect(page.locator("#game-rounds .round-card:visible")).to_have_count(0)
    expect(page.locator("#game-image img")).to_have_count(0)


def test_stop_ends_the_game_before_the_next_request(page, picture_app, picture_server):
    picture_server.delay = 3.0
    start_game(page, picture_app)
    status = page.locator("#game-status")
    expect(status).to_contain_text("Round 1 of 3: captioning")
    wait_until(lambda: len(picture_server.requests) == 1, "the first caption request")
    page.locator("#game-stop").click()
    expect(status).to_contain_text("Stopped")

    # the caption in flight is answered; no painting and no later round is asked for
    wait_until(lambda: picture_server.requests[0].answered_at, "the caption's answer")
    expect(page.locator("#round-0-picture img")).to_be_visible()
    expect(page.locator("#round-1-picture img")).to_have_count(0)
    # A caption asked after it is the server's next request: a painting of the stopped game
    # would have gone out the moment its caption was answered, before this one.
    picture_server.delay = 0.0
    page.get_by_role("tab", name="Caption").click()
    page.locator("#caption-image input[type=file]").set_input_files(CHELSEA)
    expect(page.locator("#caption-image img").first).to_be_visible()
    page.get_by_role("button", name="Caption", exact=True).click()
    expect(page.locator("#caption-status")).to_contain_text("Done in")
    assert [r.path.split("/")[1] for r in picture_server.requests] == ["itt", "itt"]


def test_caption_shows_the_seconds_and_stop_ends_the_wait(page, picture_app, picture_server):
    picture_server.delay = 8.0
    open_tab(page, picture_app, "Caption")
    page.locator("#caption-image input[type=file]").set_input_files(CHELSEA)
    expect(page.locator("#caption-image img").first).to_be_visible()
    page.get_by_role("button", name="Caption", exact=True).click()
    status = page.locator("#caption-status")
    expect(status).to_contain_text(re.compile(r"Captioning · [1-9] s"))
    expect(status).to_contain_text("gives up after 10 s")
    page.get_by_role("button", name="Stop", exact=True).click()
    expect(status).to_contain_text("Stopped")
    expect(page.locator("#caption textarea")).to_have_value("")


def open_advanced_options(page) -> None:
    page.get_by_text("Advanced options").click()
    expect(page.locator("#imagine-seed input")).to_be_visible()
    page.evaluate(TWO_FRAMES)  # Gradio sets the fields again an animation frame after showing


def size(page, which: str):  # a slider's number box
    return page.locator(f"#imagine-{which} input[type=number]")


def generate(page, prompt: str, seed: str, steps: str, shape: str) -> None:
    page.get_by_label("Prompt", exact=True).fill(prompt)
    page.locator("#imagine-seed input").fill(seed)
    size(page, "steps").fill(steps)
    page.get_by_role("button", name=shape, exact=True).click()
    width, height = SHAPES[shape]  # the preset's sizes are in before Generate reads them
    expect(size(page, "width")).to_have_value(str(width))
    expect(size(page, "height")).to_have_value(str(height))
    page.get_by_role("button", name="Generate", exact=True).click()
    expect(page.locator("#imagine-settings textarea")).to_have_value(
        re.compile(f"^Seed {seed} · {steps} steps")
    )


def test_the_result_is_beside_the_prompt_with_shapes_and_a_swap(page, picture_app):
    open_tab(page, picture_app, "Imagine")
    open_advanced_options(page)
    result = page.locator("#imagine-result").bounding_box()
    prompt = page.get_by_label("Prompt", exact=True).bounding_box()
    assert result["y"] < 400 and result["x"] >= prompt["x"] + prompt["width"]
    page.get_by_role("button", name="16:9", exact=True).click()
    expect(size(page, "width")).to_have_value("704")
    expect(size(page, "height")).to_have_value("384")
    page.get_by_role("button", name="⇄ Swap").click()
    expect(size(page, "width")).to_have_value("384")
    expect(size(page, "height")).to_have_value("704")
    screenshot(page, "imagine-advanced.png")


def test_choosing_a_gallery_picture_brings_back_its_prompt_settings_and_seed(page, picture_app):
    open_tab(page, picture_app, "Imagine")
    open_advanced_options(page)
    long_prompt = "a lighthouse at dawn on a tall cliff above a grey and stormy winter sea"
    generate(page, long_prompt, "1234", "10", "16:9")
    generate(page, "a red boat", "99", "30", "1:1")
    thumbnails = page.locator("#imagine-gallery .thumbnail-item")
    expect(thumbnails).to_have_count(2)
    caption = page.locator("#imagine-gallery .caption-label").nth(1)
    expect(caption).to_have_text(f"seed 1234 · {long_prompt}")
    assert caption.evaluate("label => label.scrollWidth <= label.clientWidth + 1")  # not cut

    thumbnails.nth(1).click()  # the older one
    expect(page.get_by_label("Prompt", exact=True)).to_have_value(long_prompt)
    expect(page.locator("#imagine-seed input")).to_have_value("1234")
    expect(size(page, "steps")).to_have_value("10")
    expect(size(page, "width")).to_have_value("704")
    expect(size(page, "height")).to_have_value("384")
    expect(page.locator("#imagine-settings textarea")).to_have_value(re.compile("^Seed 1234 "))
    screenshot(page, "imagine-gallery-restored.png", full_page=True)


def test_a_dropped_png_shows_its_settings_and_fills_them_in(page, picture_app, tmp_path):
    request = make_image_request(
        "a teal boat on a lake", negative_prompt="fog", steps=12, guidance=4.5, seed=4321
    )
    made = tmp_path / "made-elsewhere.png"
    made.write_bytes(png_with_parameters(Image.new("RGB", (64, 48), "teal"), request, model="x"))
    plain = tmp_path / "plain.png"
    Image.new("RGB", (64, 48), "teal").save(plain)

    open_tab(page, picture_app, "Imagine")
    page.get_by_text("Settings inside a PNG").click()
    page.locator("#png-info input[type=file]").set_input_files(str(made))
    text = page.locator("#png-info-text textarea")
    expect(text).to_have_value(
        re.compile(r"^a teal boat on a lake\nNegative prompt: fog\nSteps: 12")
    )
    page.get_by_role("button", name="Use these settings").click()
    expect(page.locator("#png-info-status")).to_contain_text("Settings filled in")
    expect(page.get_by_label("Prompt", exact=True)).to_have_value("a teal boat on a lake")
    open_advanced_options(page)
    expect(page.locator("#imagine-seed input")).to_have_value("4321")
    expect(page.get_by_label("Negative prompt")).to_have_value("fog")
    expect(size(page, "steps")).to_have_value("12")
    screenshot(page, "imagine-png-info.png", full_page=True)

    page.locator("#png-info input[type=file]").set_input_files(str(plain))
    alert = page.locator("#png-info-status").get_by_role("alert")
    expect(alert).to_contain_text("This PNG holds no settings")


def test_imagine_fits_a_phone(page, picture_app):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(picture_app)
    page.get_by_role("tab", name="Imagine").click()
    expect(page.locator("#imagine-result")).to_be_visible()
    expect(page.locator("#imagine-gallery")).to_have_count(0)  # no empty gallery
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 1800, height
    page.get_by_label("Prompt", exact=True).fill("a lighthouse at dawn")
    page.get_by_role("button", name="Generate", exact=True).click()
    expect(page.locator("#imagine-gallery img")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "imagine-phone.png", full_page=True)
