"""A person over the limit, as the page shows it in Debian's Chromium: the wait in the tab's own
status line, while someone else's page goes on."""

from __future__ import annotations

import pytest

from tests.conftest import screenshot, start_studio, stop_studio

expect = pytest.importorskip("playwright.sync_api").expect

TOKEN = "hf_test_secret_token_0123456789"


@pytest.fixture
def limited_studio(task_server):
    base = task_server.url
    env = {
        "HF_API_SUMMARY_BASE": f"{base}/summarize/models/sshleifer/distilbart-cnn-12-6",
        "HF_TOKEN": TOKEN,
        "STUDIO_TIMEOUT": "5",
        "STUDIO_LIMIT": "1/minute",
    }
    process, url = start_studio(env, "--tabs", "summarize")
    yield url
    stop_studio(process)


def summarize(page, text: str) -> None:
    page.get_by_label("Text to summarize").fill(text)
    page.get_by_role("button", name="Summarize", exact=True).click()


def test_the_page_shows_the_wait_inline_and_others_go_on(browser, limited_studio):
    expect.set_options(timeout=20_000)
    try:
        first = browser.new_context().new_page()
        first.goto(limited_studio)
        summarize(first, "A short text to summarize here.")
        expect(first.locator("#summarize-status")).to_contain_text("Done in")
        summarize(first, "Another text to summarize here.")
        alert = first.locator("#summarize-status").get_by_role("alert")
        expect(alert).to_contain_text("Please wait.")
        expect(alert).to_contain_text("1 per minute. Try again in about")
        expect(first.locator("#summary textarea")).to_have_value("A short text to summarize here.")
        screenshot(first, "over-the-limit.png", full_page=True)

        other = browser.new_context().new_page()  # another person: a session of their own
        other.goto(limited_studio)
        summarize(other, "A third text to summarize here.")
        expect(other.locator("#summarize-status")).to_contain_text("Done in")
    finally:
        expect.set_options(timeout=5_000)
