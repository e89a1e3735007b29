"""The Caption tab with a vision chat server of one's own (STUDIO_CAPTION_CHAT_BASE): a model
picker filled from its `GET /v1/models`, chosen per person, and /caption_with_model's model."""

from __future__ import annotations

import pytest
from gradio_client import Client, handle_file

from tests.conftest import ROOT, start_studio, stop_studio
from tests.stand_ins.image_servers import ImageServer
from tests.stand_ins.servers import server_fixture

expect = pytest.importorskip("playwright.sync_api").expect

TOKEN = "hf_test_secret_token_0123456789"
CHELSEA = ROOT / "assets" / "chelsea.jpg"
MODELS = ("vision/model", "vision/other", "vision/third")


vision_server = server_fixture(ImageServer, vision_models=MODELS)


@pytest.fixture(scope="module")
def app_url(vision_server):
    env = {
        "HF_TOKEN": TOKEN,
        "STUDIO_CAPTION_CHAT_BASE": f"{vision_server.url}/v1",
        "STUDIO_CAPTION_MODEL": "vision/model",
        "STUDIO_TIMEOUT": "10",
    }
    process, url = start_studio(env, "--tabs", "caption")
    yield url
    assert TOKEN not in stop_studio(process)


def asked_models(server) -> list[str]:
    chats = [r for r in server.requests if r.path.startswith("/v1/chat/completions")]
    return [r.json()["model"] for r in chats]


def test_the_caption_api_keeps_its_call_and_a_name_of_its_own_takes_a_model(app_url, vision_server):
    client = Client(app_url, verbose=False)
    image = handle_file(str(CHELSEA))
    client.predict(image, api_name="/caption")  # as every caller did before
    client.predict(image, "vision/other", api_name="/caption_with_model")
    client.predict(image, model="vision/third", api_name="/caption_with_model")
    assert asked_models(vision_server) == ["vision/model", "vision/other", "vision/third"]


def test_each_person_picks_a_model_from_the_servers_list(browser, app_url, vision_server):
    expect.set_options(timeout=20_000)
    mine, theirs = browser.new_page(), browser.new_page()
    try:
        for page in (mine, theirs):
            page.goto(app_url)
            page.locator("#caption-image input[type=file]").set_input_files(str(CHELSEA))
            expect(page.locator("#caption-image img").first).to_be_visible()
        picker = mine.locator("#caption-model input")
        expect(picker).to_have_value("vision/model")  # the configured model
        picker.click()
        for model in MODELS:  # the server's list
            expect(mine.get_by_role("option", name=model)).to_be_visible()
        mine.get_by_role("option", name="vision/other").click()
        expect(picker).to_have_value("vision/other")
        for page in (mine, theirs):
            page.get_by_role("button", name="Caption", exact=True).click()
            expect(page.locator("#caption textarea")).not_to_have_value("")
        assert sorted(asked_models(vision_server)) == ["vision/model", "vision/other"]
        expect(theirs.locator("#caption-model input")).to_have_value("vision/model")
    finally:
        mine.close()
        theirs.close()
        expect.set_options(timeout=5_000)


def test_refresh_shows_a_model_the_server_started_serving(browser, app_url, vision_server):
    page = browser.new_page()
    try:
        page.goto(app_url)
        expect(page.locator("#caption-model input")).to_have_value("vision/model")
        vision_server.vision_models = (*MODELS, "vision/new")
        page.get_by_role("button", name="Refresh").click()
        page.locator("#caption-model input").click()
        expect(page.get_by_role("option", name="vision/new")).to_be_visible(timeout=20_000)
    finally:
        vision_server.vision_models = MODELS
        page.close()
