"""Token probabilities in Debian's Chromium: with the setting off nothing shows and no logprobs
are asked for; on, the reply shows under the chat shaded token by token, with a legend, a
clicked token shows its alternatives with percentages, and a branch from one of them is written
on by the model beside the reply as written; an earlier reply can be chosen and branched too."""

from __future__ import annotations

import re

import pytest

from tests.conftest import screenshot, start_studio, stop_studio
from tests.stand_ins.chat_servers import ChatServer
from tests.stand_ins.servers import server_fixture
from tests.ui.test_chat_page_browser import open_chat, replies, send, wait_until

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.usefixtures("patient_expect")

chat_server = server_fixture(ChatServer, token_delay=0.01)


@pytest.fixture(scope="module")
def chat_app(chat_server):
    process, url = start_studio({"STUDIO_CHAT_BASE": f"{chat_server.url}/v1"}, "--tabs", "chat")
    yield url
    stop_studio(process)


def pick_probabilities(page, name: str) -> None:
    page.locator("#chat-probabilities input").click()
    page.get_by_role("option", name=name, exact=True).click()
    expect(page.locator("#chat-probabilities input")).to_have_value(name)


def test_off_asks_nothing_and_on_shades_each_token_with_its_alternatives(
    page, chat_app, chat_server
):
    open_chat(page, chat_app)
    view = page.locator("#chat-probs")
    send(page, "Tell me about the river")
    expect(replies(page).last).to_contain_text("Tell me about the river")
    wait_until(lambda: chat_server.records and chat_server.records[-1].finished_at)
    body = chat_server.records[-1].body
    assert "logprobs" not in body and "top_logprobs" not in body, "off costs nothing"
    expect(view).to_be_hidden()

    page.get_by_text("Settings", exact=True).click()
    pick_probabilities(page, "with 3 alternatives")
    expect(view).to_contain_text("No reply with token probabilities yet")
    send(page, "The river flows past the old mill")
    expect(view).to_contain_text("The reply “The river flows past the old mill”.")
    assert chat_server.records[-1].body["top_logprobs"] == 3
    tokens = view.locator(".probs-reply .probs-tok")
    expect(tokens).to_have_count(7)  # one a word, as the stand-in streams them
    # The stand-in gives every token 78%: likely, drawn with a background and an underline.
    expect(tokens.first).to_have_class("probs-tok probs-likely")
    expect(tokens.first).to_have_attribute("aria-label", "'The', 78%, likely")
    expect(view.locator(".probs-legend")).to_contain_text("surprising under 20%")
    alternatives = view.locator(".probs-alts").nth(1)
    expect(alternatives).to_be_hidden()
    tokens.nth(1).click()
    expect(alternatives).to_be_visible()
    expect(alternatives).to_contain_text("78% sure of")
    expect(alternatives.locator("li")).to_have_count(3)
    expect(alternatives.locator("li").first).to_have_text(" river 78%")  # as written: no button
    expect(alternatives.locator("li").nth(1)).to_have_text(" perhaps 14% write on from here")
    screenshot(page, "shade-alternatives.png")

    # Branch: the reply up to " river", with " perhaps" instead, written on by the model.
    asked = len(chat_server.records)
    alternatives.get_by_role("button", name="Write on from ' perhaps' instead").click()
    branches = page.locator("#chat-branches")
    expect(branches.locator(".branch")).to_have_count(2)
    expect(branches.locator(".branch").first).to_contain_text("As written")
    expect(branches.locator(".branch").last).to_have_text(
        re.compile(r"Branch: perhaps\s*The perhaps flows past the old mill\s*This server cannot")
    )
    expect(branches.locator(".branch-token").last).to_have_text(" perhaps")
    sent = chat_server.records[asked].body
    assert sent["messages"][-2] == {"role": "assistant", "content": "The perhaps"}
    assert "logprobs" not in sent, "a branch is read, not shaded: no probabilities asked"
    expect(replies(page)).to_have_count(2)  # the chat itself is left as it was
    expect(replies(page).last).to_have_text("The river flows past the old mill")
    view.locator(".probs-legend").click()  # focus and pointer away: the alternatives close
    expect(alternatives).to_be_hidden()
    screenshot(page, "shade.png", full_page=True)

    # A new reply: its own shading, and the branches of the one before are gone.
    send(page, "Another story")
    expect(view).to_contain_text("The reply “Another story”.")
    expect(branches).to_be_hidden()
    tokens.nth(1).click()
    page.get_by_role("button", name="Write on from ' perhaps' instead").click()
    expect(branches.locator(".branch")).to_have_count(2)
    expect(branches.locator(".branch").last).to_contain_text("Another perhaps")

    # An earlier reply, chosen from the list: its shading, and a branch of it that forgets the
    # conversation after it.
    page.locator("#chat-probs-reply input").click()
    page.get_by_role("option", name=re.compile("^Reply 1: ")).click()
    expect(view).to_contain_text("The reply “The river flows past the old mill”.")
    expect(branches).to_be_hidden()
    asked = len(chat_server.records)
    tokens.nth(1).click()
    page.get_by_role("button", name="Write on from ' perhaps' instead").click()
    expect(branches.locator(".branch").last).to_contain_text("The perhaps flows past the old mill")
    said = str(chat_server.records[asked].body["messages"])
    assert "old mill" in said and "Another story" not in said
    expect(replies(page)).to_have_count(3)  # the chat itself is left as it was

    pick_probabilities(page, "off")
    expect(view).to_be_hidden()
