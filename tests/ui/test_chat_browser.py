"""The Chat tab as a person sees it: Debian's Chromium, driven headless by Playwright."""

from __future__ import annotations

import time

import pytest

from tests.conftest import screenshot, start_studio, stop_studio
from tests.stand_ins.chat_servers import ChatServer
from tests.stand_ins.servers import server_fixture

expect = pytest.importorskip("playwright.sync_api").expect


chat_server = server_fixture(ChatServer)


@pytest.fixture(scope="module")
def chat_app(chat_server):
    env = {"STUDIO_CHAT_BASE": f"{chat_server.url}/v1", "STUDIO_TIMEOUT": "5"}
    process, url = start_studio(env)
    yield url
    stop_studio(process)


def open_chat(page, url: str) -> None:
    page.goto(url)
    page.get_by_role("tab", name="Chat").click()


def bot_text(page) -> str:
    replies = page.locator("#chat-bot .bot")  # each assistant message
    return replies.last.inner_text() if replies.count() else ""


def send(page, text: str) -> None:
    page.locator("#chat-message textarea").fill(text)
    page.locator("#chat-message textarea").press("Enter")


def test_the_reply_grows_token_by_token(page, chat_app, chat_server):
    open_chat(page, chat_app)
    chat_server.token_delay = 0.15  # slow enough to watch
    words = "streaming replies arrive one word after another here".split()
    send(page, " ".join(words))
    seen: list[str] = []
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and len(seen) < len(words) - 2:
        text = bot_text(page).strip()  # before the first token: a "loading" bubble
        if text.startswith(words[0]) and (not seen or text != seen[-1]):
            seen.append(text)
        time.sleep(0.03)
    assert len(seen) >= 3, f"the reply did not grow in steps: {seen}"
    assert all(len(a) < len(b) for a, b in zip(seen, seen[1:], strict=False)), seen
    expect(page.locator("#chat-bot .bot").last).to_have_text(" ".join(words))
    expect(page.locator("#chat-stats")).to_contain_text("first token")
    expect(page.locator("#chat-stats")).to_contain_text("finished: stop")
    screenshot(page, "chat.png")


def test_stop_ends_the_reply_and_the_upstream_stream(page, chat_app, chat_server):
    open_chat(page, chat_app)
    chat_server.token_delay = 0.05
    send(page, "repeat: tick tock")
    expect(page.locator("#chat-bot .bot").last).to_contain_text("tick tock tick")
    record = chat_server.records[-1]
    stopped_at = time.monotonic()
    page.get_by_role("button", name="Stop").click()
    seen = chat_server.wait_for_disconnect(record, timeout=15)
    # Well under the reply's whole length proves it: 512 tokens at 0.05 s would take 25 s, and
    # CI's shared cores once took 8 s to pass the click on.
    assert seen is not None and seen - stopped_at < 12.0, "the server kept generating"
    expect(page.locator("#chat-stats")).to_contain_text("stopped by you")
    frozen = bot_text(page)
    assert frozen.startswith("tick tock"), "what arrived before Stop stays"
    screenshot(page, "chat-stopped.png")
    # Asked after Stop, the next reply comes whole: anything more of the stopped one would
    # have reached the page before it.
    send(page, "after the stop")
    expect(page.locator("#chat-bot .bot").last).to_have_text("after the stop")
    replies = page.locator("#chat-bot .bot")
    expect(replies).to_have_count(2)
    assert replies.first.inner_text() == frozen, "the reply kept growing after Stop"


def test_retry_asks_again_and_undo_gives_the_message_back(page, chat_app, chat_server):
    open_chat(page, chat_app)
    send(page, "say it twice")
    expect(page.locator("#chat-bot .bot").last).to_have_text("say it twice")
    page.get_by_role("button", name="Retry").click()
    deadline = time.monotonic() + 10
    while len(chat_server.records) < 2 or chat_server.records[-1].finished_at is None:
        assert time.monotonic() < deadline, "Retry did not ask again"
        time.sleep(0.02)
    # the same question again, without the reply it replaces
    assert chat_server.records[-1].messages == [{"role": "user", "content": "say it twice"}]
    expect(page.locator("#chat-bot .bot")).to_have_count(1)
    page.get_by_role("button", name="Undo").click()
    expect(page.locator("#chat-message textarea")).to_have_value("say it twice")
    expect(page.locator("#chat-bot .bot")).to_have_count(0)


@pytest.mark.parametrize("reader", ["teacher", "student"])
def test_a_failure_mid_reply_keeps_it_and_shows_a_marked_note(page, chat_app, chat_server, reader):
    if reader == "student":  # on a shared link: the tunnel names the student's address
        page.set_extra_http_headers({"X-Forwarded-For": "203.0.113.7"})
    open_chat(page, chat_app)
    chat_server.fail_next(after=2, kind="error", message="CUDA out of memory")
    send(page, "one two three four")
    # The teacher at the studio's computer reads the server's own words, which say what to fix;
    # a student reads plain words, and the server's go to the terminal.
    bot = page.locator("#chat-bot")
    expect(bot).to_contain_text("The reply above is incomplete.")
    if reader == "teacher":
        expect(bot).to_contain_text("CUDA out of memory")
    else:
        expect(bot).not_to_contain_text("CUDA out of memory")
    expect(page.get_by_text("one two", exact=True)).to_be_visible()
    expect(page.locator("#chat-bot")).to_contain_text("one two three four")  # the question
    page.get_by_text("Settings", exact=True).click()
    expect(page.get_by_label("System prompt")).to_be_visible()
    screenshot(page, "chat-error.png")
