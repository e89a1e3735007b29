"""Reasoning models through every chat backend, against stand-ins that send the thinking in each
spelling (tests/stand_ins/reasoning.py): shown apart as a Thinking message, never sent back,
timed beside the answer; the Thinking setting sent only where it is understood, said in words
where not; Continue and edit on a reasoning model's reply."""

from __future__ import annotations

import pytest

from studio.backends import registry as backends
from studio.backends.chat_shapes import openai_body
from studio.backends.openai_chat import OpenAIChatBackend
from studio.chat.history import history_edited
from studio.chat.turn import Turn, stream_turn
from studio.config import load_config
from studio.tasks.chat import ChatSettings
from tests.stand_ins.chat_servers import ChatServer
from tests.stand_ins.reasoning import THOUGHT
from tests.stand_ins.servers import server_fixture
from tests.stand_ins.transformers_stand_in import TransformersServeStandIn
from tests.ui.test_tabs import collect

chat_server = server_fixture(ChatServer, token_delay=0.0)
transformers_server = server_fixture(TransformersServeStandIn, token_delay=0.0)
HELLO = [{"role": "user", "content": "Hello there"}]
THINKING_TOKENS = len(THOUGHT.split())


@pytest.fixture(autouse=True)
def fresh_backend():
    """An OpenAI backend that has learnt nothing about the stand-ins yet."""
    previous = backends.register(OpenAIChatBackend())
    yield
    backends.register(previous)


def config_for(server, protocol: str = "openai"):
    if protocol == "openai":
        env = {"STUDIO_CHAT_BASE": f"{server.url}/v1", "STUDIO_CHAT_MODEL": "stand-in/chat"}
    else:
        env = {"HF_API_FALCOM_BASE": server.url}
    return load_config({**env, "STUDIO_TIMEOUT": "5"})


def states(config, chat, *settings, continue_reply=False):
    settings = settings or (0.7, 0.95, 64, 1.0, None)
    return collect(stream_turn(config, Turn(chat, "", settings, continue_reply=continue_reply)))


def thinking_of(chat) -> list[dict]:
    return [m for m in chat if (m.get("metadata") or {}).get("title", "").startswith("Thinking")]


@pytest.mark.parametrize(
    "protocol, spelling",
    [
        ("openai", "reasoning"),
        ("openai", "reasoning_content"),
        ("openai", "inline"),
        ("openai", "inline_open"),
        ("tgi", "inline"),
    ],
)
def test_the_thinking_is_shown_apart_then_the_answer(chat_server, protocol, spelling):
    chat_server.thinks, chat_server.token_delay = spelling, 0.03  # a few updates while it thinks
    shown = states(config_for(chat_server, protocol), HELLO)
    last = shown[-1]
    (thinking,) = thinking_of(last.chat)
    assert thinking["content"] == THOUGHT
    assert thinking["metadata"]["status"] == "done"
    assert isinstance(thinking["metadata"]["duration"], float)
    assert last.chat[-1] == {"role": "assistant", "content": "Hello there"}
    assert last.reply == "Hello there" and last.ended is not None
    assert "Thinking" in thinking["metadata"]["title"] and "tokens" in thinking["metadata"]["title"]
    assert "thinking " in last.stats_line and "first token" in last.stats_line
    pending = [
        s for s in shown if any(m["metadata"]["status"] == "pending" for m in thinking_of(s.chat))
    ]
    if spelling != "inline_open":  # a lone </think> shows the thinking only when it closes
        assert pending and all("Hello" not in s.reply for s in pending)


def test_the_first_token_time_is_the_answers_not_the_thinkings(chat_server):
    chat_server.thinks, chat_server.token_delay = "reasoning", 0.05
    last = states(config_for(chat_server), HELLO)[-1]
    stats = last.ended.stats
    # thirteen thinking tokens, at least 0.05 s apart, come before the answer's first
    assert stats.time_to_first_token >= stats.thinking_seconds >= 0.05 * (THINKING_TOKENS - 1)
    assert stats.thinking_tokens == THINKING_TOKENS and stats.tokens == THINKING_TOKENS + 2


@pytest.mark.parametrize("spelling", ["reasoning", "inline", "inline_open"])
def test_the_next_turn_sends_the_answer_without_the_thinking(chat_server, spelling):
    chat_server.thinks = spelling
    config = config_for(chat_server)
    chat = states(config, HELLO)[-1].chat
    states(config, [*chat, {"role": "user", "content": "And again"}])
    sent = chat_server.records[-1].messages
    assert sent == [
        {"role": "user", "content": "Hello there"},
        {"role": "assistant", "content": "Hello there"},
        {"role": "user", "content": "And again"},
    ]


def test_continue_grows_the_answer_of_a_reasoning_reply_and_sends_no_thinking(chat_server):
    chat_server.thinks = "reasoning"
    config = config_for(chat_server)
    asked = [{"role": "user", "content": "one two three four five six"}]
    cut = states(config, asked, 0.7, 0.95, THINKING_TOKENS + 3, 1.0, None)[-1]
    assert cut.reply == "one two three" and cut.ended.cut
    grown = states(config, cut.chat, 0.7, 0.95, THINKING_TOKENS + 3, 1.0, None, continue_reply=True)
    assert grown[-1].reply == "one two three four five six"
    assert grown[-1].chat[-1] == {"role": "assistant", "content": "one two three four five six"}
    assert THOUGHT not in str(chat_server.records[-1].messages)


def test_a_reply_cut_while_thinking_offers_retry_not_continue(chat_server):
    chat_server.thinks = "reasoning_content"
    last = states(config_for(chat_server), HELLO, 0.7, 0.95, 5, 1.0, None)[-1]
    assert last.reply == "" and not last.ended.cut
    assert "still thinking" in last.stats_line and "Retry" in last.stats_line
    (thinking,) = thinking_of(last.chat)
    assert thinking["metadata"]["status"] == "done"


def test_editing_a_question_drops_the_thinking_and_answer_after_it(chat_server):
    chat_server.thinks = "inline"
    chat = states(config_for(chat_server), HELLO)[-1].chat
    assert len(chat) == 3
    assert history_edited(chat, 0, "Bye now") == [{"role": "user", "content": "Bye now"}]


# --- the Thinking setting: sent where understood, said where not ---------------------------------


def sent_body(server, thinking, protocol="openai"):
    states(config_for(server, protocol), HELLO, 0.7, 0.95, 64, 1.0, None, thinking)
    return server.records[-1].body, states


def test_the_default_sends_no_thinking_field(chat_server):
    body, _ = sent_body(chat_server, "")
    assert "reasoning_effort" not in body and "chat_template_kwargs" not in body


def test_an_effort_is_sent_as_reasoning_effort_and_said(chat_server):
    chat_server.thinks = "reasoning"
    last = states(config_for(chat_server), HELLO, 0.7, 0.95, 64, 1.0, None, "high")[-1]
    assert chat_server.records[-1].body["reasoning_effort"] == "high"
    assert "Thinking high was sent as reasoning_effort" in last.stats_line


def test_off_is_sent_as_the_templates_switch_and_the_model_does_not_think(chat_server):
    chat_server.thinks = "inline"
    last = states(config_for(chat_server), HELLO, 0.7, 0.95, 64, 1.0, None, "off")[-1]
    assert chat_server.records[-1].body["chat_template_kwargs"] == {"enable_thinking": False}
    assert thinking_of(last.chat) == [] and last.reply == "Hello there"
    assert "enable_thinking = false" in last.stats_line


def test_transformers_serve_takes_the_switch(transformers_server):
    last = states(config_for(transformers_server), HELLO, 0.7, 0.95, 64, 1.0, None, "off")[-1]
    assert transformers_server.records[-1].body["chat_template_kwargs"] == {
        "enable_thinking": False
    }
    assert last.reply == "Hello there" and last.failure is None


def test_a_server_that_refuses_the_switch_is_asked_again_without_it(chat_server):
    chat_server.refuses = ("chat_template_kwargs",)
    last = states(config_for(chat_server), HELLO, 0.7, 0.95, 64, 1.0, None, "off")[-1]
    first, again = chat_server.records
    assert "chat_template_kwargs" in first.body and "chat_template_kwargs" not in again.body
    assert last.reply == "Hello there" and last.failure is None
    assert "refused chat_template_kwargs (400)" in last.stats_line
    assert "without the Thinking setting" in last.stats_line


def test_the_router_is_told_no_off_switch_but_takes_an_effort():
    settings = ChatSettings(thinking="off")
    body, notes = openai_body(settings, "m", HELLO, penalty_as=None, on_router=True)
    assert "chat_template_kwargs" not in body and "reasoning_effort" not in body
    assert "cannot switch a model's thinking off" in notes[0]
    body, _ = openai_body(ChatSettings(thinking="low"), "m", HELLO, penalty_as=None, on_router=True)
    assert body["reasoning_effort"] == "low"


def test_tgi_sends_no_thinking_setting_and_says_so(chat_server):
    chat_server.thinks = "inline"
    last = states(config_for(chat_server, "tgi"), HELLO, 0.7, 0.95, 64, 1.0, None, "off")[-1]
    parameters = chat_server.records[-1].body["parameters"]
    assert not {"reasoning_effort", "chat_template_kwargs"} & set(parameters)
    assert "Thinking was not sent: TGI's /generate_stream" in last.stats_line
    assert last.reply == "Hello there"
