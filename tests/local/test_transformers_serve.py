"""The Chat tab against a real server others wrote: `transformers serve` (the serving extra of
transformers), run as a subprocess on a free loopback port, serving a tiny chat model built here
and named by its folder. The studio runs as a person would start it, through gradio_client; the
tab's own handler runs in this process where the stats line (finish reason, notes) is needed.

The server streams with no `data: [DONE]`, refuses `repetition_penalty` (422), answers a model
it cannot load with a plain 500, and stops generating when the connection closes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from gradio_client import Client

from studio import errors
from studio.backends import registry as backends
from studio.backends.openai_chat import OpenAIChatBackend
from studio.config import load_config
from studio.tasks.chat import ChatSettings, Delta
from tests.conftest import free_port, start_studio, stop_studio
from tests.local.cpu import WINDOW, cpu_seconds, idle_since
from tests.ui.test_tabs import turn_shown

STARTUP_BOUND = 180.0  # seconds for the server to answer /health and load the model, loaded CI
STOP_BOUND = 5.0  # seconds from Stop until the server's CPU time stops growing
# Heavier than the other tiny chat models so that 4096 tokens take many seconds of CPU, and a
# Stop that did not reach the server would show; a short reply still takes a fraction of one.
SIZES = dict(
    hidden_size=128,
    intermediate_size=512,
    num_hidden_layers=4,
    num_attention_heads=4,
    num_key_value_heads=2,
    max_position_embeddings=8192,
)
INSTALL = 'pip install "transformers[serving]" (it is in requirements-local.txt)'


@pytest.fixture(scope="module")
def serving() -> None:
    from transformers.utils.import_utils import is_serve_available

    if not is_serve_available():
        reason = f"transformers serve is not installed: {INSTALL}"
        if os.environ.get("STUDIO_REQUIRE_LOCAL"):  # CI installs the extra: missing is a failure
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def model_folder(serving, tmp_path_factory) -> str:
    """A tiny Qwen2-style chat model that samples unless the request's temperature is 0."""
    from transformers import GenerationConfig

    from tests.local.tiny_models import build_chat

    folder = build_chat(tmp_path_factory.mktemp("served") / "tiny-chat", SIZES)
    generation = GenerationConfig.from_pretrained(folder)
    generation.do_sample = True
    generation.save_pretrained(folder)
    return str(folder)


def serve_command(port: int) -> list[str]:
    """`transformers serve`, from this interpreter's environment, on the CPU."""
    cli = [sys.executable, "-m", "transformers.cli.transformers", "serve"]
    return [*cli, "--host", "127.0.0.1", "--port", str(port), "--device", "cpu"]


def serve_environment(home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "HF_HUB_OFFLINE": "1",  # a name that is not a folder fails at once, never downloads
        "HF_HUB_DISABLE_UPDATE_CHECK": "1",  # the CLI would ask PyPI for a newer version
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HOME": str(home),  # an empty cache: GET /v1/models lists the loaded models only
        "OMP_NUM_THREADS": "1",  # one core for generation; the machine is shared
    }


@pytest.fixture(scope="module")
def serve_process(serving, tmp_path_factory):
    """(process, port) of `transformers serve` just started: it imports while the model is
    built (it loads a model when a request first names it)."""
    home = tmp_path_factory.mktemp("hf-home")
    port = free_port()
    with open(home / "serve.log", "wb") as log:
        process = subprocess.Popen(
            serve_command(port), env=serve_environment(home), stdout=log, stderr=log
        )
    yield process, port
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def server(serve_process, model_folder):
    """(base URL, process) of the running server, with the model loaded."""
    process, port = serve_process
    wait_for(lambda: healthy(process, port), STARTUP_BOUND, "transformers serve to start")
    base = f"http://127.0.0.1:{port}/v1"
    load = {"model": model_folder, "messages": [{"role": "user", "content": "hi"}]}
    answer = requests.post(f"{base}/chat/completions", json={**load, "max_tokens": 1}, timeout=120)
    assert answer.ok, answer.text  # the model is loaded before the first test
    return base, process


def healthy(process: subprocess.Popen, port: int) -> bool:
    assert process.poll() is None, "transformers serve exited; see its serve.log"
    try:
        return requests.get(f"http://127.0.0.1:{port}/health", timeout=1).ok
    except requests.RequestException:
        return False


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"waited {timeout:g} s for {what}"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def env(server, model_folder) -> dict[str, str]:
    return {
        "STUDIO_CHAT_BASE": server[0],
        "STUDIO_CHAT_MODEL": model_folder,
        "STUDIO_TIMEOUT": "60",
    }


@pytest.fixture(scope="module")
def app(env):
    process, url = start_studio(env, "--tabs", "chat")
    yield url
    stop_studio(process)


@pytest.fixture
def client(app) -> Client:
    client = Client(app, verbose=False)
    yield client
    client.close()


@pytest.fixture
def replies(env):
    """The tab's configuration in this process, with a backend that has learnt nothing yet."""
    previous = backends.register(OpenAIChatBackend())
    yield load_config(env)
    backends.register(previous)


def respond(config, message: str, *, max_new_tokens=16, penalty=1.0, seed=None, temperature=0.7):
    """The turn as the page and the API stream it: the last (chat, stats line)."""
    history = [{"role": "user", "content": message}]
    settings = (temperature, 0.95, max_new_tokens, penalty, seed)
    return turn_shown(config, history, "", *settings)[-1]


# --- streaming ---------------------------------------------------------------------------------


def test_the_chat_tab_streams_a_reply(client):
    job = client.submit("hello there", max_new_tokens=48, seed=1, api_name="/chat")
    reply = job.result(timeout=60)
    outputs = job.outputs()
    assert reply.strip() and outputs[-1] == reply
    # The first token is shown at once, the rest at most every 40 ms: a fast tiny model's reply
    # may come in as few as two pieces, but never in one.
    assert len(outputs) >= 2, f"the reply came in one piece, not streamed: {outputs}"
    assert all(reply.startswith(piece) for piece in outputs), "each output extends the last"


def test_the_seed_gives_the_same_reply_twice(client):
    def ask(seed: int) -> str:
        client.reset_session()
        return client.predict(
            "tell me", temperature=0.9, max_new_tokens=24, seed=seed, api_name="/chat"
        )

    first = ask(11)
    assert ask(11) == first
    assert ask(12) != first, "another seed samples another reply: the temperature is in effect"


def test_max_new_tokens_bounds_the_reply_and_the_stream_ends_without_done(client, replies):
    job = client.submit("hello", max_new_tokens=5, seed=3, api_name="/chat")
    job.result(timeout=60)
    assert 1 <= len(job.outputs()) <= 5
    history, stats = respond(replies, "hello", max_new_tokens=5, seed=3)
    assert history[-1]["role"] == "assistant" and history[-1]["content"]
    assert "finished: length" in stats and "failed" not in stats


def test_the_last_chunk_carries_the_finish_reason(env):
    endpoint = load_config(env).endpoint("chat")
    messages = [{"role": "user", "content": "hello"}]
    request = backends.chat_request(endpoint, messages, ChatSettings(max_new_tokens=4, seed=5))
    deltas = list(backends.stream_chat(endpoint, request))
    # Four tokens, in four pieces or fewer: on a busy machine the server may send two tokens in
    # one chunk, and a token that is half of a character waits for the next.
    assert 1 <= sum(1 for delta in deltas if delta.text) <= 4
    assert deltas[-1] == Delta("", "length")


# --- stop ----------------------------------------------------------------------------------------


def test_stop_ends_generation_on_the_server(client, server):
    process = server[1]
    job = client.submit("go on and on", max_new_tokens=4096, api_name="/chat")
    wait_for(lambda: len(job.outputs()) >= 5, 60, "the first pieces of the reply")
    busy_from = cpu_seconds(process.pid)
    wait_for(lambda: cpu_seconds(process.pid) - busy_from > 0.3, 30, "the server to be generating")
    stopped_at = time.monotonic()
    job.cancel()
    idle = idle_since(process.pid, timeout=STOP_BOUND + WINDOW + 5)
    assert idle is not None, "the server went on generating after Stop"
    assert idle - stopped_at < STOP_BOUND
    asked_at = time.monotonic()  # the server generates one reply at a time: it is free now
    assert client.predict("next", max_new_tokens=3, api_name="/chat")
    assert time.monotonic() - asked_at < STOP_BOUND * 2


# --- what it refuses ---------------------------------------------------------------------------


def test_a_refused_repetition_penalty_is_sent_as_frequency_penalty(client, replies):
    client.reset_session()
    plain = client.predict("hello there", temperature=0, max_new_tokens=40, api_name="/chat")
    client.reset_session()
    penalised = client.predict(
        "hello there", temperature=0, max_new_tokens=40, repetition_penalty=1.5, api_name="/chat"
    )
    assert penalised.strip() and penalised != plain, "the penalty reached the model"
    _, stats = respond(replies, "hello there", penalty=1.5, temperature=0)
    assert "refused repetition_penalty (422)" in stats
    assert "sent again as frequency_penalty 0.5" in stats and "finished: length" in stats
    _, stats = respond(replies, "hello there", penalty=1.5, temperature=0)
    assert "refused" not in stats, "the second request went straight to the accepted form"
    assert "was sent as frequency_penalty 0.5" in stats


def test_a_seed_no_server_takes_is_refused_before_sending(client):
    with pytest.raises(Exception) as raised:
        client.predict("hello", max_new_tokens=3, seed=2**64, api_name="/chat")
    assert "seed" in str(raised.value).lower()


def test_a_seed_the_server_cannot_take_points_at_the_settings(env, model_folder):
    """Sent past the studio's own check: whatever the server's version answers (a plain 500 up
    to transformers 5.24, an error inside the stream from 5.25), the person is told the model
    is not the cause and a large seed may be."""
    endpoint = load_config(env).endpoint("chat")
    messages = [{"role": "user", "content": "hello"}]
    request = backends.chat_request(endpoint, messages, ChatSettings(max_new_tokens=3, seed=2**64))
    with pytest.raises(errors.ServerError) as raised:
        list(backends.stream_chat(endpoint, request))
    message = str(raised.value)
    assert "(500)" in message or "stopped with an error" in message
    assert f"lists {model_folder} among its models, so the model is not the cause" in message
    assert "seed" in message


def test_an_unknown_model_names_the_setting_and_the_folder_it_lists(env, model_folder):
    endpoint = load_config({**env, "STUDIO_CHAT_MODEL": "nobody/nothing"}).endpoint("chat")
    messages = [{"role": "user", "content": "hello"}]
    request = backends.chat_request(endpoint, messages, ChatSettings(max_new_tokens=3))
    with pytest.raises(errors.ServerError) as raised:
        list(backends.stream_chat(endpoint, request))
    message = str(raised.value)
    assert "(500)" in message and "STUDIO_CHAT_MODEL" in message
    assert f"does not list nobody/nothing among its models ({model_folder})" in message
