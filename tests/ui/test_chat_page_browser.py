"""The Chat tab as a class uses it, in Debian's Chromium: one reply at a time with nothing lost,
quiet empty sends, the seed left empty, edits, Continue, the prompt sent, and a phone."""

from __future__ import annotations

import time

import pytest

from studio.tasks.continue_reply import CONTINUE_INSTRUCTION
from studio.ui.chat import EXAMPLES
from tests.conftest import screenshot, start_studio, stop_studio
from tests.stand_ins.chat_servers import ChatServer
from tests.stand_ins.servers import server_fixture

expect = pytest.importorskip("playwright.sync_api").expect

SECOND = "Second question sent while the first streams"
TWO_FRAMES = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"


pytestmark = pytest.mark.usefixtures("patient_expect")


chat_server = server_fixture(ChatServer)


@pytest.fixture(scope="module")
def openai_app(chat_server):
    process, url = start_studio({"STUDIO_CHAT_BASE": f"{chat_server.url}/v1"}, "--tabs", "chat")
    yield url
    stop_studio(process)


@pytest.fixture(scope="module")
def tgi_app(chat_server):
    process, url = start_studio({"HF_API_FALCOM_BASE": chat_server.url}, "--tabs", "chat")
    yield url
    stop_studio(process)


def open_chat(page, url: str) -> None:
    page.goto(url)
    expect(page.locator("#chat-message textarea")).to_be_visible()


def box(page):
    return page.locator("#chat-message textarea")


def send(page, text: str) -> None:
    box(page).fill(text)
    box(page).press("Enter")


def replies(page):
    return page.locator("#chat-bot .bot")


def wait_until(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.02)


def expect_no_error_shown(page) -> None:
    expect(page.locator("#chat-bot").get_by_text("Error", exact=True)).to_have_count(0)
    expect(page.locator(".error")).to_have_count(0)  # Gradio's red status pills
    expect(page.get_by_test_id("toast-body")).to_have_count(0)


def fill_settled(page, field, text: str) -> None:
    """Type into a field just shown by opening Settings: on a busy machine the field may still
    be mounting and put back its first value, so type again until the text stays."""

    def typed() -> bool:
        field.fill(text)
        page.evaluate(TWO_FRAMES)
        return field.input_value() == text

    wait_until(typed)


def set_max_tokens(page, count: int) -> None:
    page.get_by_text("Settings", exact=True).click()
    number = page.locator("input[aria-label='number input for Max new tokens']")

    def typed() -> bool:
        # On a busy machine the slider may still be settling and redraw its own value: type again.
        number.fill(str(count))
        number.press("Enter")
        return number.input_value() == str(count)

    wait_until(typed)


def test_a_message_typed_while_a_reply_streams_waits_and_is_sent_after(
    page, openai_app, chat_server
):
    open_chat(page, openai_app)
    chat_server.token_delay = 0.25  # about three seconds of reply
    send(page, "one two three four five six seven eight nine ten eleven twelve")
    stop = page.get_by_role("button", name="Stop", exact=True)
    expect(stop).to_be_visible()
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_hidden()  # one place
    expect(replies(page).last).to_contain_text("one two")
    send(page, SECOND)
    box(page).press("Enter")  # twice, as an impatient person would
    expect(box(page)).to_have_value(SECOND)  # kept, not lost
    screenshot(page, "chat-waiting-message.png")
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_visible(timeout=30_000)
    expect(stop).to_be_hidden()
    assert len(chat_server.records) == 1, "a second reply was asked for while one streamed"
    expect(box(page)).to_have_value(SECOND)
    expect(replies(page)).to_have_count(1)
    expect(replies(page).last).to_have_text(
        "one two three four five six seven eight nine ten eleven twelve"
    )
    box(page).press("Enter")  # now it goes
    expect(replies(page)).to_have_count(2)
    expect(replies(page).last).to_have_text(SECOND)
    expect(box(page)).to_have_value("")
    assert chat_server.records[-1].messages[-1] == {"role": "user", "content": SECOND}
    expect_no_error_shown(page)


def test_an_empty_send_does_nothing(page, openai_app, chat_server):
    open_chat(page, openai_app)
    page.get_by_role("button", name="Send", exact=True).click()
    box(page).fill("   ")
    box(page).press("Enter")
    page.get_by_role("button", name="Send", exact=True).click()
    # a real message after them is answered, and only it: the empty ones reached nothing
    send(page, "hello there")
    expect(replies(page).last).to_have_text("hello there")
    expect(page.locator("#chat-bot .user")).to_have_count(1)
    assert len(chat_server.records) == 1
    expect_no_error_shown(page)


def test_an_example_picked_is_asked_and_answered(page, openai_app, chat_server):
    open_chat(page, openai_app)
    page.locator("#chat-bot").get_by_text(EXAMPLES[1], exact=True).click()
    expect(replies(page).last).to_have_text(EXAMPLES[1])
    wait_until(lambda: len(chat_server.records) == 1)
    assert chat_server.records[-1].messages == [{"role": "user", "content": EXAMPLES[1]}]
    expect_no_error_shown(page)


def test_the_seed_starts_empty_and_is_sent_only_when_typed(page, openai_app, chat_server):
    open_chat(page, openai_app)
    page.get_by_text("Settings", exact=True).click()
    seed = page.locator("#chat-seed").get_by_label("Seed")
    expect(seed).to_be_visible()
    expect(seed).to_have_value("")
    screenshot(page, "chat-settings.png")
    send(page, "random please")
    expect(replies(page).last).to_have_text("random please")
    assert "seed" not in chat_server.records[-1].body
    seed.fill("42")
    send(page, "the same please")
    expect(replies(page).last).to_have_text("the same please")
    assert chat_server.records[-1].body["seed"] == 42


def test_a_seed_no_server_takes_is_named_and_nothing_is_sent(page, openai_app, chat_server):
    open_chat(page, openai_app)
    page.get_by_text("Settings", exact=True).click()
    seed = page.locator("#chat-seed").get_by_label("Seed")
    for typed, shown in ((str(2**63), str(2**63)), ("nan", "NaN")):
        fill_settled(page, seed, typed)
        send(page, f"seed {typed}")
        note = page.locator("#chat-bot").get_by_text(f"not {shown}.")
        expect(note).to_contain_text("Seed must be between 0 and 9223372036854775807")
    assert chat_server.records == []


def test_an_edited_question_drops_what_followed_and_is_answered_again(
    page, openai_app, chat_server
):
    open_chat(page, openai_app)
    send(page, "first question here")
    expect(replies(page).last).to_have_text("first question here")
    send(page, "second question here")
    expect(replies(page)).to_have_count(2)
    expect(replies(page).last).to_have_text("second question here")
    page.get_by_role("button", name="Edit").first.click()
    page.locator("#chat-bot textarea").fill("first question written again")
    page.get_by_role("button", name="Submit").click()
    expect(replies(page)).to_have_count(1)
    expect(replies(page).last).to_have_text("first question written again")
    expect(page.locator("#chat-bot")).not_to_contain_text("second question here")
    wait_until(lambda: len(chat_server.records) == 3)
    assert chat_server.records[-1].messages == [
        {"role": "user", "content": "first question written again"}
    ]
    expect_no_error_shown(page)


def test_continue_goes_on_with_a_reply_the_token_limit_cut(page, openai_app, chat_server):
    open_chat(page, openai_app)
    set_max_tokens(page, 3)
    continue_button = page.get_by_role("button", name="Continue")
    expect(continue_button).to_be_hidden()
    send(page, "alpha beta gamma delta epsilon zeta eta")
    expect(replies(page).last).to_have_text("alpha beta gamma")
    expect(page.locator("#chat-stats")).to_contain_text("finished: length")
    expect(continue_button).to_be_visible()
    screenshot(page, "chat-continue.png")
    continue_button.click()
    expect(replies(page).last).to_have_text("alpha beta gamma delta epsilon zeta")
    sent = chat_server.records[-1].messages
    assert sent[-2:] == [
        {"role": "assistant", "content": "alpha beta gamma"},
        {"role": "user", "content": CONTINUE_INSTRUCTION},
    ]
    continue_button.click()
    expect(replies(page).last).to_have_text("alpha beta gamma delta epsilon zeta eta")
    expect(page.locator("#chat-stats")).to_contain_text("finished: stop")
    expect(continue_button).to_be_hidden()  # the reply is whole
    expect(replies(page)).to_have_count(1)  # one reply, grown
    expect_no_error_shown(page)


def sent_prompt(page) -> str:
    return page.locator("#chat-sent .cm-content").inner_text()


def test_the_prompt_sent_to_a_tgi_server_is_shown_as_it_went(page, tgi_app, chat_server):
    open_chat(page, tgi_app)
    page.get_by_text("Settings", exact=True).click()
    fill_settled(page, page.get_by_label("System prompt"), "You answer briefly.")
    page.get_by_text("What the model received").click()
    send(page, "hello there")
    expect(replies(page).last).to_have_text("hello there")
    expected = "System: You answer briefly.\nUser: hello there\nAssistant:"
    assert chat_server.records[-1].body["inputs"] == expected
    expect(page.locator("#chat-sent .cm-content")).to_contain_text("User: hello there")
    assert sent_prompt(page) == expected
    expect(page.locator("#chat-sent-settings")).to_contain_text("/generate_stream")
    expect(page.locator("#chat-sent-settings")).to_contain_text('"max_new_tokens": 512')
    screenshot(page, "chat-prompt-sent.png", full_page=True)


def test_continue_on_tgi_writes_on_from_the_open_prompt(page, tgi_app, chat_server):
    open_chat(page, tgi_app)
    set_max_tokens(page, 2)
    send(page, "red orange yellow green")
    expect(replies(page).last).to_have_text("red orange")
    page.get_by_role("button", name="Continue").click()
    expect(replies(page).last).to_have_text("red orange yellow green")
    assert chat_server.records[-1].body["inputs"] == (
        "User: red orange yellow green\nAssistant: red orange"
    )
    page.get_by_text("What the model received").click()
    assert sent_prompt(page).endswith("Assistant: red orange")


def test_stop_stays_beside_the_message_box_on_a_phone(page, openai_app, chat_server):
    page.set_viewport_size({"width": 390, "height": 844})
    open_chat(page, openai_app)
    chat_server.token_delay = 0.1
    send(page, "repeat: tick tock")
    stop = page.get_by_role("button", name="Stop", exact=True)
    expect(stop).to_be_visible()
    field, button = box(page).bounding_box(), stop.bounding_box()
    assert (
        button["y"] < field["y"] + field["height"] and field["y"] < button["y"] + button["height"]
    )
    assert button["x"] >= field["x"] + field["width"] - 1, "Stop is not beside the box"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "chat-phone-stop.png")
    stop.click()
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_visible()
    send(page, "after the stop")  # the session is free again
    expect(replies(page).last).to_have_text("after the stop")
    expect_no_error_shown(page)


def test_a_chat_not_set_up_says_so_in_plain_words_and_the_log_names_the_setting(page, chat_server):
    env = {"HF_API_FALCOM_BASE": chat_server.url, "STUDIO_CHAT_TEMPLATE": "no-such-format"}
    process, url = start_studio(env, "--tabs", "chat")
    try:
        # On the computer that runs the studio the notice says what to fix, on the page.
        open_chat(page, url)
        notice = page.get_by_test_id("markdown").filter(has_text="Setup needed")
        expect(notice).to_contain_text("This chat has no model to talk to yet. To fix it:")
        expect(notice).to_contain_text("STUDIO_CHAT_TEMPLATE")
        expect(notice).not_to_contain_text("Tell the teacher")
        send(page, "hello there")  # and so does the note in the chat
        expect(replies(page).last).to_contain_text("STUDIO_CHAT_TEMPLATE")
        screenshot(page, "chat-setup-needed-teacher.png")

        # A student's browser, through a share link's tunnel, is asked to tell the teacher.
        page.set_extra_http_headers({"X-Forwarded-For": "203.0.113.7"})
        open_chat(page, url)
        expect(notice).to_contain_text("This chat has no model to talk to yet. Tell the teacher")
        send(page, "hello there")
        expect(replies(page).last).to_contain_text("This tab is not set up yet.")
        for detail in ("STUDIO_CHAT_TEMPLATE", ".env", "HF_API_FALCOM_BASE"):
            expect(page.locator("body")).not_to_contain_text(detail)
        screenshot(page, "chat-setup-needed.png")
    finally:
        output = stop_studio(process)
    assert "STUDIO_CHAT_TEMPLATE=no-such-format" in output  # for whoever runs the studio
    assert chat_server.records == []
