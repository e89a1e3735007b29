"""In Chromium at a laptop's 1366x768: after a summary, "Show the code" is one code box with a
choice of language, opened on the request it made, and the card on how it was made; the token
is nowhere on the page. After Stop, the chat's panel shows no code of the reply before."""

from __future__ import annotations

import re

import pytest

from tests.conftest import screenshot, start_studio, stop_studio
from tests.stand_ins.chat_servers import ChatServer
from tests.stand_ins.servers import server_fixture

expect = pytest.importorskip("playwright.sync_api").expect
TOKEN = "hf_test_secret_token_0123456789"
LAPTOP = {"width": 1366, "height": 768}


pytestmark = pytest.mark.usefixtures("patient_expect")

chat_server = server_fixture(ChatServer)


def choose(page, tab: str, language: str) -> None:
    page.locator(f"#{tab}-code-language").get_by_label(language, exact=True).check()


def test_show_the_code_after_a_summary(page, studio_app, task_server):
    page.set_viewport_size(LAPTOP)
    page.goto(studio_app)
    page.get_by_role("tab", name="Summarize").click()
    page.get_by_label("Text to summarize").fill("The tower is tall. It stands in Paris.")
    page.get_by_text("Length (optional)").click()
    page.get_by_label("Maximum length").fill("5")
    page.get_by_role("button", name="Summarize", exact=True).click()
    expect(page.locator("#summarize-status")).to_contain_text("Done in")

    code = page.locator("#summarize-code-shown")
    expect(code).to_be_hidden()  # closed until asked for
    page.locator("#summarize-code").get_by_text("Show the code").click()
    expect(code).to_contain_text("def get_completion(inputs, parameters=None")
    expect(code).to_contain_text('hf_api_key = os.environ["HF_TOKEN"]')
    # One code box, whichever language is read: the page stays about a screen and a half.
    expect(page.locator("#summarize-code .studio-code")).to_have_count(1)
    page.locator("#summarize-card-panel").get_by_text("Reproducibility card").click()
    card = page.locator("#summarize-card textarea")
    expect(card).to_have_value(
        re.compile(r"Backend:\s+endpoint[\s\S]*Parameters: max_length=5[\s\S]*Time taken:")
    )
    screenshot(page, "summarize-code.png", full_page=True)
    # About 1,470 px with both open; four stacked code boxes made it 2,370.
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 1700, height

    choose(page, "summarize", "curl")
    expect(code).to_contain_text("$HF_TOKEN")
    expect(code).to_contain_text('"parameters": {"max_length": 5}')
    expect(code).not_to_contain_text("def get_completion")
    choose(page, "summarize", "Python (library)")
    expect(page.locator("#summarize-code")).to_contain_text("Python with huggingface_hub")
    expect(code).to_contain_text("InferenceClient(")
    choose(page, "summarize", "This studio's API")
    expect(code).to_contain_text('api_name="/summarize"')
    expect(page.locator("#summarize-code .studio-code")).to_have_count(1)
    assert TOKEN not in page.content()

    # The choice stays for the next answer, whose code replaces this one's.
    page.get_by_label("Maximum length").fill("7")
    page.get_by_role("button", name="Summarize", exact=True).click()
    expect(code).to_contain_text("7,")
    expect(code).to_contain_text('api_name="/summarize"')


@pytest.fixture(scope="module")
def chat_app(chat_server):
    env = {"STUDIO_CHAT_BASE": f"{chat_server.url}/v1", "STUDIO_TIMEOUT": "5"}
    process, url = start_studio(env)
    yield url
    stop_studio(process)


def send(page, text: str) -> None:
    page.locator("#chat-message textarea").fill(text)
    page.locator("#chat-message textarea").press("Enter")


def test_after_stop_the_chat_shows_no_code_of_the_reply_before(page, chat_app, chat_server):
    page.set_viewport_size(LAPTOP)
    page.goto(chat_app)
    page.get_by_role("tab", name="Chat").click()
    chat_server.token_delay = 0.0
    send(page, "the first question")
    expect(page.locator("#chat-send")).to_be_visible()  # the reply has ended
    page.locator("#chat-code").get_by_text("Show the code").click()
    code = page.locator("#chat-code-shown")
    # The studio's own call is short enough to be read whole in the box (it draws only the
    # lines in view), and it names the question.
    choose(page, "chat", "This studio's API")
    expect(code).to_contain_text('"the first question"')

    chat_server.token_delay = 0.05
    send(page, "repeat: tick tock")
    expect(page.locator("#chat-bot .bot").last).to_contain_text("tick tock tick")
    page.get_by_role("button", name="Stop").click()
    expect(page.locator("#chat-stats")).to_contain_text("stopped by you")
    expect(code).not_to_contain_text("the first question")
    expect(code).to_contain_text("The code of the next answer shows here.")
    screenshot(page, "chat-code-after-stop.png")
