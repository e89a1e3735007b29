"""The page as a class meets it, in Debian's Chromium: failures in the tab where they happened,
the seconds and a Stop while a model works, the text tabs' details, phones and a projector."""

from __future__ import annotations

import re

import pytest
from gradio_client import Client

from tests.conftest import screenshot, start_studio, stop_studio

expect = pytest.importorskip("playwright.sync_api").expect


pytestmark = pytest.mark.usefixtures("patient_expect")


TOKEN = "hf_test_secret_token_0123456789"
UNAUTHORIZED = (401, {"error": "Invalid credentials in Authorization header"}, {})
TABS = {
    "Summarize": "#summarize-status",  # each tab's status line, there before anything runs
    "Entities": "#entities-status",
    "Caption": "#caption-status",
    "Imagine": "#imagine-status",
    "Describe and generate": "#game-status",
    "Chat": "#chat-bot",
    "Compare": "#compare-status",
    "Next word": "#next-word-bars",
    "Class": "#wall-round",
}


# What a share link's tunnel adds to every request of a student's browser: their address.
SHARED_LINK = {"X-Forwarded-For": "203.0.113.7"}


def open_tab(page, url: str, name: str) -> None:
    page.goto(url)
    page.get_by_role("tab", name=name).click()


def test_a_failure_shows_in_its_own_tab_in_words_for_the_person(page, studio_app, task_server):
    task_server.fail_next("/ner", UNAUTHORIZED)
    page.set_extra_http_headers(SHARED_LINK)
    open_tab(page, studio_app, "Entities")
    page.get_by_label("Text to find entities in").fill("Ada Lovelace lived in London.")
    page.get_by_role("button", name="Find entities").click()

    alert = page.locator("#entities-status").get_by_role("alert")
    expect(alert).to_contain_text("Access refused.")
    expect(alert).to_contain_text("did not accept the studio's access key. Tell the teacher")
    for detail in ("HF_TOKEN", ".env", "401"):  # the teacher's details are in the log
        expect(alert).not_to_contain_text(detail)
    expect(page.get_by_test_id("toast-body")).to_have_count(0)
    screenshot(page, "entities-failed.png", full_page=True)

    # the other tab says nothing about it, and works
    page.get_by_role("tab", name="Summarize").click()
    expect(page.locator("#summarize-status").get_by_role("alert")).to_have_count(0)
    page.get_by_label("Text to summarize").fill("A short text to summarize here.")
    page.get_by_role("button", name="Summarize", exact=True).click()
    expect(page.locator("#summarize-status")).to_contain_text("Done in")


def test_on_the_computer_that_runs_the_studio_a_failure_says_what_to_fix(
    page, studio_app, task_server
):
    task_server.fail_next("/ner", UNAUTHORIZED)
    open_tab(page, studio_app, "Entities")  # at 127.0.0.1, as the teacher opens it
    page.get_by_label("Text to find entities in").fill("Ada Lovelace lived in London.")
    page.get_by_role("button", name="Find entities").click()

    alert = page.locator("#entities-status").get_by_role("alert")
    expect(alert).to_contain_text("Access refused.")
    expect(alert).to_contain_text("HF_TOKEN")  # the setting to change, not whom to tell
    expect(alert).not_to_contain_text("Tell the teacher")
    assert TOKEN not in page.content()
    screenshot(page, "entities-failed-teacher.png", full_page=True)


def test_a_hanging_server_shows_the_seconds_the_limit_and_then_says_so(
    page, studio_app, task_server
):
    task_server.delay = 8.0  # the app gives up after STUDIO_TIMEOUT=5 s
    page.set_extra_http_headers(SHARED_LINK)  # a student's words, without the setting
    open_tab(page, studio_app, "Summarize")
    page.get_by_label("Text to summarize").fill("A text the server will not answer in time.")
    page.get_by_role("button", name="Summarize", exact=True).click()

    status = page.locator("#summarize-status")
    expect(status).to_contain_text(re.compile(r"Summarizing · [1-9] s"))
    expect(status).to_contain_text("Stop cancels. The studio gives up after 5 s")
    expect(page.get_by_role("button", name="Stop", exact=True)).to_be_visible()
    screenshot(page, "summarize-waiting.png")
    alert = status.get_by_role("alert")
    expect(alert).to_contain_text("No answer in time.", timeout=30_000)
    expect(alert).not_to_contain_text("STUDIO_TIMEOUT")
    expect(page.get_by_label("Text to summarize")).to_have_value(
        "A text the server will not answer in time."
    )


def test_stop_ends_the_wait_in_the_entities_tab(page, studio_app, task_server):
    task_server.delay = 4.0
    open_tab(page, studio_app, "Entities")
    page.get_by_label("Text to find entities in").fill("Ada Lovelace lived in London.")
    page.get_by_role("button", name="Find entities").click()
    status = page.locator("#entities-status")
    expect(status).to_contain_text(re.compile(r"Finding entities · \d+ s"))
    page.get_by_role("button", name="Stop", exact=True).click()
    expect(status).to_contain_text("Stopped")
    expect(page.locator("#entities-highlighted mark")).to_have_count(0)


def test_an_expected_failure_is_one_log_line_without_a_traceback(page, task_server):
    env = {"HF_API_NER_BASE": f"{task_server.url}/ner/models/x", "HF_TOKEN": TOKEN}
    process, url = start_studio(env)
    try:
        task_server.fail_next("/ner", UNAUTHORIZED, UNAUTHORIZED)
        open_tab(page, url, "Entities")
        page.get_by_label("Text to find entities in").fill("Ada Lovelace lived in London.")
        page.get_by_role("button", name="Find entities").click()
        expect(page.locator("#entities-status").get_by_role("alert")).to_be_visible()
        with pytest.raises(Exception, match="HF_TOKEN"):  # an API caller gets the full message
            Client(url, verbose=False).predict("Ada Lovelace", api_name="/ner")
    finally:
        output = stop_studio(process)
    lines = [line for line in output.splitlines() if "AuthenticationError" in line]
    assert len(lines) == 2, output  # one for the page, one for the API call
    assert all("refused the access token (401)" in line and "HF_TOKEN" in line for line in lines)
    assert "Traceback" not in output and TOKEN not in output


def test_the_length_fields_start_empty(page, studio_app):
    open_tab(page, studio_app, "Summarize")
    page.get_by_text("Length (optional)").click()
    for label in ("Minimum length", "Maximum length"):
        box = page.get_by_label(label)
        expect(box).to_be_visible()
        expect(box).to_have_value("")
        expect(box).to_have_attribute("placeholder", re.compile("the model's default"))
    screenshot(page, "summarize-lengths.png")


def test_a_typed_length_is_used_and_a_wrong_one_named(page, studio_app, task_server):
    open_tab(page, studio_app, "Summarize")
    page.get_by_label("Text to summarize").fill("one two three four five six seven")
    page.get_by_text("Length (optional)").click()
    page.get_by_label("Maximum length").fill("3")
    page.get_by_role("button", name="Summarize", exact=True).click()
    expect(page.locator("#summary textarea")).to_have_value("one two three")
    page.get_by_label("Maximum length").fill("three")
    page.get_by_role("button", name="Summarize", exact=True).click()
    alert = page.locator("#summarize-status").get_by_role("alert")
    expect(alert).to_contain_text("Maximum length must be a number, not 'three'")


def test_entities_have_their_type_written_beside_them_under_one_legend(page, studio_app):
    open_tab(page, studio_app, "Entities")
    page.get_by_label("Text to find entities in").fill(
        "Angela Merkel met the United Nations in New York City."
    )
    page.get_by_role("button", name="Find entities").click()
    marked = page.locator("#entities-highlighted")
    for name, kind in [
        ("Angela Merkel", "person"),
        ("United Nations", "organisation"),
        ("New York City", "place"),
    ]:
        expect(marked.locator("mark", has_text=name)).to_contain_text(kind)
    expect(page.locator(".entity-legend")).to_have_count(1)
    expect(page.get_by_test_id("highlighted-text:category-legend")).to_have_count(0)
    screenshot(page, "entities-types.png", full_page=True)


def test_no_entities_found_says_so(page, studio_app):
    open_tab(page, studio_app, "Entities")
    page.get_by_label("Text to find entities in").fill("the cat sat on the mat all day")
    page.get_by_role("button", name="Find entities").click()
    expect(page.locator("#entities-highlighted")).to_contain_text("No entities found")
    expect(page.locator("#entities-status")).to_contain_text("Done in")


def test_every_tab_is_reachable_on_a_phone(page, studio_app):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(studio_app)
    for name, content in TABS.items():
        tab = page.get_by_role("tab", name=name)
        expect(tab).to_be_visible()
        tab.click()
        expect(page.locator(content)).to_be_attached()
        expect(tab).to_have_attribute("aria-selected", "true")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "phone-tabs.png")


def label_size(page) -> float:
    label = page.get_by_text("Text to summarize", exact=True).first
    return float(label.evaluate("element => parseFloat(getComputedStyle(element).fontSize)"))


def test_presentation_mode_enlarges_the_type(page, studio_app):
    page.goto(studio_app)
    expect(page.get_by_role("heading", name="Generative AI studio")).to_be_visible()
    expect(page.get_by_text("Small demos of what generative models do")).to_be_visible()
    normal = label_size(page)

    page.goto(f"{studio_app}?view=projector")
    expect(page.locator("body.projector")).to_have_count(1)
    expect(page.get_by_label("Presentation mode")).to_be_checked()
    assert label_size(page) >= 20 and label_size(page) >= normal * 1.4
    screenshot(page, "projector.png")

    page.get_by_label("Presentation mode").uncheck()
    expect(page.locator("body.projector")).to_have_count(0)
    assert "view=" not in page.url and label_size(page) == normal
    page.get_by_label("Presentation mode").check()
    expect(page).to_have_url(re.compile(r"\?view=projector$"))
