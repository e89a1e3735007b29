"""The page's layout once answers are in, in Debian's Chromium: on a phone no tab scrolls
sideways with its card and code open, a code box is as tall as its code, the model picker's
Refresh sits beside the list, and the game's open panels leave its rounds where they were."""

from __future__ import annotations

import pytest

from tests.conftest import ROOT, screenshot, start_studio, stop_studio
from tests.stand_ins.chat_servers import ChatServer
from tests.stand_ins.image_servers import ImageServer
from tests.stand_ins.servers import TaskServer, server_fixture

expect = pytest.importorskip("playwright.sync_api").expect

CHELSEA = str(ROOT / "assets" / "chelsea.jpg")
PHONE = {"width": 390, "height": 844}


pytestmark = pytest.mark.usefixtures("patient_expect")


text_server = server_fixture(TaskServer)
image_server = server_fixture(ImageServer, vision_models=("vision/a", "vision/b"))
chat_server = server_fixture(ChatServer, models=("chat/a", "chat/b"))


@pytest.fixture(scope="module")
def whole_app(text_server, image_server, chat_server):
    """Every tab configured, Caption and Chat on chat-completions servers (so with a picker)."""
    task, image, chat = text_server.url, image_server.url, chat_server.url
    env = {
        "HF_API_SUMMARY_BASE": f"{task}/summarize/models/sshleifer/distilbart-cnn-12-6",
        "HF_API_NER_BASE": f"{task}/ner/models/dslim/bert-base-NER",
        "STUDIO_CAPTION_CHAT_BASE": f"{image}/v1",
        "STUDIO_CAPTION_MODEL": "vision/a",
        "HF_API_TTI_BASE": f"{image}/tti/models/stabilityai/sd-turbo",
        "STUDIO_CHAT_BASE": f"{chat}/v1",
        "STUDIO_CHAT_MODEL": "chat/a",
        "STUDIO_TIMEOUT": "10",
    }
    process, url = start_studio(env)
    yield url
    stop_studio(process)


def summarize(page) -> None:
    page.get_by_label("Text to summarize").fill("The tower is tall. It stands in Paris.")
    page.get_by_role("button", name="Summarize", exact=True).click()
    expect(page.locator("#summarize-status")).to_contain_text("Done in")


def entities(page) -> None:
    page.get_by_label("Text to find entities in").fill("Angela Merkel met the United Nations.")
    page.get_by_role("button", name="Find entities").click()
    expect(page.locator("#entities-status")).to_contain_text("Done in")


def caption(page) -> None:
    page.locator("#caption-image input[type=file]").set_input_files(CHELSEA)
    expect(page.locator("#caption-image img").first).to_be_visible()
    page.get_by_role("button", name="Caption", exact=True).click()
    expect(page.locator("#caption-status")).to_contain_text("Done in")


def imagine(page) -> None:
    page.get_by_label("Prompt", exact=True).fill("a red fox in the snow")
    page.get_by_role("button", name="Generate", exact=True).click()
    expect(page.locator("#imagine-status")).to_contain_text("Done in")


def game(page) -> None:
    page.locator("#game-examples").get_by_role("button").nth(1).click()  # the cat
    expect(page.locator("#game-image img").first).to_be_visible()
    page.get_by_role("button", name="Play", exact=True).click()
    expect(page.locator("#game-status")).to_contain_text("Done in")


def chat(page) -> None:
    page.locator("#chat-message textarea").fill("Hello there")
    page.locator("#chat-message textarea").press("Enter")
    expect(page.locator("#chat-bot .bot")).to_have_count(1)
    expect(page.locator("#chat-send")).to_be_visible()  # the reply has ended
    page.locator("#chat-sent-view").get_by_text("What the model received").click()


ANSWERS = {
    "Summarize": ("summarize", summarize),
    "Entities": ("entities", entities),
    "Caption": ("caption", caption),
    "Imagine": ("imagine", imagine),
    "Describe and generate": ("game", game),
    "Chat": ("chat", chat),
}


def answer_with_panels_open(page, url: str, tab: str) -> str:
    """Open `tab`, make one answer, open its card and its code; the panel's prefix."""
    prefix, make = ANSWERS[tab]
    page.goto(url)
    page.get_by_role("tab", name=tab).click()
    make(page)
    page.locator(f"#{prefix}-card-panel").get_by_text("Reproducibility card").click()
    expect(page.locator(f"#{prefix}-card textarea")).to_be_visible()
    page.locator(f"#{prefix}-code").get_by_text("Show the code").click()
    page.locator(f"#{prefix}-code-language").get_by_label("curl", exact=True).check()
    expect(page.locator(f"#{prefix}-code-shown")).to_contain_text("curl")
    return prefix


def sideways(page) -> int:
    """How far the page scrolls sideways: 0 when it fits the screen."""
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


@pytest.mark.parametrize("tab", list(ANSWERS))
def test_no_tab_scrolls_sideways_on_a_phone_with_its_panels_open(page, whole_app, tab):
    page.set_viewport_size(PHONE)
    answer_with_panels_open(page, whole_app, tab)
    assert sideways(page) == 0
    screenshot(page, f"phone-{ANSWERS[tab][0]}-panels.png", full_page=True)


def box_height(page, elem_id: str) -> tuple[float, float]:
    """A code box's height and the height of the code in it."""
    return page.evaluate(
        """(id) => { const root = document.getElementById(id);
          return [root.querySelector('.cm-scroller').getBoundingClientRect().height,
                  root.querySelector('.cm-content').getBoundingClientRect().height]; }""",
        elem_id,
    )


def test_a_code_box_is_as_tall_as_its_code(page, whole_app):
    """Gradio measured a line while the box was hidden in its closed accordion, and gave a
    four-line curl command the height of twenty lines."""
    answer_with_panels_open(page, whole_app, "Entities")
    curl = page.locator("#entities-code-shown")  # the panel opened it on curl
    curl.scroll_into_view_if_needed()
    expect(curl.locator(".cm-line")).to_have_count(4)
    box, code = box_height(page, "entities-code-shown")
    assert box < code * 2.5, (box, code)
    page.locator("#entities-code-language").get_by_label("Python (requests)", exact=True).check()
    expect(curl).to_contain_text("import requests")
    box, code = box_height(page, "entities-code-shown")  # a long one scrolls inside
    assert box <= code


@pytest.mark.parametrize("view", ["", "?view=projector"])
@pytest.mark.parametrize("tab, prefix", [("Caption", "caption"), ("Chat", "chat")])
def test_refresh_sits_beside_the_model_list_at_its_height(page, whole_app, tab, prefix, view):
    page.goto(whole_app + view)
    page.get_by_role("tab", name=tab).click()
    picker = page.locator(f"#{prefix}-model")
    expect(picker.locator("input")).to_have_value(f"{'vision' if tab == 'Caption' else 'chat'}/a")
    refresh = page.locator(".model-picker").filter(has=picker).get_by_role("button", name="Refresh")
    high = refresh.bounding_box()
    low = picker.locator("input").evaluate(  # the list's field, as drawn around its input
        """input => { const r = input.closest('.wrap').getBoundingClientRect();
          return {x: r.x, y: r.y, width: r.width, height: r.height}; }"""
    )
    assert abs(high["height"] - low["height"]) <= 6, (high, low)
    assert abs((high["y"] + high["height"]) - (low["y"] + low["height"])) <= 3, (high, low)
    assert high["x"] >= low["x"] + low["width"]  # beside it, not under it


def test_the_games_open_panels_leave_its_rounds_where_they_were(page, whole_app):
    page.set_viewport_size({"width": 1280, "height": 900})
    answer_with_panels_open(page, whole_app, "Describe and generate")
    rounds = page.locator("#game-rounds").bounding_box()
    card = page.locator("#game-card-panel").bounding_box()
    assert rounds["y"] + rounds["height"] <= card["y"]  # the panels come after the rounds
    play = page.locator("#game-play").bounding_box()
    assert play["y"] + play["height"] < 900 and rounds["y"] < 900  # on the first screen
