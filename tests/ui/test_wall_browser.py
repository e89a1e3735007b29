"""The class wall in Chromium: the teacher opens a round on /wall with the --admin login, two
students (two browser contexts: two sessions) see it in the Class tab and answer, and both
answers reach the teacher's wall beside the model's own choices."""

from __future__ import annotations

import pytest

from tests.conftest import screenshot, start_studio, stop_studio
from tests.stand_ins.chat_servers import ChatServer
from tests.stand_ins.servers import server_fixture

expect = pytest.importorskip("playwright.sync_api").expect

chat_server = server_fixture(ChatServer, token_delay=0.0)
TEACHER = {"username": "teacher", "password": "a-long-password"}
PROMPT = "The best thing about a rainy day is"


@pytest.fixture
def wall_studio(chat_server):
    env = {"STUDIO_CHAT_BASE": f"{chat_server.url}/v1", "STUDIO_TIMEOUT": "5"}
    login = f"{TEACHER['username']}:{TEACHER['password']}"
    process, url = start_studio(env, "--tabs", "wall", "--admin", login)
    yield url
    stop_studio(process)


def student_answers(browser, url: str, guess: str, shot: str = "") -> None:
    page = browser.new_context().new_page()
    page.goto(url)
    expect(page.locator("#wall-round")).to_contain_text(PROMPT)  # the poll brought the round
    page.get_by_label("Your guess: the next token").fill(guess)
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#wall-mine")).to_contain_text(f"Your guess on the wall: {guess}")
    if shot:
        screenshot(page, shot)


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

    student_answers(browser, wall_studio, "sunshine", "wall-student.png")
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
    teacher.close()
