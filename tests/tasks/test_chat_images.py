"""Pictures in a chat's history: how they go out, what they cost of the budget, how the page's
copy is matched to the parts the chat made, and how a request with them is shown."""

from __future__ import annotations

import json

import pytest

from studio.backends.base import ChatRequest
from studio.chat.history import NOT_TEXT, history_edited, known_only
from studio.errors import InputError
from studio.tasks.chat import build_messages
from studio.tasks.chat_images import (
    IMAGE_CHARS,
    SENT,
    content_chars,
    has_pictures,
    message_content,
    picture_part,
    shortened,
    text_only_model,
)

URL = "data:image/jpeg;base64," + "A" * 5000
PICTURE = picture_part("/cache/chat-pictures/1.jpg", URL, "sky.png")


def asked(text: str, *parts: dict) -> dict:
    return {"role": "user", "content": [{"type": "text", "text": text}, *parts]}


def test_a_message_with_a_picture_goes_as_text_then_an_image_url():
    assert message_content("What is it?", asked("What is it?", PICTURE)["content"]) == [
        {"type": "text", "text": "What is it?"},
        {"type": "image_url", "image_url": {"url": URL}},
    ]
    assert message_content("Hi", "Hi") == "Hi"  # text alone stays a str
    assert message_content("", [PICTURE]) == [{"type": "image_url", "image_url": {"url": URL}}]


def test_a_picture_costs_a_fixed_share_of_the_budget_and_goes_again_each_turn():
    content = message_content("Look", [PICTURE])
    assert content_chars(content) == len("Look") + IMAGE_CHARS
    history = [asked("Look", PICTURE), {"role": "assistant", "content": "A sky."}]
    messages = build_messages("", history, "And now?", budget_chars=IMAGE_CHARS + 100)
    assert has_pictures(messages) and messages[0]["content"][1]["image_url"]["url"] == URL
    # Too little room for the picture's turn: it is dropped with the turn, never sent cut.
    messages = build_messages("", history, "And now?", budget_chars=200)
    assert messages == [{"role": "user", "content": "And now?"}] and not has_pictures(messages)


def test_the_pages_copy_is_matched_to_the_parts_the_chat_made():
    made = {PICTURE["file"]["path"]: PICTURE}
    as_shown = {k: v for k, v in PICTURE.items() if k != SENT}  # the page never has the URL
    [message] = known_only([asked("Look", as_shown)], made)
    assert message["content"][1] is PICTURE  # the chat's own part, not the page's
    text = [{"role": "user", "content": "Hi"}]
    assert known_only(text, made) is text  # nothing to put back: taken as sent
    forged = {**PICTURE, "file": {**PICTURE["file"], "path": "/etc/passwd"}}
    for history, chats in [
        ([asked("Look", forged)], made),  # a path this chat did not make
        ([asked("Look", PICTURE)], {}),  # another chat's picture
        ("not a list", made),
    ]:
        with pytest.raises(InputError, match=NOT_TEXT):
            known_only(history, chats)


def test_an_edit_changes_the_text_and_keeps_the_pictures():
    history = [asked("Look", PICTURE), {"role": "assistant", "content": "A sky."}]
    assert history_edited(history, 0, "Look closer") == [asked("Look closer", PICTURE)]


def test_a_text_only_model_is_named_with_up_to_two_that_take_images():
    said = text_only_model("org/text", ["org/a", "org/b", "org/c"])
    assert said.startswith("org/text takes text only") and "such as org/a or org/b," in said
    assert "such as" not in text_only_model("org/text")


def test_what_was_sent_is_shown_with_the_data_url_cut_short():
    messages = [{"role": "user", "content": message_content("Look", [PICTURE])}]
    request = ChatRequest("/v1/chat/completions", {"model": "m", "messages": messages})
    text, language = request.shown()
    assert language == "json" and URL not in text
    assert "data:image/jpeg;base64,… (5,023 characters)" in text
    assert json.loads(text)[0]["content"][0] == {"type": "text", "text": "Look"}
    assert shortened(["data:x", {"url": "https://example.org/a.png"}]) == [
        "data:x",
        {"url": "https://example.org/a.png"},
    ]
