"""The words on the page are for whoever sits at it, a student as much as the teacher: no
protocol names, parameter names, addresses or sign conventions in a label, an info line or a
line of text, except in the folds that are there to show how an answer was made. And a
setup problem or a failure tells the teacher at their own computer what to fix, and asks a
student on a shared link to tell the teacher."""

from __future__ import annotations

import re
from types import SimpleNamespace

import gradio as gr
import pytest

from studio.config import load_config
from studio.errors import TELL_TEACHER, AuthenticationError
from studio.ui.app import build_app, select_tabs
from studio.ui.common import setup_words
from studio.ui.status_line import failure_html
from studio.ui.viewer import on_this_computer

# Folds that show the machinery on purpose, to whoever opens them.
TECHNICAL = {"Where the models run", "What the model received", "Show the code"}
ENGINEERS = re.compile(
    r"\(tokens\)|\(-1|\(empty:|repetition_penalty|frequency_penalty|vLLM|TGI|127\.0\.0\.1"
    r"|chat completions|transformers serve",
)
SERVER = "http://127.0.0.1:35011"


def words_shown(block, folded: bool = False):
    """(the text, where it is) of every visible label, info line and text outside TECHNICAL."""
    if getattr(block, "visible", True) is False:
        return
    if isinstance(block, gr.Accordion) and block.label in TECHNICAL:
        folded = True
    if not folded:
        for name in ("label", "info", "placeholder"):
            text = getattr(block, name, None)
            if isinstance(text, str):
                yield text, f"{type(block).__name__} {name}"
        if isinstance(block, gr.Markdown) and isinstance(block.value, str):
            yield block.value, "Markdown"
    for child in getattr(block, "children", []):
        yield from words_shown(child, folded)


def app_words(env: dict) -> dict[str, str]:
    config = load_config({"STUDIO_LOCAL": "none", **env})
    app = build_app(config, select_tabs(config.tabs))
    try:
        return dict(words_shown(app))
    finally:
        app.close()


@pytest.mark.parametrize(
    "env",
    [
        {"STUDIO_CHAT_BASE": f"{SERVER}/v1", "STUDIO_CHAT_MODEL": "tiny/chat"},
        {"HF_TOKEN": "hf_test_secret_token_0123456789"},  # every tab on the router
    ],
    ids=["own-servers", "router"],
)
def test_no_engineers_words_outside_the_folds_that_show_the_machinery(env):
    words = app_words(env)
    found = {text: where for text, where in words.items() if ENGINEERS.search(text)}
    assert not found


def test_settings_a_student_meets_say_what_they_are():
    words = app_words({"STUDIO_CHAT_BASE": f"{SERVER}/v1", "STUDIO_CHAT_MODEL": "tiny/chat"})
    for label in ("Minimum length", "Maximum length", "Max new tokens", "Seed", "Steps"):
        assert label in words, label
    infos = [text for text, where in words.items() if where.endswith("info")]
    assert any("pieces of words" in text and "Max" not in text for text in infos)
    assert "1 is off; higher discourages repeating words." in infos
    assert any(text.startswith("The same seed and settings give the same reply") for text in infos)
    assert any(
        text.startswith("The same seed and settings make the same picture") for text in infos
    )


# --- whom a message asks to act: the teacher at their own computer, or a student -------------


def request_from(peer: str, forwarded: str | None = None) -> SimpleNamespace:
    headers = {"x-forwarded-for": forwarded} if forwarded else {}
    return SimpleNamespace(client=SimpleNamespace(host=peer), headers=headers)


def test_only_a_browser_on_the_computer_that_runs_the_studio_is_on_this_computer():
    assert on_this_computer(request_from("127.0.0.1"))
    assert on_this_computer(request_from("::1"))
    assert not on_this_computer(request_from("127.0.0.1", "203.0.113.7"))  # a share link
    assert not on_this_computer(request_from("192.168.1.20"))  # a classmate's laptop
    assert not on_this_computer(None)


def test_the_setup_notice_shows_the_fix_here_and_asks_a_student_to_tell_the_teacher():
    problem = "No model server is configured for Chat. Set STUDIO_CHAT_BASE to the URL."
    here = setup_words("This chat has no model yet.", problem, here=True)
    assert "To fix it: No model server" in here and "STUDIO_CHAT_BASE" in here
    assert TELL_TEACHER not in here
    there = setup_words("This chat has no model yet.", problem, here=False)
    assert there.endswith(TELL_TEACHER) and "STUDIO_CHAT_BASE" not in there


def test_a_failure_says_what_to_fix_here_and_whom_to_tell_elsewhere():
    error = AuthenticationError("The router refused HF_TOKEN (401): set a valid token in .env.")
    here = failure_html(error, "test", here=True)
    assert "HF_TOKEN" in here and "Tell the teacher" not in here
    there = failure_html(error, "test")
    assert "Tell the teacher" in there and "HF_TOKEN" not in there
