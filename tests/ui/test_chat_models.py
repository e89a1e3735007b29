"""The Chat tab with a server that serves several models: each person picks one from its
`GET /v1/models` (or types any id), /chat_with_model takes one last, and each reply's card and
code name the model it came from."""

from __future__ import annotations

import pytest
from gradio_client import Client

from tests.conftest import screenshot, start_studio, stop_studio
from tests.stand_ins.chat_servers import ChatServer
from tests.stand_ins.servers import server_fixture

expect = pytest.importorskip("playwright.sync_api").expect

TOKEN = "hf_test_secret_token_0123456789"
MODELS = ("tiny/first", "tiny/second", "tiny/third")


pytestmark = pytest.mark.usefixtures("patient_expect")


chat_server = server_fixture(ChatServer, models=MODELS)


@pytest.fixture(scope="module")
def app_url(chat_server):
    env = {"STUDIO_CHAT_BASE": f"{chat_server.url}/v1", "HF_TOKEN": TOKEN}
    process, url = start_studio(env, "--tabs", "chat")
    yield url
    assert TOKEN not in stop_studio(process)


def asked_models(server) -> list[str]:
    return [record.body["model"] for record in server.records]


def test_the_chat_api_keeps_its_call_and_a_name_of_its_own_takes_a_model(app_url, chat_server):
    from gradio_client.exceptions import AppError

    client = Client(app_url, verbose=False)
    # Several served and none set: the caller is told which there are, and nothing is sent.
    with pytest.raises(AppError, match="serves 3 models"):
        client.predict("alpha beta", api_name="/chat")
    reply = client.predict("alpha beta", model="tiny/second", api_name="/chat_with_model")
    assert reply == "alpha beta"
    assert asked_models(chat_server) == ["tiny/second"]


def test_each_person_picks_the_model_their_replies_come_from(browser, app_url, chat_server):
    mine, theirs = browser.new_page(), browser.new_page()
    try:
        for page in (mine, theirs):
            page.goto(app_url)
            expect(page.locator("#chat-message textarea")).to_be_visible()
        picker = mine.locator("#chat-model input")
        picker.click()
        for model in MODELS:  # the server's list
            expect(mine.get_by_role("option", name=model)).to_be_visible()
        mine.get_by_role("option", name="tiny/third").click()
        expect(picker).to_have_value("tiny/third")
        theirs.locator("#chat-model input").click()
        theirs.get_by_role("option", name="tiny/second").click()
        for page, words in ((mine, "red green"), (theirs, "blue yellow")):
            page.locator("#chat-message textarea").fill(words)
            page.locator("#chat-message textarea").press("Enter")
            expect(page.locator("#chat-bot .bot").last).to_have_text(words)
        assert sorted(asked_models(chat_server)) == ["tiny/second", "tiny/third"]

        # The reply's card and code say which model, and the token is nowhere on the page.
        mine.get_by_text("Reproducibility card", exact=True).click()
        expect(mine.locator("#chat-card textarea")).to_have_value(
            __import__("re").compile("tiny/third")
        )
        mine.get_by_text("Show the code", exact=True).click()
        code = mine.locator("#chat-code-shown")
        mine.locator("#chat-code-language").get_by_label("curl", exact=True).check()
        expect(code).to_contain_text("tiny/third")
        mine.locator("#chat-code-language").get_by_label("This studio's API", exact=True).check()
        expect(code).to_contain_text('api_name="/chat_with_model"')
        expect(code).to_contain_text('"tiny/third",')
        screenshot(mine, "chat-model-and-code.png")
        assert TOKEN not in mine.content()
    finally:
        mine.close()
        theirs.close()
