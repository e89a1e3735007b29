"""Branching from a token, as the page runs it, against the stand-in: on TGI the prompt ends
inside the reply, with the alternative, and the model writes on from there; a chat that moved
on past the shaded reply is told so, and nothing is sent."""

from __future__ import annotations

import asyncio
import html

import gradio as gr

from studio.config import load_config
from studio.tasks.token_branches import EXACT
from studio.ui.chat.page import chat_page
from studio.ui.chat.probabilities import NOT_LAST, Branching, picked, shown
from studio.ui.chat.turns import ChatSession, ChatTurns
from tests.stand_ins.chat_servers import ChatServer
from tests.stand_ins.servers import server_fixture
from tests.ui.test_tabs import collect

chat_server = server_fixture(ChatServer, token_delay=0.0)
SETTINGS = ("", 0.7, 0.95, 64, 1.0, "", "", "3")  # system prompt, five settings, Thinking, 3


def test_on_tgi_a_branch_continues_from_inside_the_reply_with_the_alternative(chat_server):
    config = load_config({"HF_API_FALCOM_BASE": chat_server.url, "STUDIO_TIMEOUT": "5"})
    with gr.Blocks():
        page, *_ = chat_page(config.endpoint("chat"))
    turns, session = ChatTurns(config, page), ChatSession()
    asyncio.run(turns.ask("The river flows past the mill", [], session))
    shown = collect(turns.turn(session, None, *SETTINGS))
    chat = shown[-2][page.chatbot]  # the last state of the stream, before Send is back
    tokens = session.kept[-1].tokens
    rank = next(i for i, (text, _) in enumerate(tokens[1].top) if text != tokens[1].token)
    alternative = tokens[1].top[rank][0]
    asked = len(chat_server.records)

    states = collect(Branching(config, page).branch(chat, session, (1, rank), [], None, *SETTINGS))
    view, kept = states[-1]
    prompt = chat_server.records[asked].body["inputs"]
    # The answer as shown (TGI's first token's leading space dropped), then the alternative.
    assert tokens[0].token == " The" and prompt.endswith(f"Assistant: The{alternative}"), prompt
    assert "top_n_tokens" not in chat_server.records[asked].body["parameters"]
    assert EXACT in view["value"] and "flows past the mill" in view["value"]
    assert [(b.before, b.token) for b in kept] == [("The", alternative)]
    assert kept[0].after == " flows past the mill"


def test_a_chat_that_moved_on_past_the_shaded_reply_is_told_where_branches_start(chat_server):
    config = load_config({"STUDIO_CHAT_BASE": f"{chat_server.url}/v1", "STUDIO_TIMEOUT": "5"})
    with gr.Blocks():
        page, *_ = chat_page(config.endpoint("chat"))
    turns, session = ChatTurns(config, page), ChatSession()
    asyncio.run(turns.ask("shaded", [], session))
    collect(turns.turn(session, None, *SETTINGS))
    moved_on = [{"role": "user", "content": "shaded"}, {"role": "assistant", "content": "later"}]
    asked = len(chat_server.records)
    states = collect(Branching(config, page).branch(moved_on, session, (0, 1), [], None, *SETTINGS))
    assert html.escape(NOT_LAST) in states[-1][0]["value"]
    assert len(chat_server.records) == asked, "nothing sent"


def test_a_branch_from_an_earlier_reply_forgets_what_came_after_it(chat_server):
    config = load_config({"STUDIO_CHAT_BASE": f"{chat_server.url}/v1", "STUDIO_TIMEOUT": "5"})
    with gr.Blocks():
        page, *_ = chat_page(config.endpoint("chat"))
    turns, session = ChatTurns(config, page), ChatSession()
    chat: list = []
    for question in ("the first question", "the second question"):
        asyncio.run(turns.ask(question, chat, session))
        chat = collect(turns.turn(session, None, *SETTINGS))[-2][page.chatbot]
    first = session.kept[0]
    assert len(session.kept) == 2 and first.answer != session.kept[1].answer
    listed = shown(session, "3")[1]
    assert listed["visible"] and listed["value"] == 1 and len(listed["choices"]) == 2
    assert "the first question" in picked(session, "3", 0)[0]["value"]  # its tokens, shaded
    rank = next(
        i for i, (text, _) in enumerate(first.tokens[1].top) if text != first.tokens[1].token
    )
    asked = len(chat_server.records)

    states = collect(
        Branching(config, page).branch(chat, session, (1, rank, 0), [], None, *SETTINGS)
    )
    sent = chat_server.records[asked].body["messages"]
    said = " ".join(str(message["content"]) for message in sent)
    assert "the first question" in said and "the second question" not in said
    assert session.kept[1].answer not in said  # nor the reply after it
    view, kept = states[-1]
    assert [(b.before, b.token) for b in kept] == [
        (first.tokens[0].token, first.tokens[1].top[rank][0])
    ]
