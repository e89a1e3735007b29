"""The stats line under the chat: a reply's timing and how it ended, then the notes on how it
was sent (settings mapped or not sent, turns left out).

    ReplyStats ─ counts each delta as it arrives (studio.chat.pacing adds them)
    stats_line(stats, notes) ─ "thinking 2.10 s, 80 tokens · first token 2.31 s · 31.5 tok/s ·
                               finished: length", notes below
    stopped_stats_line(line) ─ the line of a reply the person stopped

Pure text: no Gradio.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection

from studio.tasks.chat import UNFINISHED, Delta


class ReplyStats:
    """Times one reply: create it just before sending the request, then ``add`` each delta
    with the parts it split into (studio.chat.pacing splits thinking from the answer).

    Each delta with text counts as one token: servers stream about one token per chunk, and
    ``trim_stops`` merges only the few it holds back, so the rate is a close estimate. The rate
    is of generation, thinking and answer, after the first token; the first-token time is the
    wait for the answer's first text, and a reasoning model's thinking is timed beside it (from
    the request to its last piece).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._sent_at = clock()
        self._first_at: float | None = None  # any token, thinking or answer
        self._first_token_at: float | None = None  # the answer's
        self._last_token_at: float | None = None  # any token
        self._last_thinking_at: float | None = None
        self.tokens = 0  # thinking and answer: what the reply cost
        self.thinking_tokens = 0
        self.finish_reason: str | None = None
        self.notes: list[str] = []  # from the stream: how the request was sent after all

    def add(self, delta: Delta, kinds: Collection[str] = ("answer",)) -> None:
        """Count `delta`, whose text went to `kinds` ("thinking", "answer"; "moved": the answer
        so far turned out to be thinking)."""
        if "moved" in kinds:
            self.thinking_tokens = self.tokens
            self._last_thinking_at, self._first_token_at = self._last_token_at, None
        if delta.reasoning or kinds and delta.text:
            now = self._clock()
            self._first_at = self._first_at if self._first_at is not None else now
            self._last_token_at = now
            self.tokens += 1
            if "answer" in kinds and delta.text:
                if self._first_token_at is None:
                    self._first_token_at = now
            else:
                self._last_thinking_at = now
                self.thinking_tokens += 1
        if delta.finish_reason:
            self.finish_reason = delta.finish_reason
        if delta.note:
            self.notes.append(delta.note)

    @property
    def time_to_first_token(self) -> float | None:
        """Seconds from the request to the answer's first text; None before any."""
        if self._first_token_at is None:
            return None
        return self._first_token_at - self._sent_at

    @property
    def thinking_seconds(self) -> float | None:
        """Seconds from the request to the thinking's last piece; None without thinking."""
        if self._last_thinking_at is None or not self.thinking_tokens:
            return None
        return self._last_thinking_at - self._sent_at

    @property
    def seconds(self) -> float:
        """Seconds from the request to the last text (to now, before any)."""
        end = self._last_token_at if self._last_token_at is not None else self._clock()
        return end - self._sent_at

    @property
    def tokens_per_second(self) -> float | None:
        """Tokens after the first per second since the first; None until it can be measured."""
        if self._first_at is None or self._last_token_at is None or self.tokens < 2:
            return None
        elapsed = self._last_token_at - self._first_at
        return (self.tokens - 1) / elapsed if elapsed > 0 else None

    def summary(self) -> str:
        """E.g. ``"thinking 2.10 s, 80 tokens · first token 2.31 s · 31.5 tok/s ·
        finished: length"``."""
        parts = []
        if (thinking := self.thinking_seconds) is not None:
            parts.append(f"thinking {thinking:.2f} s, {self.thinking_tokens} tokens")
        first = self.time_to_first_token
        if first is not None:
            parts.append(f"first token {first:.2f} s")
        else:
            parts.append("no answer yet" if self.thinking_tokens else "no text received")
        if (rate := self.tokens_per_second) is not None:
            parts.append(f"{rate:.1f} tok/s")
        if self.finish_reason == UNFINISHED:
            parts.append("cut short by the server")
        elif self.finish_reason:
            parts.append(f"finished: {self.finish_reason}")
        return " · ".join(parts)


def request_notes(notes: tuple[str, ...], left_out: int, budget_chars: int) -> str:
    """The notes on how a request was sent, for the stats line: its own (settings mapped or not
    sent), and how many of the oldest exchanges were left out to fit the budget."""
    lines = list(notes)
    if left_out > 0:
        turns = "exchange was" if left_out == 1 else "exchanges were"
        lines.append(
            f"The {left_out} oldest {turns} left out to keep the conversation within "
            f"{budget_chars:,} characters (STUDIO_CHAT_BUDGET_CHARS)."
        )
    return " ".join(lines)


def stats_line(stats: ReplyStats, notes: str = "", *, failed: bool = False) -> str:
    """Time to first token, tokens per second and finish reason, in small print; then the
    notes on settings, the stream's own last."""
    summary = stats.summary() + (" · failed" if failed else "")
    notes = " ".join(text for text in (notes, *stats.notes) if text)
    return "\n\n".join(f"<small>{text}</small>" for text in (summary, notes) if text)


def stopped_stats_line(line: str | None) -> str:
    """The stats line of a reply the person stopped; a finished reply's line is left alone."""
    if not line or any(word in line for word in ("finished:", "failed", "stopped", "cut short")):
        return line or ""
    first, _, rest = line.partition("</small>")
    return f"{first} · stopped by you</small>{rest}"
