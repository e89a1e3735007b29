"""The status line every tab shows under its buttons: what it waits for, how long it has waited
and how long the studio waits at most, then how it ended (done, stopped, or what went wrong and
what to do). Pure HTML from the state; `waiting` decides when each is shown."""

from __future__ import annotations

import html

import gradio as gr

from studio.errors import StudioError
from studio.ui.common import UNEXPECTED, report

SLOW_AFTER = 10.0  # seconds after which the line says the server is slow


def status_line(tab: str) -> gr.HTML:
    """Where a tab says what it waits for, how long it has waited, and what went wrong."""
    return gr.HTML("", elem_id=f"{tab}-status", elem_classes=["studio-status"])


def waiting_html(doing: str, seconds: float, limit: float | None, note: str | None = None) -> str:
    """`note`: the latest progress of the step (a model downloading: its bytes and percent)."""
    parts = [
        f"<strong>{html.escape(doing)}</strong> · <span class='seconds'>{seconds:.0f} s</span>"
    ]
    if note:
        parts.append(f"<span class='note'>{html.escape(note)}</span>")
    elif seconds >= SLOW_AFTER:
        parts.append("The model server is slow to answer: it may be busy or loading the model.")
    parts.append("Stop cancels.")
    if limit:
        parts.append(f"The studio gives up after {limit:g} s without an answer.")
    return _line("waiting", "status", " ".join(parts))


def done_html(seconds: float, done: str | None = None) -> str:
    return _line("done", "status", html.escape(done) if done else f"Done in {seconds:.1f} s.")


def stopped_html() -> str:
    return _line("stopped", "status", "Stopped. Nothing more is asked of the model.")


def failed_html(title: str, message: str) -> str:
    text = f"<strong>{html.escape(title)}.</strong> {html.escape(message)}"
    return _line("failed", "alert", text)


def _line(kind: str, role: str, inner: str) -> str:
    return f"<div class='studio-line {kind}' role='{role}'>{inner}</div>"


def is_waiting(status: str | None) -> bool:
    return bool(status) and "studio-line waiting" in status


def failure_html(exc: Exception, where: str, *, here: bool = False) -> str:
    """The person's message for a failure (reported to the log once, here). `here`: the page
    is open on the computer that runs the studio, so its reader can fix a setup and reads the
    whole message, with the setting to change, not whom to tell."""
    report(exc, where)
    if isinstance(exc, StudioError):
        return failed_html(exc.title, exc.message if here else exc.for_person)
    if isinstance(exc, gr.Error):
        return failed_html(exc.title, str(exc.message))
    return failed_html("Something went wrong", UNEXPECTED.format(name=type(exc).__name__))
