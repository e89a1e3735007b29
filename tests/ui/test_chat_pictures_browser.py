"""A picture in the Chat tab as a person sends one: attached in the message box, shown in the
chat, read by the model; and what the router's list says of the model, under the picker.
Debian's Chromium, driven headless by Playwright."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw

from tests.conftest import screenshot, start_studio, stop_studio
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
