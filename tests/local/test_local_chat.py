"""stream_chat on a tiny Qwen2: chunk shapes, finish reasons, stop strings, cancel."""

from __future__ import annotations

import json
import threading
import time

import pytest

import studio.local as local
from studio.errors import InputError

HELLO = [{"role": "user", "content": "hello"}]
STOP_BOUND = 5.0  # seconds: a cancel ends generation at once, with slack for a loaded machine


def chat(tiny, model: str = "chat", cancel: threading.Event | None = None, **body) -> list[dict]:
    request = {"messages": HELLO, "temperature": 0, **body}
    return list(local.stream_chat(tiny[model], request, cancel or threading.Event()))


def text_of(chunks: list[dict]) -> str:
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)


def chat_threads_alive() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "studio-local-chat" and t.is_alive()]


def wait_for_chat_threads(seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while chat_threads_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    return not chat_threads_alive()


def test_chunks_are_openai_stream_chunks(tiny):
    chunks = chat(tiny, max_tokens=6)
    json.dumps(chunks)
    for item in chunks:
        assert item["object"] == "chat.completion.chunk"
        assert len(item["choices"]) == 1 and item["choices"][0]["index"] == 0
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks[:-1])
    assert chunks[-1]["choices"][0]["delta"] == {}
    assert len({c["id"] for c in chunks}) == 1


def test_running_out_of_tokens_finishes_with_length(tiny):
    from transformers import AutoTokenizer

    chunks = chat(tiny, max_tokens=9)
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"
    tokenizer = AutoTokenizer.from_pretrained(tiny["chat"])
    assert len(tokenizer(text_of(chunks), add_special_tokens=False)["input_ids"]) == 9


def test_the_model_ending_its_turn_finishes_with_stop(tiny):
    chunks = chat(tiny, model="silent", max_tokens=50)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert text_of(chunks) == ""


def test_greedy_answers_repeat_and_more_tokens_extend_them(tiny):
    short = text_of(chat(tiny, max_tokens=5))
    assert short == text_of(chat(tiny, max_tokens=5))
    assert text_of(chat(tiny, max_tokens=12)).startswith(short)


def test_a_stop_string_ends_the_answer_before_it(tiny):
    full = text_of(chat(tiny, max_tokens=20))
    stop = full.split()[3]
    expected = full[: full.index(stop)]
    chunks = chat(tiny, max_tokens=20, stop=["never said", stop])
    assert text_of(chunks) == expected
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert wait_for_chat_threads(1.0)


def test_cancel_stops_generation_after_the_piece_in_flight(tiny):
    cancel = threading.Event()
    stream = local.stream_chat(
        tiny["chat"], {"messages": HELLO, "max_tokens": 100_000, "temperature": 0}, cancel
    )
    pieces = 0
    for item in stream:
        pieces += bool(item["choices"][0]["delta"].get("content"))
        if pieces == 5:
            break
    cancelled_at = time.perf_counter()
    cancel.set()
    rest = list(stream)
    elapsed = time.perf_counter() - cancelled_at
    assert elapsed < STOP_BOUND
    assert len(rest) <= 3  # at most a piece in flight, then the last chunk: what proves it
    assert rest[-1]["choices"][0]["finish_reason"] == "stop"
    assert wait_for_chat_threads(STOP_BOUND), "generation went on after cancel"


def test_a_reader_that_goes_away_ends_generation(tiny):
    stream = local.stream_chat(
        tiny["chat"], {"messages": HELLO, "max_tokens": 100_000}, threading.Event()
    )
    for _ in range(4):
        next(stream)
    stream.close()
    assert wait_for_chat_threads(1.0)


def test_two_conversations_at_once(tiny):
    answers: dict[int, str] = {}

    def talk(number: int) -> None:
        answers[number] = text_of(chat(tiny, max_tokens=8))

    threads = [threading.Thread(target=talk, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert answers[0] == answers[1] == text_of(chat(tiny, max_tokens=8))


def test_content_parts_and_system_messages_are_accepted(tiny):
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "hello"}]},
        {"role": "assistant", "content": "hi"},
        {"role": "user", "content": "and again"},
    ]
    chunks = chat(tiny, messages=messages, max_tokens=4)
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"


def test_a_seed_makes_sampling_repeatable(tiny):
    sampled = {"temperature": 1.0, "top_p": 0.95, "max_tokens": 12}
    first = text_of(chat(tiny, seed=5, **sampled))
    assert first == text_of(chat(tiny, seed=5, **sampled))
    assert first != text_of(chat(tiny, seed=6, **sampled))


@pytest.mark.parametrize(
    "body",
    [
        {"messages": []},
        {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]},
        {"messages": HELLO, "max_tokens": 0},
    ],
)
def test_unusable_requests_are_input_errors(tiny, body):
    with pytest.raises(InputError):
        list(local.stream_chat(tiny["chat"], body, threading.Event()))


# ---- the pure helpers ----


@pytest.mark.parametrize(
    ("text", "stops", "expected"),
    [
        ("hello world", [], ("hello world", "", False)),
        ("hello\nUser: hi", ["\nUser:"], ("hello", "", True)),
        ("hello\nUs", ["\nUser:"], ("hello", "\nUs", False)),
        ("a</s>b<|im_end|>", ["<|im_end|>", "</s>"], ("a", "", True)),
        ("abc<", ["<|x|>", "c<|"], ("ab", "c<", False)),
    ],
)
def test_split_at_stop(text, stops, expected):
    from studio.local.chat import split_at_stop

    assert split_at_stop(text, stops) == expected


def test_generate_options_map_the_openai_fields():
    from studio.local.chat import generate_options

    assert generate_options({"temperature": 0, "top_p": 0.5}) == {
        "max_new_tokens": 512,
        "do_sample": False,
    }
    assert generate_options({"max_tokens": 40, "temperature": 0.7, "top_p": 0.9}) == {
        "max_new_tokens": 40,
        "do_sample": True,
        "temperature": 0.7,
        "top_p": 0.9,
    }
    assert generate_options({"max_completion_tokens": 9, "repetition_penalty": 1.1}) == {
        "max_new_tokens": 9,
        "repetition_penalty": 1.1,
    }


def test_fold_system_moves_it_into_the_first_user_turn():
    from studio.local.chat import fold_system

    folded = fold_system([{"role": "system", "content": "S"}, {"role": "user", "content": "U"}])
    assert folded == [{"role": "user", "content": "S\n\nU"}]
