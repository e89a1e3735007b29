"""Chat servers of one's own as they really answer, against a stand-in for `transformers serve`
(tests/stand_ins/transformers_stand_in.py): a stream with no [DONE], a refused repetition_penalty,
a plain
500. tests/local/test_transformers_serve.py runs the same against the real server."""

from __future__ import annotations

import pytest
from gradio_client import Client

from studio import errors
from studio.backends import registry as backends
from studio.backends.base import ChatRequest
from studio.backends.openai_chat import OpenAIChatBackend
from studio.backends.self_hosted import ServerNotes
from studio.config import load_config
from studio.tasks.chat import ChatSettings, Delta
from tests.conftest import make_endpoint, start_studio, stop_studio
from tests.stand_ins.servers import server_fixture
from tests.stand_ins.transformers_stand_in import TransformersServeStandIn
from tests.ui.test_tabs import turn_shown

HELLO = [{"role": "user", "content": "Hello there"}]
PENALTY = ChatSettings(repetition_penalty=1.3)


stand_in = server_fixture(TransformersServeStandIn)


@pytest.fixture
def backend() -> OpenAIChatBackend:
    """A backend of its own, which has learnt nothing yet about any server."""
    return OpenAIChatBackend()


def endpoint_for(server, model: str = "stand-in/chat"):
    return make_endpoint(
        f"{server.url}/v1",
        task="chat",
        protocol="openai",
        model=model,
        url_setting="STUDIO_CHAT_BASE",
        model_setting="STUDIO_CHAT_MODEL",
    )


def reply(backend, endpoint, settings=ChatSettings(), messages=HELLO) -> list[Delta]:
    return list(
        backend.stream_chat(endpoint, backend.chat_request(endpoint, messages, settings), _cancel())
    )


def _cancel():
    return backends.Cancel()


# --- the stream ends with its last chunk, not [DONE] ---------------------------------------------


def test_a_stream_without_done_is_a_whole_reply(stand_in, backend):
    deltas = reply(backend, endpoint_for(stand_in))
    assert "".join(d.text for d in deltas) == "Hello there"
    assert deltas[-1] == Delta("", "stop")  # the last chunk: finish_reason and usage


def test_max_tokens_bounds_the_reply_with_finish_reason_length(stand_in, backend):
    settings = ChatSettings(max_new_tokens=3)
    deltas = reply(
        backend, endpoint_for(stand_in), settings, [{"role": "user", "content": "repeat: la"}]
    )
    assert [d.text for d in deltas] == ["la", " la", " la", ""]
    assert deltas[-1].finish_reason == "length"


def test_an_error_in_the_stream_keeps_what_came_before(stand_in, backend):
    stand_in.fail_next(after=1, kind="error", message="CUDA out of memory")
    endpoint = endpoint_for(stand_in)
    stream = backend.stream_chat(
        endpoint, backend.chat_request(endpoint, HELLO, ChatSettings()), _cancel()
    )
    assert next(stream) == Delta("Hello")
    with pytest.raises(errors.ServerError, match="CUDA out of memory"):
        next(stream)


# --- a refused repetition_penalty --------------------------------------------------------------


def test_a_refused_repetition_penalty_is_sent_again_as_frequency_penalty(stand_in, backend):
    endpoint = endpoint_for(stand_in)
    deltas = reply(backend, endpoint, PENALTY)
    note, *rest = deltas
    assert note.text == "" and "refused repetition_penalty (422)" in note.note
    assert "sent again as frequency_penalty 0.3" in note.note
    assert "".join(d.text for d in rest) == "Hello there" and rest[-1].finish_reason == "stop"
    refused, accepted = stand_in.records
    assert refused.body["repetition_penalty"] == 1.3
    assert "repetition_penalty" not in accepted.body and accepted.body["frequency_penalty"] == 0.3


def test_the_accepted_form_is_remembered_for_that_server_only(stand_in, backend):
    endpoint = endpoint_for(stand_in)
    reply(backend, endpoint, PENALTY)
    request = backend.chat_request(endpoint, HELLO, PENALTY)
    assert request.body["frequency_penalty"] == 0.3 and "repetition_penalty" not in request.body
    assert "was sent as frequency_penalty 0.3" in request.notes[-1]
    deltas = reply(backend, endpoint, PENALTY)
    assert not any(d.note for d in deltas), "no refusal this time"
    assert len(stand_in.records) == 3, "one request for the second message, not two"
    other = make_endpoint("http://127.0.0.1:9/v1", task="chat", protocol="openai")
    assert backend.chat_request(other, HELLO, PENALTY).body["repetition_penalty"] == 1.3


def test_the_note_reaches_the_chat_tabs_stats_line(stand_in):
    config = load_config(
        {"STUDIO_CHAT_BASE": f"{stand_in.url}/v1", "STUDIO_CHAT_MODEL": "stand-in/chat"}
    )
    previous = backends.register(OpenAIChatBackend())
    try:
        history = [{"role": "user", "content": "Hello there"}]
        final_history, stats = turn_shown(config, history, "", 0.7, 0.95, 64, 1.3, None)[-1]
    finally:
        backends.register(previous)
    assert final_history[-1] == {"role": "assistant", "content": "Hello there"}
    assert "finished: stop" in stats
    assert "sent again as frequency_penalty 0.3" in stats


def test_a_refusal_in_other_words_leaves_the_penalty_out():
    endpoint = make_endpoint("http://127.0.0.1:9/v1", task="chat", protocol="openai")
    request = ChatRequest("/chat/completions", {"model": "m", "repetition_penalty": 1.3})
    refusal = errors.ValidationError(
        "The server rejected the request (422). The server said: repetition_penalty: Extra "
        "inputs are not permitted",
        status=422,
    )
    notes = ServerNotes()
    again = notes.after_refusal(endpoint, request, refusal)
    assert again.body == {"model": "m"}
    assert "sent again without it" in again.notes[-1]
    assert notes.penalty_form(endpoint) is None
    out_of_range = errors.ValidationError(
        "The server said: repetition_penalty must be greater than zero", status=400
    )
    assert ServerNotes().after_refusal(endpoint, request, out_of_range) is None


# --- a plain 500 ---------------------------------------------------------------------------------


def test_an_unknown_model_names_the_setting_and_what_the_server_lists(stand_in, backend):
    reply(backend, endpoint_for(stand_in))  # the server has now loaded stand-in/chat
    with pytest.raises(errors.ServerError) as raised:
        reply(backend, endpoint_for(stand_in, model="unknown/model"))
    message = str(raised.value)
    assert "(500)" in message and "STUDIO_CHAT_MODEL" in message
    assert "does not list unknown/model among its models (stand-in/chat)" in message
    unknown = [r for r in stand_in.records if r.body["model"] == "unknown/model"]
    assert len(unknown) == 2, "one retry, no more: a 500 that repeats at once is the answer"


def test_a_500_for_a_listed_model_points_at_the_settings(stand_in, backend):
    reply(backend, endpoint_for(stand_in))
    with pytest.raises(errors.ServerError, match="so the model is not the cause"):
        reply(backend, endpoint_for(stand_in), ChatSettings(seed=2**64))


def test_a_500_from_a_server_that_lists_nothing_still_names_the_setting(stand_in, backend):
    with pytest.raises(errors.ServerError, match="It lists no models .* STUDIO_CHAT_MODEL"):
        reply(backend, endpoint_for(stand_in, model="unknown/model"))


# --- through the app ---------------------------------------------------------------------------


def test_the_chat_tab_answers_with_a_penalty_and_remembers_the_form(stand_in):
    env = {
        "STUDIO_CHAT_BASE": f"{stand_in.url}/v1",
        "STUDIO_CHAT_MODEL": "stand-in/chat",
        "STUDIO_TIMEOUT": "5",
    }
    process, url = start_studio(env, "--tabs", "chat")
    try:
        client = Client(url, verbose=False)
        assert client.predict("Hello there", repetition_penalty=1.3, api_name="/chat") == (
            "Hello there"
        )
        client.reset_session()
        assert client.predict("Again", repetition_penalty=1.3, api_name="/chat") == "Again"
    finally:
        stop_studio(process)
    sent = [record.body for record in stand_in.records]
    assert [("repetition_penalty" in body, "frequency_penalty" in body) for body in sent] == [
        (True, False),
        (False, True),
        (False, True),
    ]
