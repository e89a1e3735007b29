"""Going on with a cut reply and asking again after an edit: the messages, the prompts and the
requests each backend builds for them, and the text joined."""

from __future__ import annotations

import pytest

from studio.backends.registry import chat_request
from studio.chat.history import history_edited
from studio.errors import InputError
from studio.tasks.chat import ChatSettings, error_note
from studio.tasks.continue_reply import (
    CONTINUE_INSTRUCTION,
    continue_messages,
    continued_text,
)
from studio.tasks.templates import get_template
from tests.conftest import make_endpoint

CUT = [
    {"role": "user", "content": "Tell me a story"},
    {"role": "assistant", "content": "Once upon a"},
]


def test_the_messages_end_with_the_reply_so_far():
    messages = continue_messages("Be kind.", CUT, budget_chars=1000)
    assert messages == [{"role": "system", "content": "Be kind."}, *CUT]


def test_there_is_nothing_to_continue_without_a_reply():
    with pytest.raises(InputError, match="no reply to continue"):
        continue_messages("", CUT[:1], budget_chars=1000)
    with pytest.raises(InputError, match="no reply to continue"):
        continue_messages("", [*CUT[:1], error_note("failed")], budget_chars=1000)


@pytest.mark.parametrize(
    ("template", "ending"),
    [
        ("falcon", "User: Tell me a story\nAssistant: Once upon a"),
        ("mistral", "[INST] Tell me a story [/INST] Once upon a"),
        ("chatml", "<|im_start|>assistant\nOnce upon a"),
        ("llama3", "<|start_header_id|>assistant<|end_header_id|>\n\nOnce upon a"),
        ("zephyr", "<|assistant|>\nOnce upon a"),
    ],
)
def test_a_raw_prompt_ends_inside_the_reply(template, ending):
    assert get_template(template).render(CUT).endswith(ending)


def test_tgi_continues_the_open_prompt_and_chat_completions_ask_for_it():
    tgi = make_endpoint("http://127.0.0.1:9", task="chat", protocol="tgi", template="falcon")
    request = chat_request(tgi, CUT, ChatSettings())
    assert request.continues_exactly and request.shown() == (request.body["inputs"], None)
    openai = make_endpoint("http://127.0.0.1:9/v1", task="chat", protocol="openai")
    request = chat_request(openai, CUT, ChatSettings())
    assert not request.continues_exactly
    assert request.body["messages"] == [*CUT, {"role": "user", "content": CONTINUE_INSTRUCTION}]
    text, language = request.shown()
    assert language == "json" and CONTINUE_INSTRUCTION in text


@pytest.mark.parametrize(
    ("partial", "more", "exact", "joined"),
    [
        ("Once upon a", " time", True, "Once upon a time"),
        ("Once upon a", "time", False, "Once upon a time"),
        ("Once upon a", ", then", False, "Once upon a, then"),
        ("Once upon a ", "time", False, "Once upon a time"),
        ("hel", "lo", True, "hello"),
    ],
)
def test_the_text_that_follows_is_joined(partial, more, exact, joined):
    assert continued_text(partial, more, exact=exact) == joined


def test_an_edit_drops_what_followed_the_edited_message():
    history = [*CUT, {"role": "user", "content": "Another"}, {"role": "assistant", "content": "x"}]
    assert history_edited(history, 0, "A short story") == [
        {"role": "user", "content": "A short story"}
    ]
    assert history_edited(history, 2, [{"type": "text", "text": "Again"}]) == [
        *CUT,
        {"role": "user", "content": "Again"},
    ]


def test_a_typed_seed_is_a_whole_number_or_nothing():
    assert ChatSettings.from_controls(0.7, 0.9, 64, 1.0, "").seed is None
    assert ChatSettings.from_controls(0.7, 0.9, 64, 1.0, " 42 ").seed == 42
    assert ChatSettings.from_controls(0.7, 0.9, 64, 1.0, 7.0).seed == 7
    with pytest.raises(InputError, match="Seed must be a whole number"):
        ChatSettings.from_controls(0.7, 0.9, 64, 1.0, "1.5")
    with pytest.raises(InputError, match="Seed must be a number"):
        ChatSettings.from_controls(0.7, 0.9, 64, 1.0, "abc")
