"""Every bound on what a server can make the studio wait for or hold, against a server that
misbehaves on purpose (tests/stand_ins/evil_server.py). Each bound is far below what the server
would
take, so the figures hold on a loaded machine."""

from __future__ import annotations

import time

import pytest

from studio import errors
from studio.backends.registry import chat_request, get_completion, stream_chat
from studio.backends.transport import reading
from studio.tasks.chat import ChatSettings
from tests.conftest import make_endpoint
from tests.stand_ins.evil_server import EvilServer
from tests.stand_ins.servers import server_fixture

TIMEOUT = 5.0  # STUDIO_TIMEOUT for these endpoints: slack for a loaded machine
SENTINEL = "hf_test_secret_token_0123456789"


evil = server_fixture(EvilServer)


def endpoint(server, route: str, **changes):
    return make_endpoint(f"{server.url}/{route}", **{"timeout": TIMEOUT, **changes})


def chat_endpoint(server, route: str):
    return make_endpoint(f"{server.url}/{route}", task="chat", protocol="openai", timeout=TIMEOUT)


def stream(server, route: str, **settings):
    target = chat_endpoint(server, route)
    request = chat_request(target, [{"role": "user", "content": "hi"}], ChatSettings(**settings))
    request = type(request)("", request.body, max_tokens=request.max_tokens)  # post to the route
    return stream_chat(target, request)


def test_a_trickling_answer_is_cut_at_the_timeout_not_held_open(evil):
    started = time.monotonic()
    with pytest.raises(errors.BackendTimeoutError, match="did not finish its answer within 5"):
        get_completion(endpoint(evil, "trickle"), "text")
    assert time.monotonic() - started < 30, "the trickle takes 50 s"


# A status line sent a byte a second never trips a per-read timeout: only a deadline from the
# moment the request is sent ends it. The trickle lasts two minutes; the bound is 3x the timeout.
SHORT = 3.0


def test_a_status_line_sent_a_byte_a_second_is_cut_at_the_timeout(evil):
    started = time.monotonic()
    with pytest.raises(errors.BackendTimeoutError, match="did not answer within 3 seconds"):
        get_completion(endpoint(evil, "trickle-status", timeout=SHORT), "text")
    assert time.monotonic() - started < 3 * SHORT


def test_a_stream_whose_status_line_trickles_is_cut_at_the_timeout(evil):
    target = make_endpoint(
        f"{evil.url}/trickle-status", task="chat", protocol="openai", timeout=SHORT
    )
    request = chat_request(target, [{"role": "user", "content": "hi"}], ChatSettings())
    request = type(request)("", request.body)  # post to the route
    started = time.monotonic()
    with pytest.raises(errors.BackendTimeoutError, match="did not answer within 3 seconds"):
        list(stream_chat(target, request))
    assert time.monotonic() - started < 3 * SHORT


def test_keep_alive_comments_do_not_hold_a_reply_open(evil):
    started = time.monotonic()
    with pytest.raises(errors.BackendTimeoutError, match="sent nothing for 5 seconds"):
        list(stream(evil, "keepalive"))
    assert time.monotonic() - started < 20, "the comments go on for a minute"


def test_tokens_before_a_stall_arrive_before_it_ends(evil):
    pieces = stream(evil, "stall")
    started = time.monotonic()
    assert next(pieces).text == "first" and next(pieces).text == " second"
    assert time.monotonic() - started < 20, "they waited for the 30 s stall"
    with pytest.raises(errors.BackendTimeoutError):
        next(pieces)


def test_a_server_that_ignores_max_tokens_is_stopped_at_it(evil):
    deltas = list(stream(evil, "runaway", max_new_tokens=16))
    texts = [d for d in deltas if d.text]
    assert 16 <= len(texts) <= 16 + 8 and deltas[-1].finish_reason == "length"
    deadline = time.monotonic() + 20
    while "runaway" not in evil.stopped_sending:  # it notices at its next write
        assert time.monotonic() < deadline, "the connection was left open"
        time.sleep(0.01)


def test_one_huge_line_is_refused(evil):
    with pytest.raises(errors.BadResponseError, match="one line of more than 1 MB"):
        list(stream(evil, "huge-line"))


@pytest.mark.parametrize("route", ["huge-body", "huge-chunked"])
def test_a_huge_answer_is_refused_not_held(evil, route):
    with pytest.raises(errors.BadResponseError, match="larger than 32 MB"):
        get_completion(endpoint(evil, route), "text")


def test_json_nested_too_deeply_is_a_clear_error(evil):
    with pytest.raises(errors.BadResponseError, match="not JSON"):
        get_completion(endpoint(evil, "deep"), "text")


def test_an_error_that_quotes_the_authorization_header_shows_no_token(evil):
    with pytest.raises(errors.AuthenticationError) as caught:
        get_completion(endpoint(evil, "echo-auth"), "text")
    assert SENTINEL not in str(caught.value)


def test_line_reading_splits_at_cr_lf_and_crlf_across_reads():
    class Raw:
        def __init__(self, pieces):
            self.pieces = list(pieces)

        def read1(self, size, decode_content=True):
            return self.pieces.pop(0) if self.pieces else b""

    raw = Raw([b"a\r", b"\nb\rc\n", b"d\u2028".replace(b"\\u2028", "\u2028".encode()), b"e"])
    assert list(reading.read_lines(raw)) == [b"a", b"b", b"c", "d\u2028e".encode()]
