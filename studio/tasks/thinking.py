"""A reasoning model's thinking, told apart from its answer, and how much of it to ask for.

Servers send the thinking in one of three spellings (the backends read the first two, this
module the third):

    delta.reasoning            vLLM since its rename, the Hugging Face router, huggingface_hub
    delta.reasoning_content    DeepSeek's API, older vLLM, SGLang, llama.cpp --reasoning-format
    <think>...</think>         inline in the text: chat templates without a reasoning parser
                               (Qwen3, DeepSeek-R1 distills on raw servers, TGI prompts, models
                               in this process). A template may open <think> in the prompt, so
                               the reply holds only </think>: everything before it was thinking.

    text pieces ─ InlineThinking.feed ─ ("thinking" | "answer", text) ... and "moved" when a
                  lone </think> shows that the text so far was thinking
    an earlier reply ─ without_thinking ─ the answer alone, as it goes back in the history

Pure: no Gradio, no HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

OPEN, CLOSE = "<think>", "</think>"
THINKING_BLOCK = re.compile(r"<think>.*?(?:</think>|\Z)", re.S)

# The Thinking setting: the model's own default (nothing sent), off, or an effort.
DEFAULT = ""
EFFORTS = ("low", "medium", "high")
CHOICES = (DEFAULT, "off", *EFFORTS)
LABELS = {DEFAULT: "the model's default", "off": "off", **{e: e for e in EFFORTS}}


def checked_thinking(value: object) -> str:
    """The Thinking setting as given by the page or an API call: empty (None too) for the
    model's default, else one of off, low, medium, high."""
    # Local import: studio.tasks.chat imports this module for its Delta.
    from studio.errors import InputError

    chosen = "" if value is None else str(value).strip().lower()
    if chosen in ("default", "the model's default"):
        chosen = DEFAULT
    if chosen not in CHOICES:
        raise InputError(
            f"Thinking must be empty (the model's default), off, low, medium or high, not "
            f"{str(value)[:40]!r}."
        )
    return chosen


def without_thinking(text: str) -> str:
    """A reply as it goes back to the model: inline thinking taken out. Text before a lone
    ``</think>`` was thinking too (its ``<think>`` was in the prompt)."""
    if CLOSE in text and OPEN not in text.partition(CLOSE)[0]:
        text = text.partition(CLOSE)[2]
    return THINKING_BLOCK.sub("", text).strip()


class InlineThinking:
    """Splits a reply's text, as it streams, into thinking and answer at ``<think>`` tags.

    A tag may arrive cut across pieces: text that could be the start of one is held back until
    the next piece decides. Until a ``<think>`` is seen (or the server sends its thinking in a
    field of its own), a lone ``</think>`` is possible, however late (the template opened the
    block in the prompt): `feed` then answers ("moved", "") first, meaning all the answer so far
    was thinking. The first ``</think>`` ends that: a later one is answer text.
    """

    def __init__(self, *, opened: bool = False) -> None:
        self.thinking = opened  # inside a <think> block now
        self.lone_close_possible = not opened  # no <think> seen: a </think> may still close one
        self.started = opened  # a tag or some answer text was seen
        self.answer_began = False  # the answer's first text is stripped of leading blank lines
        self._strip: str | None = "\n"  # after </think>, of any leading space too (" Hello")
        self._held = ""

    def explicit(self) -> None:
        """The server sends thinking in a field of its own: the text is all answer."""
        self.lone_close_possible = False

    def feed(self, text: str) -> Iterator[tuple[str, str]]:
        """("thinking" | "answer" | "moved", text) pieces, in order."""
        pending = self._held + text
        self._held = ""
        while pending:
            if not self.started:
                stripped = pending.lstrip()
                if OPEN.startswith(stripped):  # blank, or a <think> not yet complete
                    self._held = pending
                    return
                self.started = True
                if stripped.startswith(OPEN):
                    self.thinking, self.lone_close_possible = True, False
                    pending = stripped[len(OPEN) :]
                    continue
            tag = CLOSE if self.thinking or self.lone_close_possible else None
            if tag is None:
                yield from self._answer(pending)
                return
            at = pending.find(tag)
            if at < 0:
                keep = _partial_tag(pending, tag)
                ready, self._held = pending[: len(pending) - keep], pending[len(pending) - keep :]
                if ready:
                    yield from self._piece(ready)
                return
            if not self.thinking:  # a lone </think>: the text so far was thinking
                yield "moved", ""
            if pending[:at]:
                yield "thinking", pending[:at]
            self.thinking = self.lone_close_possible = self.answer_began = False
            self._strip = None
            pending = pending[at + len(CLOSE) :]

    def flush(self) -> Iterator[tuple[str, str]]:
        """What was held back, at the end of the stream."""
        held, self._held = self._held, ""
        if held.strip():
            yield from self._piece(held)

    def _piece(self, text: str) -> Iterator[tuple[str, str]]:
        if self.thinking:
            yield "thinking", text
        else:
            yield from self._answer(text)

    def _answer(self, text: str) -> Iterator[tuple[str, str]]:
        if not self.answer_began:
            text = text.lstrip(self._strip)
            self.answer_began = bool(text)
        if text:
            yield "answer", text


def _partial_tag(text: str, tag: str) -> int:
    """Length of the longest end of `text` that begins `tag`."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:size]):
            return size
    return 0
