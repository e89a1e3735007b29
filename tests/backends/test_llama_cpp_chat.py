"""llama.cpp's servers as they really answer, against stand-ins (tests/stand_ins/llama_cpp.py)
that replay a stream recorded from llama-cpp-python's server: the penalty in the field they
read, 1.0 really off, a stream the server ended without a finish reason kept as cut with
Continue, a conversation longer than the context trimmed or refused in plain words, and the
history sent back exactly. tests/llama_server/test_llama_server.py runs the real server."""

from __future__ import annotations

import threading

import pytest
from gradio_client import Client

from studio import errors
from studio.backends import registry as backends
from studio.backends.openai_chat import OpenAIChatBackend
from studio.backends.server_quirks import LLAMA_CPP_PYTHON, LLAMA_SERVER, context_said
from studio.backends.transport.framing import json_events, parse_sse
from studio.chat.turn import Turn, stream_turn
from studio.config import load_config
from studio.tasks.chat import UNFINISHED, ChatSettings, Delta
from tests.conftest import make_endpoint, start_studio, stop_studio
from tests.stand_ins.llama_cpp import PYTHON, RECORDED, SERVER, LlamaCppStandIn
from tests.stand_ins.servers import server_fixture
from tests.ui.test_tabs import collect

LOOP = [{"role": "user", "content": "repeat: la di"}]

python_server = server_fixture(LlamaCppStandIn, program=PYTHON)
llama_server = server_fixture(LlamaCppStandIn, program=SERVER)


@pytest.fixture
def backend() -> OpenAIChatBackend:
    """A backend of its own, which has learnt nothing yet about any server."""
    return OpenAIChatBackend()


def endpoint_for(server):
    return make_endpoint(
        f"{server.url}/v1",
        task="chat",
        protocol="openai",
        model="stand-in/chat",
        url_setting="STUDIO_CHAT_BASE",
        model_setting="STUDIO_CHAT_MODEL",
    )


def reply(backend, server, settings=ChatSettings(max_new_tokens=8), messages=LOOP):
    endpoint = endpoint_for(server)
    request = backend.chat_request(endpoint, messages, settings)
    return list(backend.stream_chat(endpoint, request, backends.Cancel()))


def text_of(deltas) -> str:
    return "".join(d.text for d in deltas)


def long_history(exchanges: int, words: int) -> list[dict]:
    """Question-and-reply exchanges of `words` words each, then a short question."""
    said = " ".join(["word"] * words)
    history = []
    for _ in range(exchanges):
        history += [{"role": "user", "content": said}, {"role": "assistant", "content": said}]
    return [*history, {"role": "user", "content": "hello there"}]


# --- who they are ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("server", "kind", "context"),
    [("python_server", LLAMA_CPP_PYTHON, None), ("llama_server", LLAMA_SERVER, 2048)],
)
def test_each_server_is_told_apart_by_what_it_says_of_itself(
    request, backend, server, kind, context
):
    facts = backend.servers.facts(endpoint_for(request.getfixturevalue(server)))
    assert (facts.kind, facts.context) == (kind, context)


# --- the repetition penalty ------------------------------------------------------------------


@pytest.mark.parametrize("server", ["python_server", "llama_server"])
def test_a_penalty_of_one_is_sent_so_it_is_really_off(request, backend, server):
    server = request.getfixturevalue(server)
    deltas = reply(backend, server)
    (sent,) = server.records
    assert sent.body["repeat_penalty"] == 1.0 and "repetition_penalty" not in sent.body
    assert server.penalties == [1.0]
    assert deltas[-1].finish_reason == "length", "the loop was not broken by a default penalty"


def test_a_penalty_goes_in_the_field_llama_cpp_reads(python_server, backend):
    deltas = reply(backend, python_server, ChatSettings(max_new_tokens=8, repetition_penalty=1.3))
    assert python_server.penalties == [1.3]
    assert text_of(deltas).strip() == "la di" and deltas[-1].finish_reason == "stop", "broken loop"
    assert "sent as repeat_penalty" in " ".join(d.note for d in deltas)
    again = backend.chat_request(endpoint_for(python_server), LOOP, ChatSettings())
    assert again.body["repeat_penalty"] == 1.0, "later requests are built that way at once"


# --- a stream ended without a finish reason ------------------------------------------------------


def test_a_stream_the_server_cut_for_another_request_is_kept_as_cut(python_server):
    python_server.token_delay = 0.05
    config = load_config({"STUDIO_CHAT_BASE": f"{python_server.url}/v1"})
    history = [{"role": "user", "content": "repeat: on and on"}]
    turn = Turn(history, "", (0.7, 0.95, 400, 1.0, None))
    states = []

    def other_request_once_streaming() -> None:
        python_server_waits_for(lambda: any(r.tokens_sent >= 3 for r in python_server.records))
        reply(OpenAIChatBackend(), python_server, messages=[{"role": "user", "content": "hi"}])

    other = threading.Thread(target=other_request_once_streaming)
    other.start()
    states = collect(stream_turn(config, turn))
    other.join(timeout=30)
    last = states[-1]
    assert last.failure is None and last.ended is not None
    assert last.ended.cut, "Continue is offered"
    assert last.ended.stats.finish_reason == UNFINISHED
    assert "cut short by the server" in last.stats_line and "finished:" not in last.stats_line
    assert "Press Continue" in last.stats_line
    assert last.chat[-1]["content"].startswith(RECORDED["leading"] + "on and on")


def python_server_waits_for(condition, timeout: float = 30.0) -> None:
    event = threading.Event()
    for _ in range(int(timeout / 0.02)):
        if condition():
            return
        event.wait(0.02)
    raise AssertionError("the first stream never started")


# --- a conversation longer than the context -------------------------------------------------------


def test_llama_server_gets_a_long_conversation_trimmed_before_sending(llama_server, backend):
    llama_server.n_ctx = 512
    deltas = reply(backend, llama_server, messages=long_history(exchanges=6, words=100))
    (sent,) = llama_server.records
    assert len(sent.messages) < 13 and sent.messages[-1]["content"] == "hello there"
    assert text_of(deltas) == RECORDED["leading"] + "hello there"
    assert "oldest exchanges were left out" in " ".join(d.note for d in deltas)
    assert "512 tokens" in " ".join(d.note for d in deltas)


def test_an_empty_stream_from_llama_cpp_python_is_asked_why_and_trimmed(python_server, backend):
    python_server.n_ctx = 512
    history = long_history(exchanges=6, words=100)
    deltas = reply(backend, python_server, messages=history)
    streamed, asked_why, trimmed = python_server.records
    assert streamed.body["stream"] and not asked_why.body["stream"]
    assert len(trimmed.messages) < len(history) and trimmed.body["stream"]
    assert text_of(deltas) == RECORDED["leading"] + "hello there"
    assert "oldest exchanges were left out" in " ".join(d.note for d in deltas)
    reply(backend, python_server, messages=history)
    assert len(python_server.records) == 4, "the next turn is trimmed before sending"


@pytest.mark.parametrize("server", ["python_server", "llama_server"])
def test_a_message_too_long_alone_is_refused_in_plain_words(request, backend, server):
    server = request.getfixturevalue(server)
    server.n_ctx = 256
    too_long = [{"role": "user", "content": " ".join(["word"] * 400)}]
    with pytest.raises(errors.InputError) as raised:
        reply(backend, server, messages=too_long)
    message = raised.value.for_person
    assert "too long for the model" in message and "at most 256 tokens" in message
    assert "127.0.0.1" not in message and server.url not in message
    assert "Shorten your message" in message


def test_context_errors_are_read_in_each_servers_words():
    python_said = (
        "This model's maximum context length is 2048 tokens. However, you requested 2100 tokens "
        "(2084 in the messages, 16 in the completion). Please reduce the length of the messages."
    )
    server_said = (
        "request (2100 tokens) exceeds the available context size (2048 tokens), try increasing it"
    )
    assert context_said(python_said) == (2048, 2084)
    assert context_said(server_said) == (2048, 2100)
    assert context_said("repetition_penalty: Extra inputs are not permitted") is None


# --- the recorded stream ----------------------------------------------------------------------


def test_the_recorded_stream_reads_as_one_whole_reply():
    recorded = RECORDED["stream"]
    deltas = list(openai_deltas_of(recorded["body"]))
    assert text_of(deltas) == recorded["reply"]
    assert deltas[-1] == Delta("", recorded["finish_reason"])


def test_the_recorded_interrupted_stream_reads_as_cut():
    recorded = RECORDED["interrupted"]
    deltas = list(openai_deltas_of(recorded["body"]))
    assert text_of(deltas) == recorded["reply"] and deltas[-1].finish_reason == UNFINISHED


def openai_deltas_of(body: str):
    from studio.backends.chat_shapes import openai_deltas

    return openai_deltas(json_events(parse_sse(body.splitlines())))


# --- through the app ---------------------------------------------------------------------------


def test_the_history_goes_back_exactly_as_the_server_sent_it(python_server):
    env = {"STUDIO_CHAT_BASE": f"{python_server.url}/v1", "STUDIO_TIMEOUT": "5"}
    process, url = start_studio(env, "--tabs", "chat")
    try:
        client = Client(url, verbose=False)
        first = client.predict("  hello   there", max_new_tokens=8, api_name="/chat")
        client.predict("and again", max_new_tokens=8, api_name="/chat")
    finally:
        stop_studio(process)
    assert first == RECORDED["leading"] + "hello there"
    second = python_server.records[-1].messages
    assert second[1] == {"role": "assistant", "content": first}, "sent back exactly"
    assert [m["role"] for m in second] == ["user", "assistant", "user"]
