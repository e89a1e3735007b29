"""History, context budget, parameter mapping, stop trimming and timing."""

from dataclasses import dataclass, field

import pytest

from studio.backends.openai_chat import openai_body
from studio.backends.tgi import tgi_parameters, trim_stops
from studio.chat.history import text_only
from studio.chat.pacing import ReplyBuffer
from studio.chat.stats import ReplyStats
from studio.errors import InputError
from studio.tasks.chat import (
    ChatSettings,
    Delta,
    build_messages,
    content_text,
    error_note,
    normalise_history,
)


def user(content):
    return {"role": "user", "content": content}


def assistant(content):
    return {"role": "assistant", "content": content}


# --- normalise_history -------------------------------------------------------------------------


def test_history_none_and_empty():
    assert normalise_history(None) == []
    assert normalise_history([]) == []


def test_history_with_str_content_and_extra_keys():
    history = [
        {"role": "user", "content": " Hi ", "metadata": None, "options": None},
        {"role": "assistant", "content": "Hello!", "metadata": {}, "options": []},
    ]
    assert normalise_history(history) == [user("Hi"), assistant("Hello!")]


def test_history_with_lists_of_parts():
    history = [
        user([{"type": "text", "text": "Look"}, {"text": "at this"}, "please"]),
        assistant([{"type": "text", "text": "Sure."}]),
    ]
    assert normalise_history(history) == [user("Look\nat this\nplease"), assistant("Sure.")]


def test_file_parts_are_dropped_and_file_only_messages_vanish():
    file_part = {"type": "file", "file": {"path": "cat.png", "mime_type": "image/png"}}
    history = [
        user([file_part]),
        user([file_part, {"type": "text", "text": "What is it?"}]),
        user({"path": "cat.png"}),
        assistant([{"type": "text", "text": "A cat."}]),
    ]
    assert normalise_history(history) == [user("What is it?"), assistant("A cat.")]


def test_empty_messages_and_other_roles_are_dropped():
    history = [
        user(""),
        user(None),
        user("   "),
        assistant([]),
        {"role": "system", "content": "old system prompt"},
        user("Hi"),
    ]
    assert normalise_history(history) == [user("Hi")]


def test_error_notes_and_thinking_are_dropped():
    history = [
        user("Hi"),
        error_note("The server stopped with an error: OOM"),
        {"role": "assistant", "content": "x", "metadata": {"title": " ⚠ Failed"}},
        {"role": "assistant", "content": "Thinking…", "metadata": {"title": "Reasoning"}},
        assistant("<think>hmm</think>\n\nHello"),
    ]
    assert normalise_history(history) == [user("Hi"), assistant("Hello")]


def test_a_reply_goes_back_exactly_as_the_model_wrote_it():
    """A leading space is a token of its own to llama.cpp's tokenizers: stripped, the prompt
    changes. The person's own message is still tidied, and thinking still taken out."""
    history = [
        user(" Hi "),
        assistant(" Hello there\n"),
        user("More"),
        assistant([{"type": "text", "text": " Sure."}]),
        user("And?"),
        assistant(" <think>hmm</think>\n\n Fine"),
    ]
    assert normalise_history(history) == [
        user("Hi"),
        assistant(" Hello there\n"),
        user("More"),
        assistant(" Sure."),
        user("And?"),
        assistant("Fine"),
    ]


def test_chat_message_objects_are_read_too():
    @dataclass
    class ChatMessage:  # the shape of gr.ChatMessage
        content: object
        role: str = "assistant"
        metadata: dict = field(default_factory=dict)

    history = [ChatMessage("Hello", role="user"), ChatMessage("Hi!")]
    assert normalise_history(history) == [user("Hello"), assistant("Hi!")]


def test_content_text_of_multimodal_textbox_value():
    assert content_text({"text": "Describe", "files": ["cat.png"]}) == "Describe"


def test_a_history_as_the_page_sends_it_is_taken_when_it_is_text():
    sent = [
        user([{"type": "text", "text": "Hi"}]),
        {**assistant([{"type": "text", "text": "Hello"}]), "metadata": None, "options": None},
        error_note("The server did not answer."),
    ]
    assert text_only(sent) is sent
    assert text_only(None) == []


@pytest.mark.parametrize(
    "part",
    [
        {"type": "file", "file": {"path": "notes.txt"}},
        {"type": "component", "component": "file", "value": {"path": "notes.txt"}},
        {"type": "text", "text": {"path": "notes.txt"}},
        {"path": "notes.txt"},
    ],
)
def test_a_history_with_any_other_part_is_refused(part):
    with pytest.raises(InputError, match="this chat did not make"):
        text_only([user([{"type": "text", "text": "Look"}]), assistant([part])])
    with pytest.raises(InputError, match="this chat did not make"):
        text_only({"role": "user", "content": "not a list of messages"})


# --- build_messages ----------------------------------------------------------------------------

HISTORY = [user("aaaa"), assistant("bbbb"), user("cccc"), assistant("dddd")]


def test_system_history_and_new_message_in_order():
    messages = build_messages("Be brief.", HISTORY, "eeee", budget_chars=1000)
    assert messages == [
        {"role": "system", "content": "Be brief."},
        *HISTORY,
        user("eeee"),
    ]


def test_no_system_message_when_system_prompt_is_blank():
    assert build_messages("  ", [], "Hi", budget_chars=100) == [user("Hi")]
    assert build_messages(None, None, "Hi", budget_chars=100) == [user("Hi")]


def test_oldest_turns_are_dropped_first():
    # system 2 + new 4 leaves room for one 8-character turn, not two.
    messages = build_messages("SS", HISTORY, "eeee", budget_chars=2 + 4 + 8 + 7)
    assert messages == [
        {"role": "system", "content": "SS"},
        user("cccc"),
        assistant("dddd"),
        user("eeee"),
    ]


def test_history_exactly_at_budget_is_kept():
    messages = build_messages("", HISTORY, "eeee", budget_chars=4 + 16)
    assert messages == [*HISTORY, user("eeee")]


def test_all_history_dropped_when_only_the_new_message_fits():
    assert build_messages("SS", HISTORY, "eeee", budget_chars=6) == [
        {"role": "system", "content": "SS"},
        user("eeee"),
    ]


def test_over_budget_new_message_says_how_long_it_may_be():
    with pytest.raises(InputError, match="Your message is 1,200 characters; it may be at most 990"):
        build_messages("0123456789", [], "x" * 1200, budget_chars=1000)


def test_system_prompt_over_budget():
    with pytest.raises(InputError, match="shorten the system prompt"):
        build_messages("x" * 50, [], "Hi", budget_chars=40)


def test_empty_new_message():
    with pytest.raises(InputError, match="Type a message"):
        build_messages("", HISTORY, "  ", budget_chars=100)


def test_new_message_may_be_multimodal_value():
    assert build_messages("", [], {"text": "Hi", "files": []}, budget_chars=100) == [user("Hi")]


def test_unanswered_user_message_is_dropped_so_turns_alternate():
    history = [user("Hi"), error_note("failed"), user("Hi again"), assistant("Hello")]
    assert build_messages("", history, "Bye", budget_chars=100) == [
        user("Hi again"),
        assistant("Hello"),
        user("Bye"),
    ]
    # A failed last turn: the person is asking again.
    assert build_messages("", [user("Hi"), error_note("failed")], "Hi", budget_chars=100) == [
        user("Hi")
    ]


def test_greeting_dropped_and_split_reply_joined():
    history = [assistant("Welcome!"), user("Hi"), assistant("Hello."), assistant("How can I help?")]
    assert build_messages("", history, "Bye", budget_chars=100) == [
        user("Hi"),
        assistant("Hello.\n\nHow can I help?"),
        user("Bye"),
    ]


# --- settings and parameters --------------------------------------------------------------------


def test_tgi_parameters_defaults():
    assert tgi_parameters(ChatSettings(), ["</s>"]) == {
        "max_new_tokens": 512,
        "details": True,
        "return_full_text": False,
        "do_sample": True,
        "temperature": 0.7,
        "top_p": 0.95,
        "stop": ["</s>"],
    }


def test_tgi_temperature_zero_is_greedy_without_temperature_or_top_p():
    parameters = tgi_parameters(ChatSettings(temperature=0, top_p=0.9), [])
    assert parameters["do_sample"] is False
    assert "temperature" not in parameters
    assert "top_p" not in parameters
    assert "stop" not in parameters


@pytest.mark.parametrize("top_p", [1.0, 1.5, 0.0, -0.1])
def test_tgi_top_p_out_of_range_is_omitted(top_p):
    assert "top_p" not in tgi_parameters(ChatSettings(top_p=top_p), [])


def test_tgi_stops_truncated_to_four_deduplicated():
    stops = ["\nUser:", "<|endoftext|>", "", "\nUser:", "a", "b", "c"]
    assert tgi_parameters(ChatSettings(), stops)["stop"] == ["\nUser:", "<|endoftext|>", "a", "b"]


def test_tgi_repetition_penalty_and_seed():
    assert "repetition_penalty" not in tgi_parameters(ChatSettings(repetition_penalty=1.0), [])
    parameters = tgi_parameters(ChatSettings(repetition_penalty=1.2, seed=42.0), [])
    assert parameters["repetition_penalty"] == 1.2
    assert parameters["seed"] == 42 and isinstance(parameters["seed"], int)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"temperature": -0.1}, "Temperature"),
        ({"max_new_tokens": 0}, "Max new tokens"),
        ({"repetition_penalty": 0}, "Repetition penalty"),
        ({"seed": -1}, "Seed"),
    ],
)
def test_settings_out_of_range(settings, message):
    with pytest.raises(InputError, match=message):
        ChatSettings(**settings)


def test_openai_body_plain():
    messages = [user("Hi")]
    body, notes = openai_body(ChatSettings(seed=7), "org/model", messages, penalty_as=None)
    assert body == {
        "model": "org/model",
        "messages": messages,
        "stream": True,
        "max_tokens": 512,
        "temperature": 0.7,
        "top_p": 0.95,
        "seed": 7,
    }
    assert notes == []


def test_openai_body_sends_repetition_penalty_when_the_server_takes_it():
    body, notes = openai_body(
        ChatSettings(repetition_penalty=1.2), "m", [user("Hi")], penalty_as="repetition_penalty"
    )
    assert body["repetition_penalty"] == 1.2
    assert notes == [
        (
            "Repetition penalty 1.2 is not part of the OpenAI API; sent as repetition_penalty, "
            "which vLLM and TGI accept."
        )
    ]


def test_openai_body_sends_frequency_penalty_to_a_server_that_reads_it_as_repetition():
    body, notes = openai_body(
        ChatSettings(repetition_penalty=1.3), "m", [user("Hi")], penalty_as="frequency_penalty"
    )
    assert "repetition_penalty" not in body
    assert body["frequency_penalty"] == 0.3  # transformers serve: 1 + 0.3
    assert notes == [
        "Repetition penalty 1.3 was sent as frequency_penalty 0.3: this server refuses "
        "repetition_penalty and reads frequency_penalty as a repetition penalty of 1 + value "
        "(transformers serve)."
    ]


def test_openai_body_drops_repetition_penalty_and_says_so():
    body, notes = openai_body(
        ChatSettings(repetition_penalty=1.2),
        "m",
        [user("Hi")],
        stream=False,
        penalty_as=None,
    )
    assert "repetition_penalty" not in body
    assert body["stream"] is False
    assert notes == ["Repetition penalty 1.2 was not sent: this server's API has no such setting."]


def test_openai_body_temperature_zero_and_top_p_edges():
    body, notes = openai_body(
        ChatSettings(temperature=0, top_p=1.0), "m", [user("Hi")], penalty_as="repetition_penalty"
    )
    assert body["temperature"] == 0
    assert "top_p" not in body  # 1.0 is every server's default, and TGI rejects it
    assert notes == []
    body, notes = openai_body(
        ChatSettings(top_p=0), "m", [user("Hi")], penalty_as="repetition_penalty"
    )
    assert "top_p" not in body
    assert notes == ["Top-p 0 must be above 0; the server's default was used."]


# --- trim_stops --------------------------------------------------------------------------------


def trimmed(texts, stops, **options):
    return list(trim_stops([Delta(text) for text in texts], stops, **options))


def test_stop_split_across_two_deltas():
    deltas = trimmed([" Fine", ", thanks.", "\nUs", "er:", " And you?"], ["\nUser:"])
    assert deltas == [Delta("Fine"), Delta(", thanks."), Delta("", "stop_sequence")]


def test_held_text_that_is_not_a_stop_is_released():
    deltas = trimmed(["Dear", "\nUs", "ual"], ["\nUser:"])
    assert deltas == [Delta("Dear"), Delta("\nUsual")]


def test_held_text_flushed_at_end_of_stream():
    assert trimmed(["Hi", "\nU"], ["\nUser:"]) == [Delta("Hi"), Delta("\nU")]


def test_stop_inside_one_delta_keeps_text_before_it():
    assert trimmed(["Yes.<|im_end|>junk"], ["<|im_end|>"]) == [Delta("Yes.", "stop_sequence")]


def test_earliest_of_several_stops_wins():
    deltas = trimmed(["a<|endoftext|>b\nUser:"], ["\nUser:", "<|endoftext|>"])
    assert deltas == [Delta("a", "stop_sequence")]


def test_stop_spread_over_many_deltas():
    deltas = trimmed(["ok", "<", "|", "eot", "_id", "|>", "more"], ["<|eot_id|>"])
    assert deltas == [Delta("ok"), Delta("", "stop_sequence")]


def test_leading_space_of_first_token_is_dropped_once():
    assert trimmed([" Hello", " world"], []) == [Delta("Hello"), Delta(" world")]
    assert trimmed([" Hello"], [], drop_leading_space=False) == [Delta(" Hello")]


def test_finish_reason_flushes_held_text():
    deltas = list(trim_stops([Delta("Hi"), Delta("\nUs", "length")], ["\nUser:"]))
    assert deltas == [Delta("Hi"), Delta("\nUs", "length")]


def test_finish_reason_alone_is_passed_through_and_no_empty_deltas():
    deltas = list(trim_stops([Delta(""), Delta(" "), Delta("Hi"), Delta("", "eos_token")], []))
    assert deltas == [Delta("Hi"), Delta("", "eos_token")]


def test_upstream_is_closed_when_a_stop_ends_the_reply():
    closed = []

    def server():
        try:
            yield Delta("Done.")
            yield Delta("</s>")
            yield Delta("never read")
        finally:
            closed.append(True)

    assert list(trim_stops(server(), ["</s>"])) == [Delta("Done."), Delta("", "stop_sequence")]
    assert closed == [True]


# --- ReplyStats --------------------------------------------------------------------------------


def fake_clock(*times):
    ticks = iter(times)
    return lambda: next(ticks)


def test_stats_summary():
    stats = ReplyStats(clock=fake_clock(10.0, 10.42, 10.5, 10.6, 10.62))
    for delta in [Delta("a"), Delta("b"), Delta("c"), Delta(""), Delta("d", "length")]:
        stats.add(delta)
    assert stats.tokens == 4
    assert stats.time_to_first_token == pytest.approx(0.42)
    assert stats.tokens_per_second == pytest.approx(3 / 0.2)
    assert stats.finish_reason == "length"
    assert stats.summary() == "first token 0.42 s · 15.0 tok/s · finished: length"


def test_stats_before_any_text():
    stats = ReplyStats(clock=fake_clock(0.0))
    stats.add(Delta("", "stop"))
    assert stats.time_to_first_token is None
    assert stats.tokens_per_second is None
    assert stats.summary() == "no text received · finished: stop"


def test_stats_one_token_has_no_rate():
    stats = ReplyStats(clock=fake_clock(1.0, 1.5))
    stats.add(Delta("Hi"))
    assert stats.summary() == "first token 0.50 s"


def test_the_deltas_a_reply_gathers_are_counted_as_they_pass():
    reply = ReplyBuffer(clock=fake_clock(0.0, 1.0, 2.0, 3.0))  # as the stream's thread fills it
    deltas = [Delta("a"), Delta("b", "stop")]
    for delta in deltas:
        reply.add(delta)
    update = reply.take()
    assert update.text == "".join(delta.text for delta in deltas)
    assert update.stats.summary() == "first token 1.00 s · 1.0 tok/s · finished: stop"
