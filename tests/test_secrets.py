"""No path shows or logs the token: a server that quotes the Authorization header back."""

from __future__ import annotations

import logging

import pytest

from studio import errors
from studio.backends import http, streams
from studio.config import load_config
from studio.secrets import MASK, mask_logs, redact
from studio.services import summarize_text

SENTINEL = "hf_sentinel_secret_0123456789abcdef"


@pytest.fixture
def config():
    return load_config({"HF_TOKEN": SENTINEL})  # loading it is what marks it secret


def test_an_error_made_from_server_text_never_holds_the_token(config):
    error = errors.BadResponseError(f"The server said: Bearer {SENTINEL} is not valid")
    assert SENTINEL not in str(error) and MASK in error.message


def test_a_200_answer_quoting_the_token_is_shown_masked(config, task_server):
    endpoint = load_config(
        {"HF_TOKEN": SENTINEL, "HF_API_SUMMARY_BASE": f"{task_server.url}/summarize/models/x"}
    ).endpoint("summarize")
    task_server.fail_next("/summarize", (200, {"error": f"Authorization: Bearer {SENTINEL}"}, {}))
    with pytest.raises(errors.BadResponseError) as caught:
        summarize_text(endpoint, "Some text to summarize.")
    assert SENTINEL not in str(caught.value)
    sent = task_server.requests[-1].headers["Authorization"]
    assert sent == f"Bearer {SENTINEL}", "the server still gets the token"


def test_log_records_are_masked_whoever_makes_them(config, caplog):
    mask_logs()
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("urllib3.connectionpool").debug("header %s", f"Bearer {SENTINEL}")
        logging.getLogger("gradio").warning(f"failed with {SENTINEL}")
    assert caplog.records and all(SENTINEL not in r.getMessage() for r in caplog.records)
    assert SENTINEL not in caplog.text


def test_short_values_are_not_taken_for_secrets():
    load_config({"HF_TOKEN": "abc"})
    assert redact("abc def") == "abc def"


def test_an_in_stream_error_quoting_the_token_is_masked(config, task_server):
    endpoint = load_config(
        {"HF_TOKEN": SENTINEL, "HF_API_SUMMARY_BASE": f"{task_server.url}/stream"}
    ).endpoint("summarize")
    for body in (
        f'data: {{"error": "bad header Bearer {SENTINEL}"}}\n\n'.encode(),
        f"data: not json, Bearer {SENTINEL}\n\n".encode(),
    ):
        task_server.fail_next("/stream", (200, body, {}))
        request = http.json_request(endpoint, endpoint.url, {"inputs": "x"})
        with pytest.raises(errors.BackendError) as caught:
            list(streams.stream_events(request, endpoint))
        assert SENTINEL not in str(caught.value)
