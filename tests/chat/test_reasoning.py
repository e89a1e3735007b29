"""A reasoning model's thinking, told apart from its answer as it streams: the three spellings
(studio.backends.chat_shapes reads two fields, studio.tasks.thinking the inline tags), the
buffer and the stats that time the answer apart from the thinking (studio.chat.pacing,
studio.chat.stats), and the messages the chat shows (studio.chat.reasoning)."""

from __future__ import annotations

import pytest

from studio.backends.chat_shapes import openai_deltas
from studio.chat.pacing import ReplyBuffer
from studio.chat.reasoning import CUT_WHILE_THINKING, ending_notes, reply_messages
from studio.chat.stats import ReplyStats
from studio.errors import InputError
from studio.tasks.chat import ChatSettings, Delta, normalise_history
from studio.tasks.thinking import InlineThinking, without_thinking
from tests.chat.test_pacing import Clock


def split(pieces: list[str]) -> tuple[str, str]:
    """(thinking, answer) of a reply streamed in `pieces`."""
    inline, thinking, answer = InlineThinking(), "", ""
    for piece in [*pieces, None]:
        parts = inline.feed(piece) if piece is not None else inline.flush()
        for kind, text in parts:
            if kind == "moved":
                thinking, answer = thinking + answer, ""
            elif kind == "thinking":
                thinking += text
            else:
                answer += text
    return thinking, answer


@pytest.mark.parametrize(
    "pieces",
    [
        ["<think>", "\nLet me see.", "\n", "</think>", "\n\n", "Hello", " there"],
        ["<thi", "nk>Let me see.</th", "ink>\n\nHello there"],  # tags cut across pieces
        ["  <think>Let me see.</think>Hello there"],  # one piece, blank before the tag
        ["Let me", " see.", "\n</think>\n\n", "Hello there"],  # the prompt opened <think>
        ["Let me see.</", "think>Hello", " there"],
    ],
)
def test_inline_thinking_is_told_apart_however_it_is_cut(pieces):
    thinking, answer = split(pieces)
    assert (thinking.strip(), answer) == ("Let me see.", "Hello there")


def test_a_reply_without_tags_is_all_answer_even_with_a_lone_angle_bracket():
    assert split(["Hello", " <b>", "</", "b> x < y"]) == ("", "Hello <b></b> x < y")
    assert split(["<", "3 you"]) == ("", "<3 you")


def test_a_think_tag_in_the_middle_of_an_answer_stays_text():
    assert split(["Use ", "<think>", " tags"]) == ("", "Use <think> tags")


def test_a_reply_cut_while_thinking_has_no_answer():
    assert split(["<think>", "Still going"]) == ("Still going", "")


def raw_lines(field: str) -> list[dict]:
    def chunk(delta: dict, finish=None) -> dict:
        return {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    return [
        chunk({"role": "assistant", "content": ""}),
        chunk({field: "Let me"}),
        chunk({field: " see.", "content": None}),
        chunk({"content": "Hello"}),
        {"choices": [], "usage": {"completion_tokens": 3}},
        chunk({}, "stop"),
    ]


@pytest.mark.parametrize("field", ["reasoning", "reasoning_content"])
def test_both_reasoning_fields_come_apart_from_the_text(field):
    deltas = list(openai_deltas(raw_lines(field)))
    assert "".join(d.reasoning for d in deltas) == "Let me see."
    assert "".join(d.text for d in deltas) == "Hello"


def test_reasoning_is_read_before_reasoning_content():
    event = {"choices": [{"delta": {"reasoning": "a", "reasoning_content": "b"}}]}
    first, last = openai_deltas(iter([event, {"choices": [{"finish_reason": "stop"}]}]))
    assert (first.reasoning, last.finish_reason) == ("a", "stop")


def test_the_first_token_is_the_answers_and_the_thinking_is_timed_beside_it():
    clock = Clock(100.0)
    reply = ReplyBuffer(0.04, clock)
    for delta, at in [(Delta("<think>Hm"), 101.0), (Delta(" yes</think>"), 102.5)]:
        clock.now = at
        reply.add(delta)
    clock.now = 103.0
    reply.add(Delta("\n\nHi"))
    clock.now = 103.5
    reply.add(Delta(" all", "stop"))
    reply.end()
    update = reply.take()
    assert (update.thinking, update.text, update.final) == ("Hm yes", "Hi all", True)
    stats = update.stats
    assert (stats.time_to_first_token, stats.thinking_seconds) == (3.0, 2.5)
    assert (stats.tokens, stats.thinking_tokens) == (4, 2)
    assert stats.summary().startswith("thinking 2.50 s, 2 tokens · first token 3.00 s")


def test_a_lone_close_tag_moves_the_answer_so_far_into_the_thinking_and_its_timing():
    clock = Clock(0.0)
    reply = ReplyBuffer(0.04, clock)
    clock.now = 1.0
    reply.add(Delta("Let me see"))
    assert reply.take().text == "Let me see", "shown as the answer until the tag says otherwise"
    assert reply.take().stats.time_to_first_token == 1.0
    clock.now = 2.0
    reply.add(Delta(".</think>"))
    clock.now = 4.0
    reply.add(Delta("Hello"))
    update = reply.take()
    assert (update.thinking, update.text) == ("Let me see.", "Hello")
    assert update.stats.time_to_first_token == 4.0
    assert update.stats.thinking_seconds == 2.0


def test_the_thinking_message_is_pending_then_done_with_its_seconds_and_tokens():
    stats = ReplyStats(Clock(0.0))
    stats.add(Delta("", reasoning="Hm"), set())
    pending = reply_messages("Hm", "", stats, over=False)
    assert pending == [
        {
            "role": "assistant",
            "content": "Hm",
            "metadata": {"title": "Thinking · 1 token", "status": "pending"},
        }
    ]
    thinking, answer = reply_messages("Hm", "Hi", stats, over=False)
    assert thinking["metadata"] == {"title": "Thinking · 1 token", "status": "done", "duration": 0}
    assert answer == {"role": "assistant", "content": "Hi"}
    assert reply_messages("", "Hi", stats, over=True) == [answer], "no thinking, no message"


def test_the_thinking_is_never_sent_back():
    stats = ReplyStats(Clock(0.0))
    stats.add(Delta("", reasoning="secret plan"), set())
    chat = [
        {"role": "user", "content": "Hi"},
        *reply_messages("secret plan", "Hello", stats, over=True),
        {"role": "user", "content": "Again"},
        {"role": "assistant", "content": "Let me see</think>Sure"},  # the template opened it
    ]
    sent = normalise_history(chat)
    assert "secret" not in str(sent) and "Let me see" not in str(sent)
    assert [m["content"] for m in sent] == ["Hi", "Hello", "Again", "Sure"]
    assert without_thinking("<think>a</think>\n\nB <think>c") == "B"


def test_a_reply_cut_while_thinking_says_to_retry():
    stats = ReplyStats(Clock(0.0))
    stats.add(Delta("", "length", reasoning="Hm"), set())
    assert ending_notes(stats, "", tokens=0, asked_probabilities=False) == CUT_WHILE_THINKING
    assert ending_notes(stats, "Hi", tokens=0, asked_probabilities=False) == ""


@pytest.mark.parametrize("given", ["", None, "off", "LOW", " high "])
def test_the_thinking_setting_reads_what_the_page_and_the_api_give(given):
    settings = ChatSettings.from_controls(0.7, 0.95, 64, 1.0, None, given)
    assert settings.thinking == (given or "").strip().lower()


def test_a_thinking_setting_not_known_is_named():
    with pytest.raises(InputError, match="Thinking must be empty"):
        ChatSettings.from_controls(0.7, 0.95, 64, 1.0, None, "max")
