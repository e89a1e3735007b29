"""The page in a teacher's first hour, in Debian's Chromium: Chat's message box in a laptop's
first screen, a status line while Chat waits for its first token, Stop that looks pressable only
while something runs, and on a phone the result brought into view when it arrives."""

from __future__ import annotations

import re

import pytest

from tests.conftest import screenshot, start_studio, stop_studio
from tests.stand_ins.chat_servers import ChatServer
from tests.stand_ins.image_servers import ImageServer
from tests.stand_ins.servers import TaskServer, server_fixture

expect = pytest.importorskip("playwright.sync_api").expect

LAPTOP = {"width": 1366, "height": 768}
PROJECTOR = "?view=projector"
PHONE = {"width": 390, "height": 844}
TEXT = "The tower is tall. It stands in Paris. Many people visit it every year."

pytestmark = pytest.mark.usefixtures("patient_expect")


text_server = server_fixture(TaskServer)
image_server = server_fixture(ImageServer)
chat_server = server_fixture(ChatServer, models=("chat/a", "chat/b"))


@pytest.fixture(scope="module")
def app(text_server, image_server, chat_server):
    """Every tab: the task and picture tabs on stand-ins, Chat on a chat server with a
    picker."""
    task = text_server.url
    env = {
        "HF_API_SUMMARY_BASE": f"{task}/summarize/models/sshleifer/distilbart-cnn-12-6",
        "HF_API_NER_BASE": f"{task}/ner/models/dslim/bert-base-NER",
        "HF_API_ITT_BASE": f"{image_server.url}/itt/models/Salesforce/blip-image-captioning-base",
        "HF_API_TTI_BASE": f"{image_server.url}/tti/models/stabilityai/sd-turbo",
        "STUDIO_CHAT_BASE": f"{chat_server.url}/v1",
        "STUDIO_CHAT_MODEL": "chat/a",
        "STUDIO_TIMEOUT": "30",
    }
    process, url = start_studio(env, "--tabs", "summarize,ner,caption,imagine,game,chat")
    yield url
    stop_studio(process)


def open_tab(page, url: str, tab: str, size: dict, view: str = "") -> None:
    page.set_viewport_size(size)
    page.goto(url + view)
    page.get_by_role("tab", name=tab).click()


# --- Chat's message box in the first screen --------------------------------------------------


def message_box_bottom(page) -> float:
    box = page.locator("#chat-message textarea").bounding_box()
    return box["y"] + box["height"]


# A phone shows no presentation-mode toggle (a projector is not a phone), so it is tried without.
WIDE = {"width": 1280, "height": 900}
SCREENS = [
    pytest.param(LAPTOP, "", id="1366"),
    pytest.param(LAPTOP, PROJECTOR, id="1366-projector"),
    pytest.param(WIDE, "", id="1280"),
    pytest.param(WIDE, PROJECTOR, id="1280-projector"),
    pytest.param(PHONE, "", id="phone"),
]


@pytest.mark.parametrize(("size", "view"), SCREENS)
def test_chats_message_box_is_in_the_first_screen(page, app, size, view):
    open_tab(page, app, "Chat", size, view)
    if view:
        expect(page.locator("body")).to_have_class(re.compile("projector"))
    expect(page.locator("#chat-model input")).to_have_value("chat/a")  # the picker is filled
    assert message_box_bottom(page) < size["height"]
    chat = page.locator("#chat-bot").bounding_box()
    assert chat["height"] >= 240, chat  # the chat gave way, but is still a chat
    name = "projector" if view else "normal"
    screenshot(page, f"chat-first-screen-{size['width']}-{name}.png")


# --- Chat's status line ----------------------------------------------------------------------


@pytest.mark.parametrize("view", ["", "?view=projector"])
def test_chat_says_what_it_waits_for_until_the_first_token(page, app, chat_server, view):
    open_tab(page, app, "Chat", LAPTOP, view)
    chat_server.first_token_delay = 4.0  # a model loading, or a long prompt read first
    page.locator("#chat-message textarea").fill("Hello there")
    page.locator("#chat-message textarea").press("Enter")
    status = page.locator("#chat-status")
    expect(status).to_contain_text("Waiting for the reply")
    expect(status).to_contain_text("Stop cancels.")
    expect(status).to_contain_text(re.compile(r"\b[1-9] s\b"))  # the seconds count on
    # The line takes no room from the box: it is still in the first screen.
    assert message_box_bottom(page) < LAPTOP["height"]
    screenshot(page, f"chat-waiting{'-projector' if view else ''}.png")
    expect(page.locator("#chat-bot .bot").last).to_have_text("Hello there")
    expect(status).to_be_hidden()  # its job is done: the stats line says the rest
    expect(page.locator("#chat-stats")).to_contain_text("first token")
    assert message_box_bottom(page) < LAPTOP["height"]


# --- Stop looks pressable only while something runs ------------------------------------------


def looks_idle(stop) -> None:
    """Disabled, and drawn as a secondary button: grey, not red."""
    expect(stop).to_be_disabled()
    expect(stop).to_have_class(re.compile(r"\bsecondary\b"))
    expect(stop).not_to_have_class(re.compile(r"\bstop\b"))


def looks_active(stop) -> None:
    expect(stop).to_be_enabled()
    expect(stop).to_have_class(re.compile(r"\bstop\b"))


def stops_in_the_open_tab(page):
    """The open tab's Stop buttons, found as a person finds them: by their name."""
    return page.get_by_role("tabpanel").get_by_role("button", name="Stop", exact=True)


@pytest.mark.parametrize(
    "tab", ["Summarize", "Entities", "Caption", "Imagine", "Describe and generate"]
)
def test_no_tab_s_stop_looks_pressable_before_anything_runs(page, app, tab):
    open_tab(page, app, tab, LAPTOP)
    stops = stops_in_the_open_tab(page)
    expect(stops.first).to_be_visible()
    for number in range(stops.count()):
        looks_idle(stops.nth(number))


def colour(locator) -> str:
    return locator.evaluate("e => getComputedStyle(e).backgroundColor")


def test_summarizes_stop_is_red_only_while_a_summary_is_asked_for(page, app, text_server):
    open_tab(page, app, "Summarize", LAPTOP)
    stop = stops_in_the_open_tab(page)
    looks_idle(stop)
    grey = colour(stop)
    text_server.delay = 4.0
    page.get_by_label("Text to summarize").fill(TEXT)
    page.get_by_role("button", name="Summarize", exact=True).click()
    looks_active(stop)
    expect(stop).not_to_have_css("background-color", grey)
    screenshot(page, "summarize-stop-active.png")
    expect(page.locator("#summarize-status")).to_contain_text("Done in")
    looks_idle(stop)
    expect(stop).to_have_css("background-color", grey)  # once its transition has ended
    # Stopped midway, it goes grey again too.
    page.get_by_role("button", name="Summarize", exact=True).click()
    looks_active(stop)
    stop.click()
    expect(page.locator("#summarize-status")).to_contain_text("Stopped")
    looks_idle(stop)


def test_entities_stop_goes_grey_after_a_failure(page, app, text_server):
    open_tab(page, app, "Entities", LAPTOP)
    stop = stops_in_the_open_tab(page)
    looks_idle(stop)
    text_server.delay = 2.0
    text_server.fail_next("/ner", (401, {"error": "Invalid credentials"}, {}))
    page.get_by_label("Text to find entities in").fill("Angela Merkel met the United Nations.")
    page.get_by_role("button", name="Find entities").click()
    looks_active(stop)
    expect(page.locator("#entities-status").get_by_role("alert")).to_be_visible()
    looks_idle(stop)


def test_chats_stop_shows_only_while_a_reply_streams(page, app, chat_server):
    open_tab(page, app, "Chat", LAPTOP)
    stop, send = page.locator("#chat-stop"), page.locator("#chat-send")
    expect(stop).to_be_hidden()  # Send in its place
    expect(send).to_be_visible()
    chat_server.first_token_delay = 3.0
    page.locator("#chat-message textarea").fill("one two three")
    page.locator("#chat-message textarea").press("Enter")
    expect(stop).to_be_visible()
    looks_active(stop)
    expect(send).to_be_hidden()
    expect(page.locator("#chat-bot .bot").last).to_have_text("one two three")
    expect(stop).to_be_hidden()
    expect(send).to_be_visible()


# --- a phone brings the result into view -----------------------------------------------------


SEEN = """(selector) => { const r = document.querySelector(selector).getBoundingClientRect();
  return r.top >= 0 && r.top + Math.min(r.height, 100) <= innerHeight; }"""


def in_view(page, selector: str) -> bool:
    """Whether the start of the element (100 px of it, or all of a smaller one) is on the
    screen."""
    return page.evaluate(SEEN, selector)


@pytest.mark.parametrize(
    "tab, fill, button, result",
    [
        ("Summarize", ("Text to summarize", TEXT), "Summarize", "#summary"),
        ("Imagine", ("Prompt", "a red fox in the snow"), "Generate", "#imagine-result"),
    ],
)
def test_a_phone_brings_the_result_into_view(
    page, app, text_server, image_server, tab, fill, button, result
):
    open_tab(page, app, tab, PHONE)
    text_server.delay = image_server.delay = 3.0  # the result comes a while after the click
    page.get_by_label(fill[0], exact=True).fill(fill[1])
    page.get_by_role("button", name=button, exact=True).click()
    assert not in_view(page, result)  # below the button, out of sight
    prefix = "summarize" if tab == "Summarize" else "imagine"
    expect(page.locator(f"#{prefix}-status")).to_contain_text("Done in")
    page.wait_for_function(SEEN, arg=result)
    screenshot(page, f"phone-{prefix}-result-in-view.png")
