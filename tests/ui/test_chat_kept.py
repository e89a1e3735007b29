"""The page keeps the token probabilities of its replies in the person's session (for a later
view to show): the Chat tab's turn handler, as the page runs it, against the stand-in."""

from __future__ import annotations

import asyncio

import gradio as gr

from studio.config import load_config
from studio.ui.chat.page import chat_page
from studio.ui.chat.turns import KEPT_REPLIES, ChatSession, ChatTurns
from tests.stand_ins.chat_servers import ChatServer
from tests.stand_ins.servers import server_fixture
from tests.ui.test_tabs import collect

chat_server = server_fixture(ChatServer, token_delay=0.0)


def page_turn(turns: ChatTurns, session: ChatSession, text: str, alternatives: str) -> list:
    asyncio.run(turns.ask(text, [], session))  # the start claims the session, as Enter does
    # The model picked, the system prompt, the five settings, Thinking, token probabilities.
    return collect(turns.turn(session, None, "", 0.7, 0.95, 64, 1.0, "", "", alternatives))


def test_replies_with_probabilities_are_kept_in_the_session_newest_last(chat_server):
    config = load_config({"STUDIO_CHAT_BASE": f"{chat_server.url}/v1", "STUDIO_TIMEOUT": "5"})
    with gr.Blocks():
        page, *_ = chat_page(config.endpoint("chat"))
    turns, session = ChatTurns(config, page), ChatSession()
    page_turn(turns, session, "no probabilities here", "")
    assert session.kept == [] and "logprobs" not in chat_server.records[-1].body
    for number in range(KEPT_REPLIES + 1):
        page_turn(turns, session, f"reply {number} kept", "3")
    assert len(session.kept) == KEPT_REPLIES
    newest = session.kept[-1]
    assert newest.answer == f"reply {KEPT_REPLIES} kept"
    assert [token.token for token in newest.tokens] == ["reply", f" {KEPT_REPLIES}", " kept"]
    assert all(len(token.top) == 3 for token in newest.tokens)
    assert session.kept[0].answer == "reply 1 kept", "the oldest went first"
