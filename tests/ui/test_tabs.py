"""Each tab's handlers, called as Gradio calls them, over the fake backend: what reaches the
backend, what the person sees, and how failures read. No app, no network."""

from __future__ import annotations

import asyncio
import io
import shutil

import gradio as gr
import pytest
from PIL import Image

from studio import errors
from studio.backends.registry import chat_request
from studio.chat.pacing import STREAMING
from studio.chat.stream import stream_reply
from studio.chat.turn import Turn, stream_turn
from studio.tasks.chat import ChatSettings, Delta
from studio.tasks.image_settings import read_parameters
from studio.ui import caption, entities, imagine, summarize
from studio.ui.chat.api import ChatApi
from tests.conftest import ROOT
from tests.stand_ins.fake_backend import fake_config


def png(color: str = "blue", size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def test_summarize_sends_the_text_and_lengths_and_shows_the_summary(fake_backend):
    fake_backend.answer([{"summary_text": " Short. "}])
    assert summarize.summarize(fake_config(), "A text to shorten.", 5, 40.0) == "Short."
    (call,) = fake_backend.calls
    assert (call.task, call.inputs, call.parameters) == (
        "summarize",
        "A text to shorten.",
        {"min_length": 5, "max_length": 40},
    )


def test_a_long_text_is_asked_in_pieces_and_joined_in_order(fake_backend):
    text = " ".join(f"Sentence {i} is about topic {i}." for i in range(300))  # 1,800 words
    fake_backend.answer(*[[{"summary_text": f"part {i}"}] for i in range(3)])
    summary = summarize.summarize(fake_config(), text)
    assert len(fake_backend.calls) == 3
    assert sorted(summary.split("\n\n")) == ["part 0", "part 1", "part 2"]


def test_a_backend_failure_is_the_message_the_person_sees(fake_backend):
    fake_backend.answer(errors.PaymentRequiredError("Credits are used up (402)."))
    with pytest.raises(gr.Error, match="Credits are used up"):
        summarize.summarize(fake_config(), "Some text.")


def test_a_tab_without_a_backend_says_what_to_set_before_asking(fake_backend):
    fake_backend.problem = "Set HF_TOKEN."
    with pytest.raises(gr.Error, match="Set HF_TOKEN"):
        entities.find_entities(fake_config(), "Ada Lovelace lived in London.")
    assert fake_backend.calls == []


def test_entities_come_back_merged_and_highlighted(fake_backend):
    text = "Ada Lovelace lived in London."
    fake_backend.answer(
        [
            {"entity": "B-PER", "word": "Ada", "start": 0, "end": 3, "score": 0.9},
            {"entity": "I-PER", "word": "Love", "start": 4, "end": 8, "score": 0.8},
            {"entity": "I-PER", "word": "##lace", "start": 8, "end": 12, "score": 0.7},
            {"entity": "B-LOC", "word": "London", "start": 22, "end": 28, "score": 0.9},
        ]
    )
    pieces, found = entities.find_entities(fake_config(), text)
    assert pieces == [("Ada Lovelace", "PER"), (" lived in ", None), ("London", "LOC"), (".", None)]
    assert entities.entity_rows(found)[0] == ["Ada Lovelace", "PER", 0.8, 0, 12]


def test_caption_sends_a_small_jpeg_of_the_upload(fake_backend, tmp_path):
    upload = tmp_path / "photo.jpg"
    shutil.copy(ROOT / "assets" / "chelsea.jpg", upload)
    fake_backend.answer([{"generated_text": " a cat on a rug "}])
    said = caption.caption_upload(fake_config(), str(tmp_path), {"path": str(upload)})
    assert said == "a cat on a rug"
    (call,) = fake_backend.calls
    assert call.content_type == "image/jpeg" and call.inputs.startswith(b"\xff\xd8\xff")


def test_caption_refuses_a_file_gradio_did_not_store(fake_backend, tmp_path):
    with pytest.raises(gr.Error, match="Upload the image again"):
        caption.caption_upload(fake_config(), str(tmp_path), {"path": str(ROOT / "README.md")})
    assert fake_backend.calls == []


def test_imagine_saves_a_png_with_its_settings_inside(fake_backend, tmp_path):
    fake_backend.answer(png())
    path, record = imagine.generate_image(
        fake_config(), str(tmp_path), "a blue square", "", 10, 5.0, 640, 450, 77
    )
    (call,) = fake_backend.calls
    assert call.inputs == "a blue square"
    assert call.parameters == {
        "num_inference_steps": 10,
        "guidance_scale": 5.0,
        "width": 640,
        "height": 448,  # rounded to the nearest multiple of 64
        "seed": 77,
    }
    assert record["seed"] == 77 and "Seed 77" in record["settings"]
    with open(path, "rb") as saved:
        assert "Seed: 77" in read_parameters(saved.read())


def test_a_bad_setting_is_refused_before_the_backend_is_asked(fake_backend, tmp_path):
    with pytest.raises(gr.Error, match="Steps must be between"):
        imagine.generate_image(fake_config(), str(tmp_path), "a cat", "", 0, 7, 512, 512, -1)
    assert fake_backend.calls == []


def collect(async_generator) -> list:
    async def run():
        return [item async for item in async_generator]

    return asyncio.run(run())


def turn_shown(config, history: list, system: str, *settings, caller=None) -> list:
    """The turn as the page and the API stream it (stream_turn): (chat, stats line) each."""
    states = collect(stream_turn(config, Turn(history, system, settings), caller=caller))
    return [(state.chat, state.stats_line) for state in states]


def test_a_chat_reply_streams_into_the_conversation(fake_backend):
    fake_backend.reply("Hello", " there", "!")
    history = [{"role": "user", "content": "Hi"}]
    shown = turn_shown(fake_config(), history, "Be brief.", 0.7, 0.95, 64, 1.0, None)
    final_history, final_stats = shown[-1]
    assert final_history[-1] == {"role": "assistant", "content": "Hello there!"}
    assert "finished: stop" in final_stats
    (call,) = fake_backend.calls
    assert call.inputs == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
    ]


def test_a_chat_failure_mid_reply_keeps_what_arrived(fake_backend):
    fake_backend.replies.append(
        [Delta("Half a"), errors.BackendConnectionError("The connection dropped.")]
    )
    history = [{"role": "user", "content": "Hi"}]
    final_history, stats = turn_shown(fake_config(), history, "", 0.7, 0.95, 64, 1.0, None)[-1]
    assert final_history[1] == {"role": "assistant", "content": "Half a"}
    # the page's short message; the details went to the log
    note = final_history[2]["content"]
    assert note.startswith("The reply above is incomplete. The studio cannot reach the model")
    assert "The connection dropped." not in note
    assert "failed" in stats


def test_a_chat_failure_tells_the_teacher_at_their_computer_what_happened(fake_backend):
    dropped = "The connection to 10.0.0.5:8080 dropped: is the server still running?"
    for here in (False, True):
        fake_backend.replies.append([Delta("Half a"), errors.BackendConnectionError(dropped)])
        turn = Turn([{"role": "user", "content": "Hi"}], "", (0.7, 0.95, 64, 1.0, None), here=here)
        note = collect(stream_turn(fake_config(), turn))[-1].chat[-1]["content"]
        assert note.startswith("The reply above is incomplete.")
        assert (dropped in note) is here  # a student gets whom to tell instead
        assert ("tell the teacher" in note) is not here


def test_a_megabyte_without_spaces_is_refused_before_sending(fake_backend):
    with pytest.raises(gr.Error, match="at most 100,000"):
        summarize.summarize(fake_config(), "x" * 1_000_000)
    with pytest.raises(gr.Error, match="at most 10,000"):
        entities.find_entities(fake_config(), "Ada " * 5_000)
    assert fake_backend.calls == []


def test_half_an_emoji_is_refused_with_where_it_is(fake_backend):
    with pytest.raises(gr.Error, match="position 6"):
        entities.find_entities(fake_config(), "Hello\ud83d there")
    assert fake_backend.calls == []


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_a_setting_that_is_not_a_finite_number_names_the_setting(fake_backend, value):
    with pytest.raises(gr.Error, match="Minimum length must be between 1 and 1024 tokens, not"):
        summarize.summarize(fake_config(), "Some text.", value, None)
    history = [{"role": "user", "content": "Hi"}]
    shown = turn_shown(fake_config(), history, "", value, 0.9, 64, 1.0, None)
    assert "Temperature must be between 0 and 1, not" in shown[-1][0][-1]["content"]
    assert fake_backend.calls == []


def test_an_image_prompt_is_checked_before_an_image_is_paid_for(fake_backend, tmp_path):
    with pytest.raises(gr.Error, match="at most 2,000"):
        imagine.generate_image(fake_config(), str(tmp_path), "a cat " * 1000)
    with pytest.raises(gr.Error, match="cannot be sent"):
        imagine.generate_image(fake_config(), str(tmp_path), "a cat \udc80 on a mat")
    assert fake_backend.calls == []


def test_a_chat_reply_is_counted_token_by_token_and_shown_whole_at_its_end(fake_backend):
    fake_backend.reply(*[f" word{n}" for n in range(50)], finish_reason="length")
    endpoint = fake_config().endpoint("chat")
    # A long interval: after the first update only the end may wake the loop.
    updates = collect(stream_reply(endpoint, chat_request_for(endpoint), interval=60.0))
    assert len(updates) <= 2 and updates[-1].final
    assert updates[-1].text == "".join(f" word{n}" for n in range(50))
    assert updates[-1].stats.tokens == 50 and updates[-1].stats.finish_reason == "length"


def test_a_failure_is_raised_after_the_text_before_it(fake_backend):
    dropped = errors.BackendConnectionError("The connection dropped.")
    fake_backend.replies.append([Delta("Half"), Delta(" a"), dropped])
    endpoint = fake_config().endpoint("chat")
    shown = []

    async def run():
        async for update in stream_reply(endpoint, chat_request_for(endpoint), interval=60.0):
            shown.append(update)

    with pytest.raises(errors.BackendConnectionError):
        asyncio.run(run())
    assert shown[-1].text == "Half a" and not shown[-1].final


def test_a_reply_counts_in_the_load_while_it_streams_and_not_after(fake_backend):
    """The count every reply's interval follows (studio.chat.pacing): one for each stream,
    however it ends."""
    fake_backend.reply(" one", " two")
    fake_backend.replies.append([Delta("Half"), errors.BackendConnectionError("Dropped.")])
    endpoint = fake_config().endpoint("chat")
    before, seen = STREAMING.count, []

    async def run():
        async for _ in stream_reply(endpoint, chat_request_for(endpoint)):
            seen.append(STREAMING.count - before)

    asyncio.run(run())
    with pytest.raises(errors.BackendConnectionError):
        asyncio.run(run())
    assert seen and set(seen) == {1} and STREAMING.count == before


def chat_request_for(endpoint):
    return chat_request(endpoint, [{"role": "user", "content": "Hi"}], ChatSettings())


def test_the_chat_api_sends_its_history_once_at_the_end(fake_backend):
    fake_backend.reply("Hello", " there")
    history: list = []
    outputs = collect(ChatApi(fake_config()).chat("Hi", history=history))
    assert outputs[-1] == ("Hello there", history)
    assert all(state == gr.skip() for _, state in outputs[:-1])
    assert history == [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello there"},
    ]


def test_a_chat_api_reply_stopped_midway_stays_in_the_session_history(fake_backend):
    fake_backend.reply("Hello", " there", " and on")
    history: list = []

    async def stop_after_the_first_update():
        replies = ChatApi(fake_config()).chat("Hi", history=history)
        shown, _ = await replies.__anext__()
        await replies.aclose()  # as Gradio does when the person presses Stop
        return shown

    shown = asyncio.run(stop_after_the_first_update())
    assert history == [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": shown}]
