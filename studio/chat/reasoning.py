"""A reply as the chat shows it: a reasoning model's thinking in a collapsible message of its
own, then the answer; and the notes that end a reply (thinking cut short, probabilities kept).

    Update (thinking, answer, stats) ─ reply_messages ─ [Thinking message], [answer]
        the Thinking message: {"role": "assistant", "content": thinking, "metadata":
        {"title": "Thinking · 80 tokens", "status": "pending" | "done", "duration": 2.1}},
        which Gradio's Chatbot shows folded, with a spinner while pending and its seconds
        after; studio.tasks.chat.normalise_history never sends it back (it has a title)

Pure: no Gradio. The message is a dict, as the Chatbot takes it.
"""

from __future__ import annotations

from typing import Any

from studio.chat.stats import ReplyStats
from studio.tasks.token_probs import kept_note

THINKING_TITLE = "Thinking"
CUT_WHILE_THINKING = (
    "The token limit ran out while the model was still thinking, before its answer: raise Max "
    "new tokens (or ask for less thinking) and press Retry."
)


def thinking_message(thinking: str, stats: ReplyStats, *, done: bool) -> dict[str, Any]:
    """The thinking, folded under its title, its seconds once it is over."""
    tokens = stats.thinking_tokens
    title = f"{THINKING_TITLE} · {tokens} token{'s' if tokens != 1 else ''}"
    metadata: dict[str, Any] = {"title": title, "status": "done" if done else "pending"}
    if done and (seconds := stats.thinking_seconds) is not None:
        metadata["duration"] = round(seconds, 2)
    return {"role": "assistant", "content": thinking.strip(), "metadata": metadata}


def reply_messages(
    thinking: str, answer: str, stats: ReplyStats, *, over: bool
) -> list[dict[str, Any]]:
    """The reply's messages: the thinking (if any), then the answer (if any). The thinking is
    done once the answer begins or the reply is `over`."""
    messages = []
    if thinking.strip():
        messages.append(thinking_message(thinking, stats, done=over or bool(answer)))
    if answer:
        messages.append({"role": "assistant", "content": answer})
    return messages


def ending_notes(stats: ReplyStats, answer: str, *, tokens: int, asked_probabilities: bool) -> str:
    """The notes for a reply that has ended: cut while thinking, and the probabilities kept (or
    that the server sent none)."""
    notes = []
    if stats.finish_reason == "length" and not answer and stats.thinking_tokens:
        notes.append(CUT_WHILE_THINKING)
    notes.append(kept_note(tokens, asked_probabilities, stats.notes))
    return " ".join(note for note in notes if note)
