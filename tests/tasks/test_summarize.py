"""Summarization logic: validation, splitting to fit the window, parameters, answers."""

from __future__ import annotations

import contextvars
import threading

import pytest

from studio.backends.task_api import build_request
from studio.config import load_config
from studio.errors import BadResponseError, InputError, PaymentRequiredError
from studio.tasks import summarize as task


def test_short_text_is_one_request_with_the_lengths():
    calls = []

    def complete(piece, parameters):
        calls.append((piece, parameters))
        return [{"summary_text": " A short summary. "}]

    result = task.summarize("Some text.", complete, min_length=5, max_length=40)
    assert result == task.Summary("A short summary.", 1)
    assert calls == [("Some text.", {"min_length": 5, "max_length": 40})]


def test_the_router_gets_lengths_nested_and_other_servers_at_the_top():
    lengths = task.parameters(None, 50)
    assert lengths == {"max_length": 50} and task.parameters(None, None) is None
    router = load_config({"HF_TOKEN": "hf_x"}).endpoint("summarize")
    own = load_config({"HF_API_SUMMARY_BASE": "http://127.0.0.1:9/x"}).endpoint("summarize")
    assert build_request(router, "text", lengths).json["parameters"] == {
        "generate_parameters": {"max_length": 50}
    }
    assert build_request(own, "text", lengths).json["parameters"] == {"max_length": 50}


def test_long_text_is_split_between_sentences_and_summarized_in_order():
    sentences = [f"Sentence number {i} says something about topic {i}." for i in range(300)]
    text = " ".join(sentences)  # 2,400 words
    pieces = task.split_text(text, words_per_piece=600)
    assert len(pieces) == 4
    assert all(len(p.split()) <= 600 for p in pieces)
    assert all(p.endswith(".") for p in pieces), "cut between sentences"
    assert " ".join(pieces) == text

    result = task.summarize(text, lambda piece, _: [{"summary_text": piece.split()[2]}])
    assert result.pieces == 4
    assert result.text.split("\n\n") == ["0", "75", "150", "225"]


def test_a_sentence_longer_than_a_piece_is_cut_by_words():
    text = " ".join(["word"] * 1500)
    assert [len(p.split()) for p in task.split_text(text, 600)] == [600, 600, 300]


@pytest.mark.parametrize(
    ("text", "min_length", "max_length", "says"),
    [
        ("", None, None, "Type or paste"),
        ("   ", None, None, "Type or paste"),
        ("text", 50, 10, "above maximum"),
        ("text", None, 5000, "between 1 and 1024"),
        ("word " * 12_001, None, None, "at most 12,000"),
    ],
)
def test_bad_input_is_refused_with_a_message(text, min_length, max_length, says):
    with pytest.raises(InputError, match=says):
        task.summarize(text, lambda *_: None, min_length=min_length, max_length=max_length)


@pytest.mark.parametrize("answer", [[{"summary_text": "ok"}], {"summary_text": "ok"}])
def test_answer_shapes(answer):
    assert task.summary_from_answer(answer) == "ok"


def test_an_answer_of_another_task_is_a_clear_error():
    with pytest.raises(BadResponseError, match="summarization"):
        task.summary_from_answer([{"generated_text": "hi"}])


LONG_TEXT = " ".join(f"Sentence number {i} says something about topic {i}." for i in range(1500))
PERSON = contextvars.ContextVar("person")


def test_each_piece_runs_in_the_callers_context():
    seen = []

    def complete(piece, _):
        seen.append(PERSON.get(None))  # what progress messages need to reach the person
        return [{"summary_text": "s"}]

    PERSON.set("ada")
    result = task.summarize(LONG_TEXT, complete)
    assert result.pieces == 20 and seen == ["ada"] * 20


def test_one_failed_piece_is_shown_at_once_and_the_rest_are_not_sent():
    calls, others_may_go, gave_up_waiting = [], threading.Event(), []

    def complete(piece, _):
        calls.append(piece)
        if piece == first:
            raise PaymentRequiredError("credits are used up")
        if not others_may_go.wait(30):  # only if summarize waits for this piece's answer
            gave_up_waiting.append(piece)
        return [{"summary_text": "s"}]

    first = task.split_text(LONG_TEXT)[0]
    with pytest.raises(PaymentRequiredError):
        task.summarize(LONG_TEXT, complete)
    # The pieces under way are still held up: summarize did not wait for their answers.
    assert gave_up_waiting == [], "the person waited for the pieces under way"
    others_may_go.set()
    # At most the pieces under way, and one more each worker may have taken before the cancel.
    assert len(calls) <= 2 * task.MAX_PARALLEL_PIECES < 20
