"""A picture in the Chat tab as a person sends one: attached in the message box, shown in the
chat, read by the model; and what the router's list says of the model, under the picker.
Debian's Chromium, driven headless by Playwright."""

from __future__ import annotations

import os

import pytest
from PIL import Image, ImageDraw

from tests.conftest import CHROMIUM, QUIET_FLAGS, screenshot, start_studio, stop_studio
from tests.stand_ins.chat_servers import ChatServer
from tests.stand_ins.servers import router_entry, router_provider, server_fixture

expect = pytest.importorskip("playwright.sync_api").expect

SIDE = 256  # STUDIO_MAX_IMAGE_SIDE
FACTS = dict(context_length=131072, pricing={"input": 0.2, "output": 0.6}, throughput=40.0)
LISTED = (
    router_entry("stand-in/vision", router_provider("fast-ai", **FACTS), inputs=("text", "image")),
    router_entry("stand-in/text", router_provider("fast-ai"), inputs=("text",)),
)
chat_server = server_fixture(ChatServer, token_delay=0.0, listed=LISTED)


@pytest.fixture(scope="module")
def chat_app(chat_server):
    env = {
        "STUDIO_CHAT_BASE": f"{chat_server.url}/v1",
        "STUDIO_CHAT_MODEL": "stand-in/vision",
        "STUDIO_MAX_IMAGE_SIDE": str(SIDE),
        "STUDIO_TIMEOUT": "10",
    }
    process, url = start_studio(env, "--tabs", "chat")
    yield url
    stop_studio(process)


def sunset(path) -> None:
    """A 640x480 picture: a sky going from blue to orange, and a sun."""
    image = Image.new("RGB", (640, 480))
    draw = ImageDraw.Draw(image)
    for y in range(480):
        draw.line([(0, y), (639, y)], fill=(40 + y * 215 // 480, 90 + y // 8, 200 - y * 160 // 480))
    draw.ellipse([250, 260, 390, 400], fill=(255, 220, 90))
    image.save(path)


def test_a_picture_attached_to_a_message_is_shown_and_read_by_the_model(
    page, chat_app, chat_server, tmp_path
):
    picture = tmp_path / "sunset.png"
    sunset(picture)
    page.goto(chat_app)
    expect(page.locator("#chat-message textarea")).to_be_visible()
    # What the router's list says of the chosen model, under the picker.
    facts = page.locator("#chat-model-facts")
    expect(facts).to_contain_text("$0.20 in / $0.60 out per million tokens")
    expect(facts).to_contain_text("131k context")
    expect(facts).to_contain_text("takes images")
    page.locator("#chat-message input[type=file]").set_input_files(str(picture))
    page.locator("#chat-message textarea").fill("What is in this picture?")
    page.locator("#chat-message textarea").press("Enter")
    # The question shows the picture sent, and the reply what the model decoded from it.
    expect(page.locator("#chat-bot .user img")).to_be_visible()
    expect(page.locator("#chat-bot .bot").last).to_contain_text(f"[image {SIDE}x192]")
    sent = chat_server.records[-1].messages[-1]["content"]
    assert [part["type"] for part in sent] == ["text", "image_url"]
    screenshot(page, "chat-picture.png")


@pytest.fixture
def camera_page():
    """A page whose camera is Chromium's fake one (a moving test pattern), allowed at once:
    conftest's `browser` with two flags more."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        if os.environ.get("STUDIO_REQUIRE_BROWSER"):
            pytest.fail("Chromium is missing: install Debian's package (apt-get install chromium)")
        pytest.skip("Chromium is missing: install Debian's package (apt-get install chromium)")
    fake = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
    with sync_api.sync_playwright() as driver:
        chromium = driver.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=[*QUIET_FLAGS, *fake]
        )
        context = chromium.new_context(viewport={"width": 1280, "height": 1000})
        context.grant_permissions(["camera"])
        page = context.new_page()
        page.set_default_timeout(20_000)
        yield page
        chromium.close()


def test_a_photo_from_the_camera_joins_the_message(camera_page, chat_app, chat_server):
    page = camera_page
    page.goto(chat_app)
    page.locator("#chat-camera-view").get_by_text("Camera").click()
    page.locator("#chat-camera").get_by_text("Click to Access Webcam").click()
    # A capture before the camera's first frame takes nothing: wait for the video to play.
    page.wait_for_function(
        "document.querySelector('#chat-camera video')?.readyState >= 2", timeout=20_000
    )
    page.locator("#chat-camera").get_by_label("capture photo").click()
    # The photo moves into the message box, and the camera is ready for the next.
    expect(page.locator("#chat-message img")).to_have_count(1)
    page.locator("#chat-message textarea").fill("And this one?")
    page.locator("#chat-message textarea").press("Enter")
    expect(page.locator("#chat-bot .user img")).to_be_visible()
    expect(page.locator("#chat-bot .bot").last).to_contain_text("[image ")
    sent = chat_server.records[-1].messages[-1]["content"]
    assert [part["type"] for part in sent] == ["text", "image_url"]
