"""A reasoning model's reply in Debian's Chromium: its thinking streams open under a Thinking
title with a spinner, folds away with its seconds and tokens once the answer begins, and is not
sent back with the next message, nor after an edit; the Thinking setting picked on the page
reaches the server."""

from __future__ import annotations

import re

import pytest

from tests.conftest import screenshot, start_studio, stop_studio
from tests.stand_ins.chat_servers import ChatServer
from tests.stand_ins.reasoning import THOUGHT
from tests.stand_ins.servers import server_fixture
from tests.ui.test_chat_page_browser import box, open_chat, send, wait_until

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.usefixtures("patient_expect")

chat_server = server_fixture(ChatServer)
THINKING_TOKENS = len(THOUGHT.split())


@pytest.fixture(scope="module")
def reasoning_app(chat_server):
    process, url = start_studio({"STUDIO_CHAT_BASE": f"{chat_server.url}/v1"}, "--tabs", "chat")
    yield url
    stop_studio(process)


def test_the_thinking_streams_open_then_folds_above_the_answer(page, reasoning_app, chat_server):
    chat_server.thinks, chat_server.token_delay = "reasoning", 0.15  # about two seconds thinking
    open_chat(page, reasoning_app)
    send(page, "Tell me about the river today")
    chat = page.locator("#chat-bot")
    title = chat.get_by_text("Thinking ·")
    expect(title).to_be_visible()
    expect(chat.get_by_text("The person wants")).to_be_visible()  # open while it streams
    expect(chat.locator(".bot").last).to_contain_text("Tell me about the river today")
    expect(title).to_have_text(f"Thinking · {THINKING_TOKENS} tokens")
    expect(chat.get_by_text(THOUGHT)).to_be_hidden()  # folded once the answer began
    expect(chat.locator(".duration")).to_contain_text("s)")
    stats = page.locator("#chat-stats")
    expect(stats).to_contain_text(re.compile(r"thinking [1-9]\d*\.\d\d s"))  # 11 gaps of 0.15 s
    expect(stats).to_contain_text(f"{THINKING_TOKENS} tokens · first token")
    screenshot(page, "reasoning.png")
    chat_server.token_delay = 0.01
    send(page, "And tomorrow")
    wait_until(lambda: len(chat_server.records) == 2)
    first_turn = [
        {"role": "user", "content": "Tell me about the river today"},
        {"role": "assistant", "content": "Tell me about the river today"},
    ]
    assert chat_server.records[-1].messages == [
        *first_turn,
        {"role": "user", "content": "And tomorrow"},
    ]
    expect(title).to_have_count(2)
    # Editing the second question, behind a reply that thinks, keeps the first turn whole.
    page.get_by_role("button", name="Edit").last.click()
    chat.locator("textarea").fill("And next week")
    page.get_by_role("button", name="Submit").click()
    wait_until(lambda: len(chat_server.records) == 3)
    assert chat_server.records[-1].messages == [
        *first_turn,
        {"role": "user", "content": "And next week"},
    ]
    expect(chat.locator(".bot").last).to_contain_text("And next week")
    expect(title).to_have_count(2)
    expect(chat).not_to_contain_text("And tomorrow")
    expect(box(page)).to_have_value("")


def test_the_thinking_setting_picked_on_the_page_reaches_the_server(
    page, reasoning_app, chat_server
):
    chat_server.thinks, chat_server.token_delay = "inline", 0.0
    open_chat(page, reasoning_app)
    page.get_by_text("Settings", exact=True).click()
    page.locator("#chat-thinking input").click()
    page.get_by_role("option", name="off", exact=True).click()
    expect(page.locator("#chat-thinking input")).to_have_value("off")
    send(page, "Hello there")
    expect(page.locator("#chat-stats")).to_contain_text("enable_thinking = false")
    assert chat_server.records[-1].body["chat_template_kwargs"] == {"enable_thinking": False}
    expect(page.locator("#chat-bot").get_by_text("Thinking ·")).to_have_count(0)
