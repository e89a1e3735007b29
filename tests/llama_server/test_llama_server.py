"""The Chat tab against llama-cpp-python's real server (`python -m llama_cpp.server`), run as a
subprocess on a tiny GGUF written here, as tests/local/test_transformers_serve.py runs
`transformers serve`: streaming, the seed, max tokens, Stop, the history sent back, token
probabilities, and the four ways llama.cpp differs (the penalty's field, 1.0 really off, a reply
cut for another request, a conversation longer than the context). Skipped without
llama-cpp-python, unless STUDIO_REQUIRE_LLAMA=1 says it must be there.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests
from gradio_client import Client

from studio import errors
from studio.backends import registry as backends
from studio.backends.openai_chat import OpenAIChatBackend
from studio.backends.server_quirks import context_said
from studio.chat.turn import Turn, stream_turn
from studio.config import load_config
from studio.tasks.chat import UNFINISHED, ChatSettings
from tests.conftest import free_port, start_studio, stop_studio
from tests.llama_server import server as llama
from tests.local.cpu import WINDOW, cpu_seconds, idle_since
from tests.stand_ins.llama_cpp import RECORDED
from tests.ui.test_tabs import collect

N_CTX = 512  # small, so a conversation can be longer than it
STOP_BOUND = 5.0  # seconds from Stop until the server's CPU time stops growing


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """(base URL, process) of the real server, its model loaded."""
    llama.require_llama_cpp()
    port = free_port()
    with llama.running(tmp_path_factory.mktemp("llama"), port, N_CTX) as process:
        yield f"http://127.0.0.1:{port}/v1", process


@pytest.fixture(scope="module")
def env(server) -> dict[str, str]:
    return {"STUDIO_CHAT_BASE": server[0], "STUDIO_CHAT_MODEL": llama.ALIAS, "STUDIO_TIMEOUT": "60"}


@pytest.fixture(scope="module")
def client(env):
    process, url = start_studio(env, "--tabs", "chat")
    client = Client(url, verbose=False)
    yield client
    client.close()
    stop_studio(process)


@pytest.fixture
def config(env):
    """The tab's configuration in this process, with a backend that has learnt nothing yet."""
    previous = backends.register(OpenAIChatBackend())
    yield load_config(env)
    backends.register(previous)


def raw_reply(base: str, messages: list[dict], **fields) -> str:
    """The server's reply asked directly, greedy unless told."""
    body = {"model": llama.ALIAS, "messages": messages, "max_tokens": 12, "temperature": 0}
    answer = requests.post(f"{base}/chat/completions", json={**body, **fields}, timeout=60)
    assert answer.ok, answer.text
    return answer.json()["choices"][0]["message"]["content"]


def turn(config, history, *, max_new_tokens=12, penalty=1.0, seed=None, temperature=0.0):
    """The turn as the page and the API stream it: its last state."""
    settings = (temperature, 0.95, max_new_tokens, penalty, seed)
    return collect(stream_turn(config, Turn(history, "", settings)))[-1]


def shape(value):
    """The value with its leaves replaced by their types' names: what a stand-in must copy."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value[:1]]
    return type(value).__name__


# --- what it sends, against the recording the stand-ins replay ------------------------------


def test_the_recording_the_stand_ins_replay_is_what_the_server_sends(server):
    live = llama.record(server[0], N_CTX)
    for key in ("framing", "openapi_info", "leading"):
        assert live[key] == RECORDED[key], key
    assert shape(live["chunk"]) == shape(RECORDED["chunk"])
    assert shape(live["models"]) == shape(RECORDED["models"])
    assert live["models"]["data"][0]["owned_by"] == RECORDED["models"]["data"][0]["owned_by"]
    too_long = live["too_long"]
    assert too_long["status"] == 400 and shape(too_long) == shape(RECORDED["too_long"])
    assert context_said(too_long["body"]["error"]["message"])[0] == N_CTX
    assert live["too_long_streamed"] == {"status": 200, "text": ""}
    ended = llama.events(live["interrupted"]["body"])
    assert ended[-1] == "[DONE]" and json.loads(ended[-2])["choices"][0]["finish_reason"] is None


def test_token_probabilities_come_with_each_token_when_asked(server):
    text = llama.raw_stream(server[0], llama.HELLO, max_tokens=4, logprobs=True, top_logprobs=3)
    tokens = [c for c in llama.chunks(text.text) if c["choices"][0]["delta"].get("content")]
    assert tokens
    for chunk in tokens:
        (entry,) = chunk["choices"][0]["logprobs"]["content"]
        assert entry["token"] == chunk["choices"][0]["delta"]["content"] and entry["logprob"] <= 0
        # The 3 likeliest, and the chosen token after them when it is not among them.
        top = entry["top_logprobs"]
        assert len(top) == 3 or (len(top) == 4 and top[3]["token"] == entry["token"])


# --- streaming, the seed, max tokens --------------------------------------------------------


def test_the_chat_tab_streams_a_reply(client):
    job = client.submit("hello there", max_new_tokens=48, seed=1, api_name="/chat")
    reply = job.result(timeout=120)
    outputs = job.outputs()
    assert reply.strip() and outputs[-1] == reply
    assert len(outputs) >= 2, f"the reply came in one piece, not streamed: {outputs}"
    assert all(reply.startswith(piece) for piece in outputs), "each output extends the last"


def test_the_seed_gives_the_same_reply_twice(client):
    def ask(seed: int) -> str:
        client.reset_session()
        return client.predict(
            "tell me", temperature=1.0, max_new_tokens=16, seed=seed, api_name="/chat"
        )

    first = ask(11)
    assert ask(11) == first
    assert ask(12) != first, "another seed samples another reply: the temperature is in effect"


def test_max_new_tokens_bounds_the_reply(env):
    endpoint = load_config(env).endpoint("chat")
    request = backends.chat_request(endpoint, llama.HELLO, ChatSettings(max_new_tokens=4, seed=5))
    deltas = list(backends.stream_chat(endpoint, request))
    assert 1 <= sum(1 for delta in deltas if delta.text) <= 4
    assert deltas[-1].finish_reason == "length"


# --- the repetition penalty ---------------------------------------------------------------------


def test_the_penalty_reaches_the_model_and_one_is_really_off(server, config):
    """Forty greedy tokens of this model fall into a loop that a penalty breaks."""
    base = server[0]
    plain = raw_reply(base, llama.HELLO, max_tokens=40)  # its own default penalty: 1.1
    off = raw_reply(base, llama.HELLO, max_tokens=40, repeat_penalty=1.0)
    strong = raw_reply(base, llama.HELLO, max_tokens=40, repeat_penalty=1.5)
    assert len({plain, off, strong}) == 3, "each penalty changes this model's reply"
    assert turn(config, list(llama.HELLO), max_new_tokens=40).chat[-1]["content"] == off
    shown = turn(config, list(llama.HELLO), max_new_tokens=40, penalty=1.5)
    assert shown.chat[-1]["content"] == strong
    assert "sent as repeat_penalty" in shown.stats_line


# --- Stop, and a reply cut for another request ----------------------------------------------------


def test_stop_ends_generation_on_the_server(client, server):
    process = server[1]
    job = client.submit("go on and on", max_new_tokens=4096, api_name="/chat")
    wait_for(lambda: len(job.outputs()) >= 5, 120, "the first pieces of the reply")
    stopped_at = time.monotonic()
    job.cancel()
    idle = idle_since(process.pid, timeout=STOP_BOUND + WINDOW + 10)
    assert idle is not None, "the server went on generating after Stop"
    assert idle - stopped_at < STOP_BOUND
    assert client.predict("next", max_new_tokens=3, api_name="/chat"), "the server answers again"


def test_a_reply_cut_for_another_request_offers_continue(server, config):
    process = server[1]
    busy_from = cpu_seconds(process.pid)

    def another_request_once_replying() -> None:
        # A third into the reply (the whole of it takes about 0.3 CPU-seconds): the rest is
        # the margin a loaded machine needs to send this request while the reply streams.
        wait_for(lambda: cpu_seconds(process.pid) - busy_from > 0.1, 60, "the reply to start")
        raw_reply(server[0], llama.HELLO, max_tokens=1)

    other = threading.Thread(target=another_request_once_replying)
    other.start()
    last = turn(config, [{"role": "user", "content": "go on"}], max_new_tokens=400, temperature=0.7)
    other.join(timeout=60)
    assert last.failure is None and last.ended.stats.finish_reason == UNFINISHED
    assert last.ended.cut and "Press Continue" in last.stats_line
    assert last.chat[-1]["content"].strip()


# --- the context ------------------------------------------------------------------------------


def test_a_conversation_longer_than_the_context_is_trimmed(config):
    said = " ".join(["hello there"] * 60)
    history = []
    for _ in range(4):
        history += [{"role": "user", "content": said}, {"role": "assistant", "content": said}]
    last = turn(config, [*history, {"role": "user", "content": "go"}], max_new_tokens=8)
    assert last.failure is None and last.chat[-1]["content"].strip()
    assert (
        "oldest exchanges were left out" in last.stats_line and f"{N_CTX} tokens" in last.stats_line
    )


def test_a_message_longer_than_the_context_is_refused_in_plain_words(env):
    endpoint = load_config(env).endpoint("chat")
    messages = [{"role": "user", "content": " ".join(["hello"] * (N_CTX * 2))}]
    request = backends.chat_request(endpoint, messages, ChatSettings(max_new_tokens=8))
    with pytest.raises(errors.InputError) as raised:
        list(backends.stream_chat(endpoint, request))
    message = raised.value.for_person
    assert "too long for the model" in message and f"at most {N_CTX} tokens" in message


# --- the history -------------------------------------------------------------------------------


def test_a_second_turn_goes_with_the_first_as_the_server_sent_it(client, server):
    client.reset_session()
    first = client.predict("hello there", temperature=0, max_new_tokens=8, api_name="/chat")
    assert first == raw_reply(server[0], llama.HELLO, max_tokens=8)
    second = client.predict("and again", temperature=0, max_new_tokens=8, api_name="/chat")
    history = [*llama.HELLO, {"role": "assistant", "content": first}]
    history.append({"role": "user", "content": "and again"})
    assert second == raw_reply(server[0], history, max_tokens=8)
    # What was sent is checked byte for byte against the stand-in (tests/backends/
    # test_llama_cpp_chat.py): this tiny model's replies hardly depend on the prompt.


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"waited {timeout:g} s for {what}"
        time.sleep(0.1)
