"""Compare's picture grid as a person uses it, in Chromium: a 2 by 2 grid fills in cell by
cell, a cell chosen shows its card, and the download is one PNG with every cell's settings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from studio.tasks.picture_grid import read_grid
from tests.conftest import screenshot, start_studio, stop_studio
from tests.stand_ins.image_servers import ImageServer
from tests.stand_ins.servers import server_fixture

expect = pytest.importorskip("playwright.sync_api").expect
pytestmark = pytest.mark.usefixtures("patient_expect")

SDXL = "stabilityai/stable-diffusion-xl-base-1.0"  # a model that takes guidance

image_server = server_fixture(ImageServer)


@pytest.fixture(scope="module")
def app_url(image_server):
    env = {
        "HF_API_TTI_BASE": f"{image_server.url}/tti-png/models/{SDXL}",
        "STUDIO_IMAGE_MODEL": SDXL,
        "STUDIO_CHAT_BASE": f"{image_server.url}/v1",
        "STUDIO_TIMEOUT": "10",
    }
    process, url = start_studio(env, "--tabs", "compare")
    yield url
    stop_studio(process)


def test_a_two_by_two_grid_fills_in_and_downloads_as_one_png(page, app_url, image_server):
    image_server.delay = 1.0  # a second a picture: the cells arrive one by one
    page.goto(app_url)
    page.get_by_role("tab", name="Pictures").click()
    page.locator("#grid-prompt textarea").fill("a purple kite")
    expect(page.locator("#grid-down").get_by_label("Guidance", exact=True)).to_be_checked()
    page.locator("#grid-across-values input").fill("1, 2, 3, 4, 5")
    page.locator("#grid-down-values input").fill("1, 2, 3, 4")
    page.locator("#grid-go").click()  # 20 pictures: refused, in words, before any is asked
    alert = page.locator("#grid-status").get_by_role("alert")
    expect(alert).to_contain_text("at most 16 pictures (4 by 4); 5 by 4 is 20")
    assert image_server.requests == []

    page.locator("#grid-across-values input").fill("7, 8")
    page.locator("#grid-down-values input").fill("3.5, 7")
    page.locator("#grid-steps input").fill("12")
    page.locator("#grid-go").click()

    cells = page.locator("#grid-cells img")
    expect(cells).to_have_count(1)  # the first cell shows while the others are painted
    expect(page.locator("#grid-status")).to_contain_text("Painting picture")
    expect(cells).to_have_count(4, timeout=40_000)
    expect(page.locator("#grid-status")).to_contain_text("Done", timeout=30_000)
    card = page.locator("#grid-card textarea")
    expect(card).to_have_value(re.compile(r"Settings:\s+Seed 8 · 12 steps · guidance 7 "))
    page.locator("#grid-cells").get_by_text("Seed 7 · Guidance 3.5").click()
    expect(card).to_have_value(re.compile(r"Settings:\s+Seed 7 · 12 steps · guidance 3.5 "))
    expect(page.locator("#grid-png img")).to_be_visible()
    screenshot(page, "grid.png", full_page=True)

    with page.expect_download() as download:
        page.locator("#grid-png").get_by_role("button", name="Download").click()
    png = Path(download.value.path()).read_bytes()
    assert png.startswith(b"\x89PNG")
    record = read_grid(png)
    assert [cell["label"] for cell in record["cells"]] == [
        "Seed 7 · Guidance 3.5",
        "Seed 8 · Guidance 3.5",
        "Seed 7 · Guidance 7",
        "Seed 8 · Guidance 7",
    ]
    assert len(image_server.requests) == 4
