"""The class wall in Chromium: the teacher opens a round on /wall with the --admin login, two
students (two browser contexts: two sessions) see it in the Class tab and answer, and both
answers reach the teacher's wall beside the model's own choices."""

from __future__ import annotations

import re

import pytest
import requests

from tests.conftest import screenshot, start_studio, stop_studio
from tests.stand_ins.chat_servers import ChatServer
from tests.stand_ins.image_servers import ImageServer
from tests.stand_ins.servers import server_fixture

expect = pytest.importorskip("playwright.sync_api").expect

chat_server = server_fixture(ChatServer, token_delay=0.0)
image_server = server_fixture(ImageServer)
TEACHER = {"username": "teacher", "password": "a-long-password"}
PROMPT = "The best thing about a rainy day is"


@pytest.fixture
def wall_studio(chat_server, image_server):
    env = {
        "STUDIO_CHAT_BASE": f"{chat_server.url}/v1",
        "HF_API_TTI_BASE": f"{image_server.url}/tti/models/stabilityai/sd-turbo",
        "HF_TOKEN": "hf_test_secret_token_0123456789",
        "STUDIO_TIMEOUT": "5",
    }
    login = f"{TEACHER['username']}:{TEACHER['password']}"
    process, url = start_studio(env, "--tabs", "wall", "--admin", login)
    yield url
    stop_studio(process)


def student_answers(browser, url: str, guess: str, shot: str = ""):
    page = browser.new_context().new_page()
    page.goto(url)
    expect(page.locator("#wall-round")).to_contain_text(PROMPT)  # the poll brought the round
    page.get_by_label("Your guess: the next token").fill(guess)
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#wall-mine")).to_contain_text(f"Your guess on the wall: {guess}")
    if shot:
        screenshot(page, shot)
    return page


def test_a_round_reaches_the_wall_from_two_student_pages(
    browser, wall_studio, chat_server, patient_expect
):
    teacher = browser.new_context(http_credentials=TEACHER, viewport={"width": 1280, "height": 800})
    wall = teacher.new_page()
    wall.goto(f"{wall_studio}wall")
    expect(wall.locator("#status")).to_contain_text("No round yet")
    wall.get_by_label("Kind of round").select_option("next_word")
    wall.get_by_label("Prompt").fill(PROMPT)
    wall.get_by_role("button", name="Open a round").click()
    expect(wall.locator("#prompt")).to_have_text(PROMPT)

    first = student_answers(browser, wall_studio, "sunshine", "wall-student.png")
    student_answers(browser, wall_studio, "<b>puddles</b>")  # shown as typed, not as HTML

    guesses = wall.locator(".guesses .bar")
    expect(guesses).to_have_count(2)
    expect(wall.locator(".guesses")).to_contain_text("sunshine")
    expect(wall.locator(".guesses")).to_contain_text("<b>puddles</b>")
    expect(wall.locator(".model .bar").first).to_be_visible()  # the model's own top choices
    expect(wall.locator("#status")).to_contain_text("2 answers")
    screenshot(wall, "wall.png", full_page=True)

    wall.get_by_role("button", name="Close the round").click()
    expect(wall.locator("#status")).to_contain_text("closed")
    expect(first.locator("#wall-round")).to_contain_text("No round is open")  # within 2 s
    expect(first.locator("#wall-mine")).not_to_contain_text("sunshine")
    expect(first.get_by_role("button", name="Send")).to_be_hidden()
    teacher.close()


def test_a_paint_round_puts_each_students_picture_on_the_wall_with_its_seed(
    browser, wall_studio, patient_expect
):
    teacher = browser.new_context(http_credentials=TEACHER, viewport={"width": 1280, "height": 800})
    wall = teacher.new_page()
    wall.goto(f"{wall_studio}wall")
    wall.get_by_label("Kind of round").select_option("paint")
    wall.get_by_label("Prompt").fill("A blue lighthouse in a storm")
    wall.get_by_role("button", name="Open a round").click()
    expect(wall.locator("#status")).to_contain_text("Paint this prompt")

    for seed in ("7", "42"):
        page = browser.new_context().new_page()
        page.goto(wall_studio)
        expect(page.locator("#wall-round")).to_contain_text("A blue lighthouse in a storm")
        page.get_by_label("Your seed").fill(seed)
        page.get_by_role("button", name="Paint").click()
        expect(page.locator("#wall-mine")).to_contain_text(f"On the wall with seed {seed}")

    pictures = wall.locator(".grid figure")
    expect(pictures).to_have_count(2)
    expect(wall.locator(".grid")).to_contain_text("seed 7")
    expect(wall.locator(".grid")).to_contain_text("seed 42")
    loaded = "[...document.querySelectorAll('.grid img')].every(i => i.complete && i.naturalWidth)"
    wall.wait_for_function(f"() => {loaded}")  # the thumbnails came through the admin login
    screenshot(wall, "wall-pictures.png", full_page=True)
    teacher.close()


def test_in_the_whole_studio_the_class_tab_looks_for_the_round_once_opened(
    page, studio_app, patient_expect
):
    # No --admin: the wall opens from this computer, as the teacher's own browser does.
    round_ = {"do": "open", "kind": "paint", "prompt": "A red kite over the sea"}
    assert requests.post(f"{studio_app}wall", data=round_, allow_redirects=False).status_code == 303
    try:
        page.goto(studio_app)
        # On any other tab, a line says a round is open; choosing it opens the Class tab.
        notice = page.locator("#wall-notice .wall-notice-line")
        expect(notice).to_have_text(
            re.compile(r"Round \d+ is open: Paint this prompt\. Open the Class tab\.")
        )
        notice.click()
        expect(page.get_by_role("tab", name="Class")).to_have_attribute("aria-selected", "true")
        expect(page.locator("#wall-round")).to_contain_text("A red kite over the sea")
        expect(notice).to_be_hidden()  # the line gives way while the Class tab is open
        expect(page.get_by_role("button", name="Paint")).to_be_visible()
        expect(page.get_by_role("button", name="Send")).to_be_hidden()
        page.get_by_role("tab", name="Chat").click()
        expect(notice).to_be_visible()
    finally:
        requests.post(f"{studio_app}wall", data={"do": "close"}, allow_redirects=False)
    expect(notice).to_be_hidden()  # the round closed: the next look hides the line
