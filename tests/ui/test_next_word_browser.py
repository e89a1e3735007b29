"""The Next word tab in Chromium: the bars reshape with temperature and top-p without a request
reaching the stand-in chat server, and Most likely appends a word."""

from __future__ import annotations

import pytest

from tests.conftest import screenshot, start_studio, stop_studio
from tests.stand_ins.chat_servers import ChatServer
from tests.stand_ins.servers import server_fixture

chat_server = server_fixture(ChatServer, token_delay=0.0)


@pytest.fixture(scope="module")
def next_word_app(chat_server):
    env = {"STUDIO_CHAT_BASE": f"{chat_server.url}/v1", "STUDIO_TIMEOUT": "5"}
    process, url = start_studio(env, "--tabs", "next_word")
    yield url
    stop_studio(process)


def set_slider(page, elem_id: str, value: str) -> None:
    box = page.locator(f"#{elem_id} input[type=number]")
    box.fill(value)
    box.press("Enter")


def test_the_bars_reshape_with_temperature_without_a_request(
    page, next_word_app, chat_server, patient_expect
):
    from playwright.sync_api import expect

    page.goto(next_word_app)
    page.get_by_label("The start of a sentence").fill("The cat sat")
    page.get_by_role("button", name="Show the next words").click()
    rows = page.locator("#next-word-bars .next-word-row")
    expect(rows).to_have_count(11)  # the stand-in's word and its ten alternatives
    top = rows.first
    warm = top.get_attribute("data-chance")
    asked = len(chat_server.records)
    assert asked == 1

    set_slider(page, "next-word-temperature", "0.3")
    expect(top).not_to_have_attribute("data-chance", warm)
    assert float(top.get_attribute("data-chance")) > float(warm), "colder: the top word gains"
    set_slider(page, "next-word-temperature", "1.6")
    set_slider(page, "next-word-top-p", "0.9")
    expect(page.locator("#next-word-bars .next-word-cut")).to_be_visible()
    expect(page.locator("#next-word-bars .next-word-hatched").first).to_be_visible()
    assert len(chat_server.records) == asked, "a slider asked the server"
    screenshot(page, "bars.png")
    page.set_viewport_size({"width": 360, "height": 740})  # a phone: nothing scrolls sideways
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.set_viewport_size({"width": 1280, "height": 1000})

    page.get_by_role("button", name="Most likely").click()
    expect(page.get_by_label("The start of a sentence")).to_have_value("The cat sat text")
    assert len(chat_server.records) == asked + 1
