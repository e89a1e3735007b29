"""What a person sees: Debian's Chromium, driven headless by Playwright."""

from __future__ import annotations

import pytest

from tests.conftest import screenshot

expect = pytest.importorskip("playwright.sync_api").expect


def test_entities_tab_highlights_whole_entities(page, studio_app):
    page.goto(studio_app)
    page.get_by_role("tab", name="Entities").click()
    page.get_by_label("Text to find entities in").fill(
        "Angela Merkel met Emmanuel Macron in New York City."
    )
    page.get_by_role("button", name="Find entities").click()
    highlighted = page.locator("#entities-highlighted")
    for name in ("Angela Merkel", "Emmanuel Macron", "New York City"):
        expect(highlighted.get_by_text(name, exact=True)).to_be_visible()
    table = page.locator("#entities-table")
    expect(table.get_by_text("New York City", exact=True).first).to_be_visible()
    screenshot(page, "entities.png")


def test_a_backend_failure_shows_a_message_and_keeps_the_text(page, studio_app, task_server):
    task_server.fail_next(
        "/summarize", (402, {"error": "exceeded your monthly included credits"}, {})
    )
    page.goto(studio_app)
    box = page.get_by_label("Text to summarize")
    box.fill("A text the person typed and must not lose.")
    page.get_by_role("button", name="Summarize", exact=True).click()
    expect(page.get_by_text("credits are used up", exact=False)).to_be_visible()
    expect(box).to_have_value("A text the person typed and must not lose.")
