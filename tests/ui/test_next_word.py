"""The Next word tab end to end: `python -m studio --tabs next_word` against the stand-in chat
server of both protocols, through gradio_client; and the page's own handlers against it."""

from __future__ import annotations

import pytest
from gradio_client import Client

from studio.config import load_config
from studio.ui import next_word as tab
from tests.conftest import start_studio, stop_studio
from tests.stand_ins.chat_servers import ChatServer
from tests.stand_ins.reasoning import ALTERNATIVES
from tests.stand_ins.servers import server_fixture

chat_server = server_fixture(ChatServer, token_delay=0.0)
START = "The cat sat"
# The stand-in echoes the user turn ("Write a short text that begins with: The cat sat") from
# the word after the start: "text", then its fixed alternatives.
NEXT = "text"


def protocol_env(protocol: str, server: ChatServer) -> dict:
    if protocol == "openai":
        return {"STUDIO_CHAT_BASE": f"{server.url}/v1", "STUDIO_CHAT_MODEL": "stand-in/chat"}
    return {"HF_API_FALCOM_BASE": server.url}  # a raw text server, TGI's protocol


@pytest.fixture(scope="module", params=["openai", "tgi"])
def app(request, chat_server):
    """(protocol, a client) of the studio serving only the Next word tab."""
    env = {**protocol_env(request.param, chat_server), "STUDIO_TIMEOUT": "5"}
    process, url = start_studio(env, "--tabs", "next_word")
    yield request.param, Client(url, verbose=False)
    stop_studio(process)


def test_next_words_asks_one_token_with_its_alternatives(app, chat_server):
    protocol, client = app
    answer = client.predict(START, 1.0, 1.0, api_name="/next_words")
    words = answer["words"]
    assert answer["text"] == START
    assert words[0]["token"].strip() == NEXT and words[0]["kept"]
    assert [w["token"] for w in words[1:4]] == ALTERNATIVES[:3]
    assert sum(w["chance"] for w in words) == pytest.approx(1.0)
    probabilities = [w["probability"] for w in words]
    assert probabilities == sorted(probabilities, reverse=True)
    (record,) = chat_server.records
    if protocol == "openai":
        assert record.body["max_tokens"] == 1 and record.body["temperature"] == 1.0
        assert record.body["logprobs"] is True and record.body["top_logprobs"] == 20
        assert record.messages[1] == {"role": "assistant", "content": START}, "the reply's start"
        assert len(words) == 1 + len(ALTERNATIVES)
    else:
        parameters = record.body["parameters"]
        assert parameters["max_new_tokens"] == 1 and parameters["top_n_tokens"] == 5
        assert record.body["inputs"].endswith(f"\nAssistant: {START}"), "ends inside the reply"
        assert len(words) == 5


def test_temperature_zero_and_a_small_top_p_keep_the_top_word_alone(app, chat_server):
    _, client = app
    cold = client.predict(START, 0, 1.0, api_name="/next_words")["words"]
    assert [w["chance"] for w in cold[:2]] == [1.0, 0.0] and not cold[1]["kept"]
    cut = client.predict(START, 1.0, 0.5, api_name="/next_words")["words"]
    assert [w["kept"] for w in cut[:2]] == [True, False]


def test_a_server_without_probabilities_says_what_to_do(app, chat_server):
    chat_server.gives_logprobs = False
    with pytest.raises(Exception, match="sent no alternatives for the next token"):
        app[1].predict(START, 1.0, 1.0, api_name="/next_words")


def test_bad_settings_are_refused_before_anything_is_sent(app, chat_server):
    with pytest.raises(Exception, match="Temperature must be"):
        app[1].predict(START, 5, 1.0, api_name="/next_words")
    with pytest.raises(Exception, match="start of a sentence"):
        app[1].predict("  ", 1.0, 1.0, api_name="/next_words")
    assert chat_server.records == []


# --- the page's handlers --------------------------------------------------------------------


@pytest.mark.parametrize("protocol", ["openai", "tgi"])
def test_steps_append_the_chosen_word_and_ask_for_the_next(protocol, chat_server):
    config = load_config({**protocol_env(protocol, chat_server), "STUDIO_TIMEOUT": "5"})
    state, bars, card, code, _ = tab.shown(config, START, 1.0, 1.0)
    assert "next-word-bars" in bars and "model 77.9%" in bars
    assert "Next words" in card and "max" in card, "the card says how they were asked"
    assert "/next_words" in code["gradio"] and "The cat sat" in code["curl"]
    longer, state, bars, *_ = tab.step(config, "most likely", START, state, 1.0, 1.0)
    assert longer == f"{START} {NEXT}", "a space between words, however the server continued"
    assert state["text"] == longer and len(chat_server.records) == 2
    # With top-p this small only the top word is kept, so a pick is certain.
    longest, state, *_ = tab.step(config, "pick", "edited box", state, 1.0, 0.05)
    assert longest == f"{START} {NEXT} that", "appended to the text the bars were shown for"


def test_moving_a_slider_redraws_from_the_state_and_asks_nothing(chat_server):
    config = load_config({"STUDIO_CHAT_BASE": f"{chat_server.url}/v1"})
    state, warm, *_ = tab.shown(config, START, 1.0, 1.0)
    asked = len(chat_server.records)
    cold = tab.redrawn(state, 0, 1.0)
    cut = tab.redrawn(state, 1.0, 0.5)
    assert cold != warm and "data-chance='1.0000'" in cold
    assert cut.count("next-word-hatched") == len(state["choices"]) - 1
    assert "top-p cut" in cut and "top-p cut" not in warm
    assert len(chat_server.records) == asked, "no request for a slider"
    assert "Temperature must be" in tab.redrawn(state, 9, 1.0)
    assert tab.redrawn(None, 1.0, 1.0) == tab.EMPTY
