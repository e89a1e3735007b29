"""Token probabilities through the chat backends, against stand-ins that give them as vLLM and
llama.cpp's server do (`logprobs`, `top_logprobs`) and as TGI does (`top_n_tokens`), or that
ignore or refuse the fields: asked only when wanted, kept with the reply, and a server that
gives none says so in plain words. (Local scores: tests/local/test_local_reasoning.py.)"""

from __future__ import annotations

import pytest

from studio.backends import registry as backends
from studio.backends.chat_shapes import openai_body, openai_deltas
from studio.backends.openai_chat import OpenAIChatBackend
from studio.backends.tgi import tgi_deltas
from studio.chat.turn import Turn, stream_turn
from studio.config import load_config
from studio.errors import InputError
from studio.tasks.chat import ChatSettings
from studio.tasks.token_probs import TokenProb, checked_alternatives
from tests.stand_ins.chat_servers import ChatServer
from tests.stand_ins.reasoning import ALTERNATIVES, LOGPROB
from tests.stand_ins.servers import server_fixture
from tests.ui.test_tabs import collect

chat_server = server_fixture(ChatServer, token_delay=0.0)
HELLO = [{"role": "user", "content": "Hello there friend"}]
NONE_SENT = "Token probabilities were asked for, but this server sent none"


@pytest.fixture(autouse=True)
def fresh_backend():
    """An OpenAI backend that has learnt nothing about the stand-ins yet."""
    previous = backends.register(OpenAIChatBackend())
    yield
    backends.register(previous)


def last_state(server, alternatives, protocol="openai", thinking=""):
    if protocol == "openai":
        env = {"STUDIO_CHAT_BASE": f"{server.url}/v1", "STUDIO_CHAT_MODEL": "stand-in/chat"}
    else:
        env = {"HF_API_FALCOM_BASE": server.url}
    config = load_config({**env, "STUDIO_TIMEOUT": "5"})
    settings = (0.7, 0.95, 64, 1.0, None, thinking, alternatives)
    return collect(stream_turn(config, Turn(HELLO, "", settings)))[-1]


# --- reading them from raw stream lines --------------------------------------------------------


def test_openai_chunks_give_each_token_and_its_alternatives():
    def entry(token, logprob):
        return {"token": token, "logprob": logprob, "bytes": list(token.encode())}

    lines = [
        {"choices": [{"delta": {"role": "assistant", "content": ""}, "logprobs": None}]},
        {
            "choices": [
                {
                    "delta": {"content": "Hi"},
                    "logprobs": {
                        "content": [
                            {**entry("Hi", -0.1), "top_logprobs": [entry("Hi", -0.1)]},
                            {"token": "bad"},  # no logprob: skipped, not a failure
                        ]
                    },
                }
            ]
        },
        {"choices": [], "usage": {"completion_tokens": 1}},
        {"choices": [{"delta": {}, "finish_reason": "stop"}]},
    ]
    tokens = [t for delta in openai_deltas(lines) for t in delta.tokens]
    assert tokens == [TokenProb("Hi", -0.1, (("Hi", -0.1),))]


def test_tgi_events_give_each_token_likeliest_alternative_first():
    top = [{"id": 2, "text": " a", "logprob": -3.0}, {"id": 1, "text": " Hi", "logprob": -0.2}]
    events = [
        {"token": {"id": 1, "text": " Hi", "logprob": -0.2, "special": False}, "top_tokens": top},
        {"token": {"id": 0, "text": "</s>", "logprob": -0.01, "special": True}},
        {"token": {}, "generated_text": " Hi", "details": {"finish_reason": "eos_token"}},
    ]
    tokens = [t for delta in tgi_deltas(events, probabilities=True) for t in delta.tokens]
    assert tokens == [TokenProb(" Hi", -0.2, ((" Hi", -0.2), (" a", -3.0)))]
    assert not [t for d in tgi_deltas(events) for t in d.tokens], "not asked, not kept"


@pytest.mark.parametrize("given, read", [(None, None), ("", None), (True, 5), (0, 0), ("10", 10)])
def test_the_number_of_alternatives_reads_page_and_api_values(given, read):
    assert checked_alternatives(given) == read


@pytest.mark.parametrize("given", [11, -1, "3.5", "many"])
def test_a_number_of_alternatives_out_of_range_is_named(given):
    with pytest.raises(InputError, match="whole number from 0 to 10"):
        checked_alternatives(given)


def test_the_router_is_asked_for_at_most_five_and_told_so():
    settings = ChatSettings(alternatives=10)
    body, notes = openai_body(settings, "m", HELLO, penalty_as=None, on_router=True)
    assert (body["logprobs"], body["top_logprobs"]) == (True, 5)
    assert "at most 5 alternatives" in notes[0]
    body, notes = openai_body(settings, "m", HELLO, penalty_as=None)
    assert body["top_logprobs"] == 10 and notes == []


# --- through the chat, against the stand-ins ---------------------------------------------------


def test_probabilities_are_asked_only_when_wanted(chat_server):
    last = last_state(chat_server, None)
    body = chat_server.records[-1].body
    assert "logprobs" not in body and "top_logprobs" not in body
    assert last.ended.tokens == () and "Probabilities" not in last.stats_line


def test_an_openai_server_gives_each_token_with_its_alternatives(chat_server):
    last = last_state(chat_server, 7)
    body = chat_server.records[-1].body
    assert (body["logprobs"], body["top_logprobs"]) == (True, 7)
    tokens = last.ended.tokens
    assert "".join(token.token for token in tokens) == last.reply == "Hello there friend"
    assert all(token.logprob == LOGPROB and len(token.top) == 7 for token in tokens)
    assert tokens[1].top[0] == (" there", LOGPROB) and tokens[1].top[1] == (ALTERNATIVES[0], -2.0)
    assert "Probabilities kept for 3 tokens." in last.stats_line


def test_a_server_that_ignores_the_fields_says_none_came(chat_server):
    chat_server.gives_logprobs = False
    last = last_state(chat_server, 5)
    assert chat_server.records[-1].body["logprobs"] is True
    assert last.reply == "Hello there friend" and last.ended.tokens == ()
    assert NONE_SENT in last.stats_line


def test_a_server_that_refuses_the_fields_is_asked_again_without_them(chat_server):
    chat_server.refuses = ("top_logprobs",)
    last = last_state(chat_server, 5)
    first, again = chat_server.records
    assert "top_logprobs" in first.body
    assert "logprobs" not in again.body and "top_logprobs" not in again.body
    assert last.reply == "Hello there friend" and last.failure is None
    assert "refused top_logprobs (400)" in last.stats_line
    assert "without token probabilities" in last.stats_line
    assert NONE_SENT not in last.stats_line, "already said: the server refused them"


def test_tgi_gives_each_token_and_its_top_tokens_up_to_its_limit(chat_server):
    last = last_state(chat_server, 8, protocol="tgi")
    assert chat_server.records[-1].body["parameters"]["top_n_tokens"] == 5
    assert "TGI gives at most 5 alternatives" in last.stats_line
    tokens = last.ended.tokens
    assert [token.token for token in tokens] == [" Hello", " there", " friend"]
    assert all(len(token.top) == 5 and token.top[0][0] == token.token for token in tokens)
    assert "Probabilities kept for 3 tokens." in last.stats_line


def test_tgi_without_alternatives_still_gives_each_tokens_own(chat_server):
    last = last_state(chat_server, 0, protocol="tgi")
    assert "top_n_tokens" not in chat_server.records[-1].body["parameters"]
    assert [(token.token, token.top) for token in last.ended.tokens] == [
        (" Hello", ()),
        (" there", ()),
        (" friend", ()),
    ]


def test_a_reasoning_reply_keeps_probabilities_beside_its_thinking(chat_server):
    chat_server.thinks = "reasoning"
    last = last_state(chat_server, 2)
    assert last.reply == "Hello there friend"
    assert "".join(token.token for token in last.ended.tokens).endswith(last.reply)
