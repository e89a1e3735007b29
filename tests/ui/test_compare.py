"""The Compare tab against the stand-in chat server: /compare sends both columns' requests with
the right settings, and on the page the two columns stream at once and a blind vote reveals
which was which."""

from __future__ import annotations

import re

import pytest
from gradio_client import Client

from tests.conftest import screenshot, start_studio, stop_studio
from tests.stand_ins.chat_servers import ChatServer
from tests.stand_ins.servers import router_entry, router_provider, server_fixture

TOKEN = "hf_test_secret_token_0123456789"
LISTED = (
    router_entry("tiny/first", router_provider("cheap", pricing={"input": 1.0, "output": 2.0})),
    router_entry("tiny/second", router_provider("other")),
)

chat_server = server_fixture(
    ChatServer, models=("tiny/first", "tiny/second"), listed=LISTED, token_delay=0.05
)


@pytest.fixture(scope="module")
def app_url(chat_server):
    env = {"STUDIO_CHAT_BASE": f"{chat_server.url}/v1", "HF_TOKEN": TOKEN}
    process, url = start_studio(env, "--tabs", "compare")
    yield url
    assert TOKEN not in stop_studio(process)


def sent(server, key: str) -> list:
    return sorted(record.body.get(key) for record in server.records)


def test_two_models_answer_one_prompt_each_with_its_figures(app_url, chat_server):
    client = Client(app_url, verbose=False)
    args = ("alpha beta", "Model", "tiny/first", "tiny/second", "", None, None, 8, 5, "", "")
    reply_a, reply_b, line_a, line_b = client.predict(*args, api_name="/compare")
    assert (reply_a, reply_b) == ("alpha beta", "alpha beta")
    assert sent(chat_server, "model") == ["tiny/first", "tiny/second"]
    assert sent(chat_server, "seed") == [5, 5]  # shared
    assert re.match(r"first token [\d.]+ s · [\d.]+ tok/s · 2 tokens · about \$", line_a)
    assert "$" not in line_b  # the list gives no price for the second model


def test_one_model_with_another_temperature(app_url, chat_server):
    client = Client(app_url, verbose=False)
    shared = ("Be brief.", None, None, 8, None, "", "tiny/first")
    args = ("alpha", "Temperature", "0.2", "0.9", *shared)
    client.predict(*args, api_name="/compare")
    assert sent(chat_server, "temperature") == [0.2, 0.9]
    assert sent(chat_server, "model") == ["tiny/first", "tiny/first"]
    systems = [record.messages[0] for record in chat_server.records]
    assert systems == [{"role": "system", "content": "Be brief."}] * 2


def test_the_same_value_twice_is_refused_before_anything_is_sent(app_url, chat_server):
    from gradio_client.exceptions import AppError

    client = Client(app_url, verbose=False)
    args = ("alpha", "Temperature", "0.5", "0.5", "", None, None, 8, None, "", "tiny/first")
    with pytest.raises(AppError, match="same temperature"):
        client.predict(*args, api_name="/compare")
    assert chat_server.records == []


@pytest.mark.usefixtures("patient_expect")
def test_two_columns_stream_at_once_and_a_blind_vote_reveals_them(page, app_url, chat_server):
    expect = pytest.importorskip("playwright.sync_api").expect
    page.goto(app_url)
    page.get_by_text("Shared settings").click()  # first: the fold builds what it holds
    page.locator("#compare-prompt textarea").fill("repeat: red green blue")
    page.locator("#compare-differs").get_by_label("Model", exact=True).check()
    page.locator("#compare-a input").fill("tiny/first")
    page.locator("#compare-b input").fill("tiny/second")
    longest = page.get_by_label("Max new tokens", exact=True)
    expect(longest).to_be_visible()
    for _ in range(3):  # on a loaded machine the fold may still be building, and drop it
        longest.fill("40")
        longest.press("Tab")
        if longest.input_value() == "40":
            break
    expect(longest).to_have_value("40")
    page.locator("#compare-blind input").check()
    expect(longest).to_have_value("40")  # still there as Compare reads it
    page.locator("#compare-go").click()
    # Both columns show text while the replies are still coming (40 tokens, 2 s each).
    for key in ("a", "b"):
        expect(page.locator(f"#compare-reply-{key}")).to_contain_text("red green")
    expect(page.locator("#compare-status")).to_contain_text("writing")
    expect(page.locator("#compare-head-a")).to_have_text("A")  # blind: no model named
    expect(page.locator("#compare-status")).to_contain_text("Done", timeout=30_000)
    first, second = sorted(chat_server.records, key=lambda record: record.received_at)
    assert second.first_token_at < first.finished_at  # streamed together, not one after another
    figures = re.compile(r"first token [\d.]+ s · [\d.]+ tok/s · 40 tokens")
    for key in ("a", "b"):
        expect(page.locator(f"#compare-line-{key}")).to_contain_text(figures)
    screenshot(page, "compare-streamed.png")
    page.locator("#compare-vote-a").click()
    expect(page.locator("#compare-verdict")).to_contain_text("You preferred A: Model: tiny/")
    heads = [page.locator(f"#compare-head-{key}").inner_text() for key in ("a", "b")]
    assert heads[0].startswith("A · Model: tiny/") and heads[1].startswith("B · Model: tiny/")
    assert {heads[0][-6:], heads[1][-6:]} == {"/first", "second"}
    screenshot(page, "compare.png", full_page=True)
