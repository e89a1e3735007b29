"""SSE parsing and stream decoding, fed raw lines as ``iter_lines(decode_unicode=True)`` yields."""

import json

import pytest

from studio.backends.chat_shapes import NO_FINISH_REASON
from studio.backends.openai_chat import openai_deltas
from studio.backends.tgi import tgi_deltas
from studio.backends.transport.framing import SSEEvent, json_events, parse_sse
from studio.errors import BackendError, BadResponseError, IncompleteStreamError, ValidationError
from studio.tasks.chat import UNFINISHED, Delta

# What a stream that ends with [DONE] and no finish reason ends with: the server cut the reply.
CUT = Delta("", UNFINISHED, note=NO_FINISH_REASON)


def openai_stream(lines):
    return list(openai_deltas(json_events(parse_sse(lines))))


def tgi_stream(lines):
    return list(tgi_deltas(json_events(parse_sse(lines))))


# --- parse_sse ------------------------------------------------------------------------------


def test_data_with_and_without_space_after_colon():
    events = list(parse_sse(["data: one", "", "data:two", "", "data:  three", ""]))
    # Only one space is part of the syntax; a second belongs to the data.
    assert [e.data for e in events] == ["one", "two", " three"]


def test_prefix_is_removed_not_characters():
    # lstrip("data:") would also eat the leading "a" and "t" of the payload.
    assert [e.data for e in parse_sse(["data:data", ""])] == ["data"]


def test_blank_lines_between_events_and_repeated_blank_lines():
    events = list(parse_sse(["", "", "data: a", "", "", "", "data: b", "", ""]))
    assert [e.data for e in events] == ["a", "b"]


def test_keep_alive_comments_are_ignored():
    lines = [": keep-alive", "", "data: a", ": ping", "", ":", ""]
    assert list(parse_sse(lines)) == [SSEEvent("a")]


def test_multi_line_data_is_joined_with_newlines():
    assert [e.data for e in parse_sse(["data: first", "data:second", "data:", ""])] == [
        "first\nsecond\n"
    ]


def test_event_and_id_fields():
    events = list(parse_sse(["event: error", "id: 7", "data: boom", "", "data: next", ""]))
    assert events == [SSEEvent("boom", "error", "7"), SSEEvent("next", "message", "7")]


def test_carriage_returns_are_tolerated():
    lines = ["data: a\r", "\r", "data:b\r", "\r"]
    assert [e.data for e in parse_sse(lines)] == ["a", "b"]


def test_bytes_lines_are_decoded_as_utf8():
    assert [e.data for e in parse_sse([b"data: caf\xc3\xa9", b""])] == ["café"]


def test_final_event_without_blank_line_is_dispatched():
    assert [e.data for e in parse_sse(["data: a", "", "data: b"])] == ["a", "b"]


def test_retry_and_unknown_fields_are_ignored():
    assert [e.data for e in parse_sse(["retry: 1000", "foo: bar", "data: a", ""])] == ["a"]


# --- OpenAI-compatible streams -----------------------------------------------------------------


def chunk(content=None, finish_reason=None, role=None):
    delta = {}
    if role:
        delta["role"] = role
    if content is not None:
        delta["content"] = content
    return (
        '{"object":"chat.completion.chunk","choices":[{"index":0,"delta":'
        + json.dumps(delta)
        + ',"finish_reason":'
        + json.dumps(finish_reason)
        + "}]}"
    )


def test_openai_stream_with_role_chunk_usage_chunk_and_done():
    lines = [
        "data: " + chunk(role="assistant"),
        "",
        ": keep-alive",
        "",
        "data: " + chunk("Hel"),
        "",
        "data:" + chunk("lo"),
        "",
        "data: " + chunk(None),
        "",
        "data: " + chunk("", finish_reason="stop"),
        "",
        'data: {"object":"chat.completion.chunk","choices":[],"usage":{"total_tokens":9}}',
        "",
        "data: [DONE]",
        "",
        "data: " + chunk("after done is never read"),
        "",
    ]
    assert openai_stream(lines) == [Delta("Hel"), Delta("lo"), Delta("", "stop")]


def test_content_none_and_missing_delta_yield_nothing():
    lines = [
        'data: {"choices":[{"delta":{"content":null},"finish_reason":null}]}',
        "",
        'data: {"choices":[{"finish_reason":null}]}',
        "",
        "data: [DONE]",
        "",
    ]
    assert openai_stream(lines) == [CUT]  # no text, and no word that the reply was finished


def test_error_mid_stream_after_partial_reply():
    lines = [
        "data: " + chunk("Partial"),
        "",
        'data: {"error":{"message":"CUDA out of memory","type":"server_error"}}',
        "",
        "data: " + chunk("never"),
        "",
    ]
    deltas = openai_deltas(json_events(parse_sse(lines)))
    assert next(deltas) == Delta("Partial")
    with pytest.raises(BackendError, match="The server stopped with an error: CUDA out of memory"):
        next(deltas)


def test_a_stream_that_stops_without_done_or_finish_reason_was_cut():
    lines = ["data: " + chunk("Hel"), "", "data: " + chunk("lo")]
    deltas = openai_deltas(json_events(parse_sse(lines)))
    assert [next(deltas), next(deltas)] == [Delta("Hel"), Delta("lo")]  # what came is kept
    with pytest.raises(IncompleteStreamError, match="before the reply was complete"):
        next(deltas)


def test_a_finish_reason_without_done_is_complete():
    # transformers serve ends this way
    lines = ["data: " + chunk("Hi"), "", "data: " + chunk("", finish_reason="stop"), ""]
    assert openai_stream(lines) == [Delta("Hi"), Delta("", "stop")]


def test_a_tgi_stream_cut_before_its_final_event_says_so():
    with pytest.raises(IncompleteStreamError):
        tgi_stream([tgi_event(" Hi"), "", tgi_event(" there"), ""])


def test_a_piece_whose_content_is_not_text_is_a_clear_error():
    with pytest.raises(BadResponseError, match="not text: int"):
        openai_stream(['data: {"choices":[{"delta":{"content":7}}]}', ""])


def test_json_nested_too_deeply_is_a_bad_response_not_a_crash():
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(BadResponseError, match="not JSON"):
        list(json_events(parse_sse(["data: " + deep, ""])))


def test_crlf_stream():
    lines = ["data: " + chunk("a") + "\r", "\r", "data: [DONE]\r", "\r"]
    assert openai_stream(lines) == [Delta("a"), CUT]


def test_data_that_is_not_json_is_a_bad_response():
    with pytest.raises(BadResponseError, match="not JSON: <html>"):
        list(json_events(parse_sse(["data: <html>", ""])))


def test_error_event_with_plain_text_data():
    with pytest.raises(BackendError, match="The server stopped with an error: overloaded"):
        list(json_events(parse_sse(["event: error", "data: overloaded", ""])))


def test_multi_line_json_payload():
    events = list(json_events(parse_sse(['data: {"a":', "data: 1}", ""])))
    assert events == [{"a": 1}]


# --- TGI streams -------------------------------------------------------------------------------


def tgi_event(text, *, special=False, generated_text=None, finish_reason=None):
    details = None if finish_reason is None else {"finish_reason": finish_reason}
    token = {"id": 1, "text": text, "logprob": -0.1, "special": special}
    return "data:" + json.dumps(
        {"index": 1, "token": token, "generated_text": generated_text, "details": details}
    )


def test_tgi_stream_skips_special_tokens_and_final_duplicate():
    lines = [
        tgi_event(" Hello"),
        "",
        tgi_event(" world"),
        "",
        tgi_event("</s>", special=True, generated_text="Hello world", finish_reason="eos_token"),
        "",
    ]
    assert tgi_stream(lines) == [Delta(" Hello"), Delta(" world"), Delta("", "eos_token")]


def test_tgi_last_token_carries_finish_reason():
    lines = [tgi_event(" Hi"), "", tgi_event("!", generated_text="Hi!", finish_reason="length")]
    assert tgi_stream(lines) == [Delta(" Hi"), Delta("!", "length")]


def test_tgi_error_event_mid_stream():
    lines = [
        tgi_event(" Hi"),
        "",
        'data:{"error":"Request failed during generation: OOM","error_type":"generation"}',
        "",
    ]
    deltas = tgi_deltas(json_events(parse_sse(lines)))
    assert next(deltas) == Delta(" Hi")
    with pytest.raises(BackendError, match="stopped with an error: Request failed during"):
        next(deltas)


def test_tgi_validation_error_in_stream():
    lines = ['data:{"error":"`top_p` must be > 0.0 and < 1.0","error_type":"validation"}', ""]
    with pytest.raises(ValidationError, match="rejected a setting: `top_p` must be"):
        tgi_stream(lines)


def test_an_empty_data_buffer_is_no_event():
    # `data:` alone, then a blank line: the spec dispatches nothing; a keep-alive of some proxies.
    assert [e.data for e in parse_sse(["data:", "", "data: a", ""])] == ["a"]
