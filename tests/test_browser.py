"""What a person sees: Debian's Chromium, driven headless by Playwright."""

from __future__ import annotations

import os
import shutil

import pytest

playwright = pytest.importorskip("playwright.sync_api")

CHROMIUM = os.environ.get("STUDIO_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# Without these, Chromium keeps trying to reach Google's hosts from a closed network.
QUIET_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        message = "Chromium is missing: install Debian's package (apt-get install chromium)"
        if os.environ.get("STUDIO_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=QUIET_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


def test_entities_tab_highlights_whole_entities(page, studio_app):
    page.goto(studio_app)
    page.get_by_role("tab", name="Entities").click()
    page.get_by_label("Text to find entities in").fill(
        "Angela Merkel met Emmanuel Macron in New York City."
    )
    page.get_by_role("button", name="Find entities").click()
    highlighted = page.locator("#entities-highlighted")
    for name in ("Angela Merkel", "Emmanuel Macron", "New York City"):
        playwright.expect(highlighted.get_by_text(name, exact=True)).to_be_visible()
    table = page.locator("#entities-table")
    playwright.expect(table.get_by_text("New York City", exact=True).first).to_be_visible()
    if os.environ.get("STUDIO_SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["STUDIO_SCREENSHOTS"], "entities.png"))


def test_a_backend_failure_shows_a_message_and_keeps_the_text(page, studio_app, task_server):
    task_server.fail_next(
        "/summarize", (402, {"error": "exceeded your monthly included credits"}, {})
    )
    page.goto(studio_app)
    box = page.get_by_label("Text to summarize")
    box.fill("A text the person typed and must not lose.")
    page.get_by_role("button", name="Summarize", exact=True).click()
    playwright.expect(page.get_by_text("credits are used up", exact=False)).to_be_visible()
    playwright.expect(box).to_have_value("A text the person typed and must not lose.")
