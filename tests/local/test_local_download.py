"""A local model's first use, in the real app and the browser: its files come from a stand-in
for the Hub (HF_ENDPOINT), and the tab's status line says how far the download is, in bytes and
percent, before the summary arrives."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import start_studio, stop_studio
from tests.stand_ins.hub_server import HubServer
from tests.stand_ins.servers import running

REPO = "studio-test/tiny-summarizer"
TEXT = "The city council met on Monday. The river flooded the old town. Everyone helped."


@pytest.fixture
def hub(tiny, tmp_path):
    # About a second and a half per weights file: the status line ticks while it comes.
    with running(HubServer(repos={REPO: Path(tiny["summarize"])}, chunk_delay=0.05)) as server:
        yield server


def test_the_status_line_shows_the_download_in_bytes_and_percent(page, hub, tmp_path):
    from playwright.sync_api import expect

    env = {
        "STUDIO_LOCAL": "summarize",
        "STUDIO_SUMMARY_MODEL": REPO,
        "HF_ENDPOINT": hub.url,
        "HF_HOME": str(tmp_path / "hf-home"),
        "HF_HUB_OFFLINE": "0",
    }
    process, url = start_studio(env, "--tabs", "summarize")
    try:
        page.goto(url)
        page.get_by_label("Text to summarize").fill(TEXT)
        page.get_by_role("button", name="Summarize", exact=True).click()
        status = page.locator("#summarize-status")
        line = re.compile(rf"Downloading {REPO}: \d+(\.\d)? ?k?B of \d+(\.\d)? kB \(\d+%\)")
        expect(status).to_contain_text(line, timeout=60_000)
        expect(status).to_contain_text("Done in", timeout=120_000)
        fetched = {path.rpartition("/")[2] for method, path in hub.requests if method == "GET"}
        assert {"config.json", "model.safetensors", "tokenizer.json"} <= fetched
    finally:
        output = stop_studio(process)
    assert "Traceback" not in output
