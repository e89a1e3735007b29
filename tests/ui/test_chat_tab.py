"""The Chat tab end to end: `python -m studio` against local streaming servers of both
protocols, driven through gradio_client as an API user would."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from gradio_client import Client

from studio import errors
from studio.backends import transport
from studio.backends.registry import Cancel, chat_request, stream_chat
from studio.config import load_config
from studio.tasks.chat import ChatSettings, Delta
from tests.conftest import make_endpoint, start_studio, stop_studio
from tests.stand_ins.chat_servers import EOS, ChatServer
from tests.stand_ins.servers import server_fixture

BUDGET = 400  # characters of conversation per request, small so a few turns overflow it
# Stopping must not wait for the stream: the servers would go on for a minute or more. A bound of
# a few seconds proves that and holds on a loaded two-core machine.
STOP_BOUND = 5.0


chat_server = server_fixture(ChatServer)


def protocol_env(protocol: str, server: ChatServer) -> dict:
    if protocol == "openai":
        return {"STUDIO_CHAT_BASE": f"{server.url}/v1", "STUDIO_CHAT_MODEL": "stand-in/chat"}
    return {"HF_API_FALCOM_BASE": server.url}  # prompt format: falcon, the default


@pytest.fixture(scope="module", params=["openai", "tgi"])
def app(request, chat_server):
    """(protocol, URL) of the studio serving only the Chat tab, configured for one protocol."""
    env = {
        **protocol_env(request.param, chat_server),
        "HF_TOKEN": "hf_test_secret_token_0123456789",
        "STUDIO_TIMEOUT": "5",
        "STUDIO_CHAT_BUDGET_CHARS": str(BUDGET),
    }
    process, url = start_studio(env, "--tabs", "chat")
    yield request.param, url
    output = stop_studio(process)
    assert "hf_test_secret_token_0123456789" not in output, "the token reached a log line"


@pytest.fixture(scope="module")
def shared_client(app) -> Client:
    return Client(app[1], verbose=False)


@pytest.fixture
def client(shared_client) -> Client:
    """A client with a session of its own: a new conversation for each test."""
    shared_client.reset_session()
    return shared_client


def wait_until(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.01)


def outputs_when(job, count: int, timeout: float = 10.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while len(job.outputs()) < count:
        assert time.monotonic() < deadline, f"fewer than {count} outputs: {job.outputs()}"
        time.sleep(0.005)
    return job.outputs()


# --- streaming ----------------------------------------------------------------------------------


def growing(outputs: list[str]) -> bool:
    """Each output is the one before it and more."""
    pairs = zip(outputs, outputs[1:], strict=False)
    return all(later.startswith(earlier) and later != earlier for earlier, later in pairs)


def test_the_reply_streams_as_it_grows(app, chat_server, client):
    job = client.submit("Hello there my friend", api_name="/chat")
    assert job.result() == "Hello there my friend"
    outputs = job.outputs()
    assert outputs[0] == "Hello", f"the first token is shown on its own, at once: {outputs}"
    assert outputs[-1] == "Hello there my friend" and growing(outputs)
    record = chat_server.records[-1]
    if app[0] == "openai":
        assert record.path == "/v1/chat/completions"
        assert record.body["model"] == "stand-in/chat" and record.body["stream"] is True
        assert record.messages == [{"role": "user", "content": "Hello there my friend"}]
    else:
        assert record.path == "/generate_stream"
        assert record.body["inputs"] == "User: Hello there my friend\nAssistant:"
        assert record.body["parameters"]["stop"] == ["\nUser:", EOS]
    assert record.headers["Authorization"] == "Bearer hf_test_secret_token_0123456789"


def test_a_fast_stream_arrives_in_fewer_larger_updates(app, chat_server, client):
    chat_server.token_delay = 0.002  # 500 tokens a second: faster than anybody reads
    job = client.submit("repeat: quick", max_new_tokens=200, api_name="/chat")
    assert job.result() == " ".join(["quick"] * 200), "the whole reply, always"
    outputs = job.outputs()
    assert growing(outputs) and len(outputs) < 50, f"{len(outputs)} updates for 200 tokens"


@pytest.mark.parametrize("app", ["tgi"], indirect=True)
def test_tgi_stop_sequence_is_trimmed_and_the_system_prompt_sent(chat_server, client):
    # a question: the stand-in runs on into "\nUser:", which must not reach the reply
    reply = client.predict("Is it raining?", "Answer briefly.", api_name="/chat")
    assert reply == "Is it raining?"
    assert chat_server.records[-1].body["inputs"] == (
        "System: Answer briefly.\nUser: Is it raining?\nAssistant:"
    )


def test_the_conversation_continues_and_is_trimmed_oldest_first(app, chat_server, client):
    questions = [f"question {n} " + "padding words " * 8 for n in range(1, 6)]
    for question in questions:
        assert client.predict(question, api_name="/chat") == " ".join(question.split())
    sent = chat_server.records[-1]
    text = sent.body["inputs"] if app[0] == "tgi" else str(sent.messages)
    assert "question 5" in text and "question 4" in text, "the latest turns are kept"
    assert "question 1" not in text, "the oldest turns are dropped to fit the budget"
    assert len(text) < BUDGET + 200


def test_settings_reach_the_server_as_each_protocol_spells_them(app, chat_server, client):
    reply = client.predict(
        "Hi",
        temperature=0.0,
        top_p=1.0,
        max_new_tokens=64,
        repetition_penalty=1.2,
        seed=7,
        api_name="/chat",
    )
    assert reply == "Hi"
    body = chat_server.records[-1].body
    if app[0] == "openai":
        assert body["temperature"] == 0.0 and "top_p" not in body
        assert body["max_tokens"] == 64 and body["seed"] == 7
        assert body["repetition_penalty"] == 1.2  # a server of one's own takes it
    else:
        # TGI rejects temperature 0 and top_p 1.0: greedy decoding is asked for instead
        parameters = body["parameters"]
        assert parameters["do_sample"] is False
        assert "temperature" not in parameters and "top_p" not in parameters
        assert parameters["max_new_tokens"] == 64 and parameters["seed"] == 7
        assert parameters["repetition_penalty"] == 1.2


# --- stop ---------------------------------------------------------------------------------------


def test_stop_closes_the_upstream_connection_at_once(app, chat_server, client):
    job = client.submit("repeat: on and on", max_new_tokens=3000, api_name="/chat")
    outputs_when(job, 5)
    record = chat_server.records[-1]
    stopped_at = time.monotonic()
    job.cancel()
    seen = chat_server.wait_for_disconnect(record, timeout=10)
    assert seen is not None, "the server never saw the client go away"
    assert seen - stopped_at < STOP_BOUND
    assert record.finished_at is None and record.tokens_sent < 3000


def test_stop_while_waiting_for_the_first_token(app, chat_server, client):
    chat_server.first_token_delay = 10  # a busy server: queued, or reading a long prompt
    job = client.submit("anyone there", api_name="/chat")
    wait_until(lambda: chat_server.records)
    stopped_at = time.monotonic()
    job.cancel()
    seen = chat_server.wait_for_disconnect(chat_server.records[-1], timeout=10)
    assert seen is not None and seen - stopped_at < STOP_BOUND


def test_the_reply_stopped_so_far_stays_in_the_conversation(app, chat_server, client):
    job = client.submit("repeat: alpha", max_new_tokens=3000, api_name="/chat")
    partial = outputs_when(job, 3)[-1]
    job.cancel()
    chat_server.wait_for_disconnect(chat_server.records[-1], timeout=10)
    wait_until(lambda: job.done())
    client.predict("next", api_name="/chat")
    sent = str(chat_server.records[-1].body)
    assert "repeat: alpha" in sent and partial in sent


# --- failures -----------------------------------------------------------------------------------


def test_an_error_mid_stream_keeps_the_partial_reply_and_says_why(app, chat_server, client):
    chat_server.fail_next(after=2, kind="error", message="CUDA out of memory")
    job = client.submit("one two three four", api_name="/chat")
    with pytest.raises(Exception, match="CUDA out of memory"):
        job.result()
    assert job.outputs()[-1] == "one two", "the partial reply is kept"
    # the user's message and the partial reply stay in the conversation
    assert client.predict("and then", api_name="/chat") == "and then"
    sent = str(chat_server.records[-1].body)
    assert "one two three four" in sent and "CUDA" not in sent


def test_a_dropped_connection_keeps_the_partial_reply(app, chat_server, client):
    chat_server.fail_next(after=3, kind="drop")
    job = client.submit("red green blue yellow", api_name="/chat")
    with pytest.raises(Exception, match="dropped in the middle"):
        job.result()
    assert job.outputs()[-1] == "red green blue"


def test_a_rejected_setting_names_the_parameter(app, client):
    with pytest.raises(Exception) as raised:
        client.predict("Hi", max_new_tokens=4096, api_name="/chat")
    assert "max_new_tokens" in str(raised.value)  # the setting to change, on both servers


@pytest.mark.parametrize("app", ["openai"], indirect=True)  # the same code for both
def test_an_empty_message_says_what_to_do(client):
    with pytest.raises(Exception, match="Type a message first"):
        client.predict("   ", api_name="/chat")


# --- many users ---------------------------------------------------------------------------------


@pytest.mark.parametrize("app", ["openai"], indirect=True)  # the same code for both
def test_two_users_histories_stay_apart(app, chat_server, client):
    other = Client(app[1], verbose=False)  # a second person, with a session of their own

    def converse(user: tuple[str, Client]) -> list[str]:
        name, client = user
        return [client.predict(f"{name} says {n}", api_name="/chat") for n in range(3)]

    with ThreadPoolExecutor(max_workers=2) as pool:
        ada, bob = pool.map(converse, [("ada", client), ("bob", other)])
    assert ada == [f"ada says {n}" for n in range(3)]
    assert bob == [f"bob says {n}" for n in range(3)]
    for record in chat_server.records:
        sent = str(record.body)
        assert ("ada" in sent) != ("bob" in sent), f"one user's history reached another: {sent}"


# --- building requests (pure) -------------------------------------------------------------------


def test_repetition_penalty_is_not_sent_to_the_router_and_the_person_is_told():
    config = load_config({"HF_TOKEN": "hf_x"})
    endpoint = config.endpoint("chat")
    assert endpoint.on_router and endpoint.protocol == "openai"
    messages = [{"role": "user", "content": "Hi"}]
    request = chat_request(endpoint, messages, ChatSettings(repetition_penalty=1.3))
    assert request.path == "/chat/completions"
    assert "repetition_penalty" not in request.body
    assert any("Repetition penalty 1.3 was not sent" in note for note in request.notes)


# --- the stream itself, without the app ---------------------------------------------------------

HELLO = [{"role": "user", "content": "Hello there"}]


def chat_endpoint(server: ChatServer, protocol: str):
    base = f"{server.url}/v1" if protocol == "openai" else server.url
    return make_endpoint(base, task="chat", protocol=protocol)


def test_closing_the_stream_closes_the_connection(chat_server):
    endpoint = chat_endpoint(chat_server, "openai")
    request = chat_request(endpoint, [{"role": "user", "content": "repeat: x"}], ChatSettings())
    stream = stream_chat(endpoint, request)
    assert next(stream) == Delta("x")
    closed_at = time.monotonic()
    stream.close()
    seen = chat_server.wait_for_disconnect(chat_server.records[-1], timeout=10)
    assert seen is not None and seen - closed_at < STOP_BOUND


def test_cancel_from_another_thread_interrupts_a_blocked_read(chat_server):
    chat_server.first_token_delay = 10
    endpoint = chat_endpoint(chat_server, "tgi")
    cancel = Cancel()
    received: list = []
    request = chat_request(endpoint, HELLO, ChatSettings())
    stream = stream_chat(endpoint, request, cancel)
    reader = threading.Thread(target=lambda: received.extend(stream))
    reader.start()
    wait_until(lambda: chat_server.records)  # the reader is now blocked on the first token
    cancelled_at = time.monotonic()
    cancel.set()
    reader.join(timeout=STOP_BOUND)
    assert not reader.is_alive() and received == [], "the stream ends quietly, at once"
    seen = chat_server.wait_for_disconnect(chat_server.records[-1], timeout=10)
    assert seen is not None and seen - cancelled_at < STOP_BOUND


@pytest.mark.parametrize(
    "parameters, wrong",
    [({"temperature": 0}, "`temperature`"), ({"temperature": 0.5, "top_p": 1.0}, "`top_p`")],
)
def test_tgi_rejects_a_setting_in_the_stream_and_the_message_names_it(
    chat_server, parameters, wrong
):
    endpoint = chat_endpoint(chat_server, "tgi")
    body = {"inputs": "User: Hi\nAssistant:", "parameters": parameters}
    with pytest.raises(errors.ValidationError, match=wrong):
        url = endpoint.url + "/generate_stream"
        list(transport.stream(transport.json_request(endpoint, url, body), endpoint))


def test_a_model_the_server_does_not_serve_names_the_setting_to_change(chat_server):
    endpoint = make_endpoint(
        f"{chat_server.url}/v1",
        task="chat",
        protocol="openai",
        model="unknown/model",
        url_setting="STUDIO_CHAT_BASE",
        model_setting="STUDIO_CHAT_MODEL",
    )
    request = chat_request(endpoint, HELLO, ChatSettings())
    with pytest.raises(errors.ModelNotFoundError, match="STUDIO_CHAT_MODEL"):
        list(stream_chat(endpoint, request))


def test_tgi_special_tokens_are_skipped_and_the_leading_space_dropped(chat_server):
    endpoint = chat_endpoint(chat_server, "tgi")
    request = chat_request(endpoint, HELLO, ChatSettings())
    deltas = list(stream_chat(endpoint, request))
    assert "".join(d.text for d in deltas) == "Hello there"  # the stream ended with <|endoftext|>
    assert deltas[-1].finish_reason == "eos_token"


def test_the_local_backend_gets_the_openai_body_and_the_cancel(monkeypatch):
    """The in-process path, against the contract of studio.local.stream_chat."""
    import studio.local

    calls = []

    def fake_stream_chat(model, body, cancel, *, device="auto", offline=False, progress=None):
        calls.append((model, body, cancel, device))
        yield {"choices": [{"delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}
        yield {"choices": [{"delta": {"content": "Hi!"}, "finish_reason": None}]}
        yield {"choices": [{"delta": {}, "finish_reason": "stop"}]}

    monkeypatch.setattr(studio.local, "stream_chat", fake_stream_chat)
    endpoint = make_endpoint("", task="chat", protocol="local", model="tiny/chat", device="cpu")
    settings = ChatSettings(repetition_penalty=1.3)
    request = chat_request(endpoint, HELLO, settings)
    cancel = Cancel()
    assert list(stream_chat(endpoint, request, cancel)) == [Delta("Hi!"), Delta("", "stop")]
    model, body, given_cancel, device = calls[0]
    assert (model, device, given_cancel) == ("tiny/chat", "cpu", cancel)
    assert body["messages"] == HELLO and body["repetition_penalty"] == 1.3
    assert request.notes == ()
