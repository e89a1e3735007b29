"""Every tab's page handler ends with its answer's card and code, over the fake backend."""

from __future__ import annotations

import io
import shutil

import gradio as gr
from PIL import Image

from studio.ui import caption, code_panel, entities, game_code, imagine, summarize
from studio.ui.waiting import Doing
from tests.conftest import ROOT
from tests.stand_ins.fake_backend import fake_config

CHELSEA = ROOT / "assets" / "chelsea.jpg"
PANEL = 3  # the card, the code in every language, and the code box


def png(color: str = "blue") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(out, "PNG")
    return out.getvalue()


def panel(values: tuple) -> tuple:
    card, code, box = values[-PANEL:]
    assert isinstance(box, type(gr.skip()))  # the state's change shows the language chosen
    assert "Time taken:" in card and "Backend:" in card
    return card, code["requests"], code["library"], code["curl"], code["gradio"]


def test_summary_and_entities_end_with_their_code(fake_backend):
    fake_backend.answer([{"summary_text": "Short."}])
    answer = summarize.summary_with_code(fake_config(), "A text to shorten.", "", "9")
    assert answer[0] == "Short."
    card, _, _, _, gradio = panel(answer)
    assert "max_length=9" in card
    assert 'api_name="/summarize"' in gradio and "9," in gradio

    fake_backend.answer([])
    answer = entities.entities_with_code(fake_config(), "nobody here")
    assert answer[1] == [] and 'api_name="/ner"' in panel(answer)[4]


def test_caption_and_imagine_end_with_their_code(fake_backend, tmp_path):
    upload = tmp_path / "photo.jpg"
    shutil.copy(CHELSEA, upload)
    fake_backend.answer([{"generated_text": "a cat"}], png())
    answer = caption.caption_with_code(fake_config(), {"path": str(upload)}, folder=str(tmp_path))
    assert answer[0] == "a cat" and 'handle_file("photo.jpg")' in panel(answer)[4]

    answer = imagine.paint_with_code(
        fake_config(), str(tmp_path), [], "a fox", "", 4, 7, 512, 512, 99
    )
    card, _, _, _, gradio = panel(answer)
    assert "Seed:       99" in card and "Settings:   Seed 99 · 4 steps" in card
    assert '"a fox",' in gradio and "99," in gradio and "picture.png" in gradio


def test_the_game_empties_the_panel_as_it_starts_and_ends_with_its_last_round(
    fake_backend, tmp_path
):
    upload = tmp_path / "photo.jpg"
    shutil.copy(CHELSEA, upload)
    fake_backend.answer([{"generated_text": "a cat"}], png(), [{"generated_text": "a box"}])
    fake_backend.answer(png("red"))
    steps = list(
        game_code.play_with_code(fake_config(), str(tmp_path), {"path": str(upload)}, 2, 10)
    )
    shown = [step for step in steps if not isinstance(step, Doing)]
    # As it starts the panel empties: a game stopped now shows no code of the one before.
    assert shown[0][-PANEL:] == ("", {}, code_panel.NO_CODE)
    assert all(
        isinstance(value, type(gr.skip())) for step in shown[1:-1] for value in step[-PANEL:]
    )
    card, _, _, _, gradio = panel(steps[-1])
    assert "Describe and generate: the caption" in card and "the picture" in card
    assert "Seed:       10, 11" in card
    assert "client.submit(" in gradio and "2,\n    10," in gradio
    assert 'api_name="/play_rounds"' in gradio


def test_an_answer_stands_when_its_code_cannot_be_written(fake_backend, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("no")

    monkeypatch.setattr(code_panel, "for_calls", broken)
    fake_backend.answer([{"summary_text": "Short."}])
    answer = summarize.summary_with_code(fake_config(), "A text to shorten.", "", "")
    assert answer[0] == "Short." and answer[1:3] == (code_panel.UNWRITTEN, {})
