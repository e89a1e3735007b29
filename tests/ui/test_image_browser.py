"""The image tabs as a person uses them: Debian's Chromium, driven headless by Playwright."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from studio.tasks.image_settings import read_parameters
from tests.conftest import ROOT, screenshot, start_studio, stop_studio
from tests.stand_ins.image_servers import ImageServer, picture_tabs_env
from tests.stand_ins.servers import server_fixture

expect = pytest.importorskip("playwright.sync_api").expect

CHELSEA = str(ROOT / "assets" / "chelsea.jpg")  # 451x300
TWO_FRAMES = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"


image_server = server_fixture(ImageServer)


@pytest.fixture(scope="module")
def image_app(image_server):
    process, url = start_studio(picture_tabs_env(image_server))
    yield url
    stop_studio(process)


def open_app(page, url: str) -> None:
    page.set_viewport_size({"width": 1280, "height": 1100})
    page.goto(url)


def open_advanced_options(page) -> None:
    """Open the accordion, and let Gradio finish rendering what it shows for the first time: an
    animation frame after the fields appear, it sets them to their values again, over anything
    typed in between."""
    page.get_by_text("Advanced options").click()
    expect(page.locator("#imagine-seed input")).to_be_visible()
    page.evaluate(TWO_FRAMES)


def upload(page, elem_id: str, path: str) -> None:
    page.locator(f"#{elem_id} input[type=file]").set_input_files(path)
    expect(page.locator(f"#{elem_id} img").first).to_be_visible()


def test_upload_a_photo_and_see_its_caption(page, image_app, tmp_path):
    not_a_photo = tmp_path / "holiday.jpg"
    not_a_photo.write_text("not a picture at all")

    open_app(page, image_app)
    page.get_by_role("tab", name="Caption").click()
    upload(page, "caption-image", CHELSEA)
    page.get_by_role("button", name="Caption", exact=True).click()
    caption = page.locator("#caption textarea")
    expect(caption).to_have_value(re.compile(r"^a grey picture of 451x300 pixels \(\d+ bytes\)$"))
    screenshot(page, "caption.png", full_page=True)

    page.locator("#caption-image input[type=file]").set_input_files(str(not_a_photo))
    page.get_by_role("button", name="Caption", exact=True).click()
    expect(page.get_by_text("This file is not an image file we can read")).to_be_visible()
    screenshot(page, "caption-not-an-image.png", full_page=True)


def test_type_a_prompt_set_a_seed_and_see_the_image(page, image_app):
    open_app(page, image_app)
    page.get_by_role("tab", name="Imagine").click()
    page.get_by_label("Prompt", exact=True).fill("a lighthouse at dawn")
    open_advanced_options(page)
    seed = page.locator("#imagine-seed input")
    seed.fill("1234")
    page.get_by_role("button", name="Generate", exact=True).click()

    expect(page.locator("#imagine-result img")).to_be_visible()
    settings = page.locator("#imagine-settings textarea")
    # This studio paints with sd-turbo: the sliders start at its 1 step without guidance.
    expect(settings).to_have_value(re.compile(r"^Seed 1234 · 1 step · guidance 0 · 512×512"))
    expect(page.locator("#imagine-gallery img")).to_have_count(1)
    screenshot(page, "imagine.png", full_page=True)

    # the file the download button gives says how it was made
    with page.expect_download() as download:
        page.locator("#imagine-result").get_by_role("button", name="Download").click()
    text = read_parameters(Path(download.value.path()).read_bytes())
    assert (
        text.startswith("a lighthouse at dawn\nSteps: 1, CFG scale: 0.0") and "Seed: 1234" in text
    )

    page.get_by_role("button", name="Random seed").click()
    expect(seed).to_have_value("-1")
    page.get_by_role("button", name="Reuse last seed").click()
    expect(seed).to_have_value("1234")

    # another person's gallery starts empty, hidden until it has a picture: results live in
    # each browser session
    other = page.context.browser.new_page()
    other.goto(page.url)
    other.get_by_role("tab", name="Imagine").click()
    expect(other.locator("#imagine-result")).to_be_visible()
    expect(other.locator("#imagine-gallery img")).to_have_count(0)
    other.close()


def test_stop_cancels_waiting_for_a_slow_image_server(page, image_app, image_server):
    image_server.delay = 8.0

    open_app(page, image_app)
    page.get_by_role("tab", name="Imagine").click()
    page.get_by_label("Prompt", exact=True).fill("a slow picture")
    page.get_by_role("button", name="Generate", exact=True).click()
    # the tab's status line: what it waits for, the seconds counting up, and the limit
    status = page.locator("#imagine-status")
    expect(status).to_contain_text(re.compile(r"Painting · [1-9]\d* s"))
    expect(status).to_contain_text("gives up after 10 s")
    screenshot(page, "imagine-waiting.png", full_page=True)
    page.get_by_role("button", name="Stop", exact=True).click()
    expect(status).to_contain_text("Stopped")  # before the server answers
    assert image_server.requests[-1].answered_at is None
    expect(page.locator("#imagine-result img")).to_have_count(0)


def test_the_game_is_one_flow_play_one_stop_and_clear(page, image_app, image_server):
    open_app(page, image_app)
    page.get_by_role("tab", name="Describe and generate").click()
    expect(page.locator("#game-play")).to_be_visible()
    # The tab's own buttons: one flow and one Stop, none of the course's three steps.
    names = [n.strip() for n in page.locator("button:visible:not([role=tab])").all_inner_texts()]
    assert names.count("Stop") == 1 and names.count("Play") == 1 and "Clear" in names, names
    assert not {"Caption", "Generate image", "Caption and generate", "Play rounds"} & set(names)

    page.locator("#game-examples").get_by_role("button").nth(1).click()  # the cat
    expect(page.locator("#game-image img").first).to_be_visible()
    page.get_by_role("button", name="Play", exact=True).click()
    rounds = page.locator("#game-rounds")
    expect(rounds.locator("#round-3")).to_contain_text("Round 3 · seed")
    expect(rounds.locator("img")).to_have_count(4)  # round 0 is the photo itself
    expect(page.locator("#game-status")).to_contain_text("Done in")
    screenshot(page, "game.png", full_page=True)
