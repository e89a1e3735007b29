"""In Chromium: after a summary, "Show the code" opens on the request it made and the card on
how it was made; the token is nowhere on the page."""

from __future__ import annotations

import re

import pytest

from tests.conftest import screenshot

expect = pytest.importorskip("playwright.sync_api").expect
TOKEN = "hf_test_secret_token_0123456789"


pytestmark = pytest.mark.usefixtures("patient_expect")


def test_show_the_code_after_a_summary(page, studio_app, task_server):
    page.goto(studio_app)
    page.get_by_role("tab", name="Summarize").click()
    page.get_by_label("Text to summarize").fill("The tower is tall. It stands in Paris.")
    page.get_by_text("Length (optional)").click()
    page.get_by_label("Maximum length (tokens)").fill("5")
    page.get_by_role("button", name="Summarize", exact=True).click()
    expect(page.locator("#summarize-status")).to_contain_text("Done in")

    code = page.locator("#summarize-code-requests")
    expect(code).to_be_hidden()  # closed until asked for
    page.locator("#summarize-code").get_by_text("Show the code").click()
    expect(code).to_contain_text("def get_completion(inputs, parameters=None")
    expect(code).to_contain_text('hf_api_key = os.environ["HF_TOKEN"]')
    curl = page.locator("#summarize-code-curl")
    expect(curl).to_contain_text("$HF_TOKEN")
    expect(curl).to_contain_text('"parameters": {"max_length": 5}')
    expect(page.locator("#summarize-code-gradio")).to_contain_text('api_name="/summarize"')

    page.locator("#summarize-card-panel").get_by_text("Reproducibility card").click()
    card = page.locator("#summarize-card textarea")
    expect(card).to_have_value(
        re.compile(r"Backend:\s+endpoint[\s\S]*Parameters: max_length=5[\s\S]*Time taken:")
    )
    screenshot(page, "summarize-code.png", full_page=True)
    assert TOKEN not in page.content()
