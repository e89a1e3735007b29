"""One turn of the chat, streamed the same way for the page and for /chat: the one place where
a turn becomes a request, its reply grows into the chat, and a failure becomes a note.

    Turn (the chat, the system prompt, the settings, Continue or not, the model)
      └ stream_turn ─ prepare: the request (messages, settings, model) and its notes
                    ─ stream_reply (studio.chat.stream): the reply's updates, paced
                    └ Shown ... the chat as it grows and its stats line; the last one says
                      how the reply ended (`ended`) or why the turn failed (`failure`)

A failure, before sending or midway, is caught here and only here: the chat keeps what came and
ends with an error note for the person, and the last Shown carries the failure, which the page
logs and the API raises. Closing the stream (Stop) closes the upstream connection at once. No
Gradio, no HTTP: the UI turns each Shown into what the page or the API shows.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from studio.backends.registry import ChatRequest
from studio.chat.stats import ReplyStats, request_notes, stats_line
from studio.chat.stream import stream_reply
from studio.classroom.usage import Caller
from studio.config import Config, Endpoint
from studio.errors import UNEXPECTED, StudioError
from studio.services import chat_request, require_setup, with_model
from studio.tasks.chat import (
    UNFINISHED,
    ChatSettings,
    Message,
    build_messages,
    content_text,
    count_turns,
    error_note,
)
from studio.tasks.continue_reply import continue_messages, continued_text


@dataclass(frozen=True)
class Turn:
    """What one turn asks: `chat`, the Chatbot's messages, ends with the person's message, or
    with the reply to continue (`continue_reply`). `settings`: temperature, top-p, max new
    tokens, repetition penalty and seed as given, numbers or text (`ChatSettings.from_controls`
    reads them). `model`: the one the person picked (None: the configured one)."""

    chat: list
    system_prompt: str
    settings: tuple
    continue_reply: bool = False
    model: str | None = None


@dataclass(frozen=True)
class Ended:
    """A reply that ended well: the request sent and its stats, for its card and code."""

    request: ChatRequest
    stats: ReplyStats

    @property
    def cut(self) -> bool:
        """The token limit cut it, or the server ended it unsaid: Continue can make it grow."""
        return self.stats.finish_reason in ("length", UNFINISHED)


@dataclass(frozen=True)
class Shown:
    """The chat as it stands while a turn streams."""

    chat: list  # the whole chat: the reply as far as it came, or an error note last
    reply: str = ""  # the reply's text so far (a continued reply: all of it)
    stats_line: str | None = None  # None: as it was
    sent: ChatRequest | None = None  # on the state shown before the first token: what was sent
    ended: Ended | None = None  # on the last state of a reply that ended well
    failure: Exception | None = None  # on the last state of a turn that failed


async def stream_turn(
    config: Config,
    turn: Turn,
    *,
    progress: Callable[[str], None] | None = None,
    caller: Caller | None = None,
) -> AsyncIterator[Shown]:
    """The chat as the turn's reply grows: first what is sent, then the reply at most once per
    update interval, then how it ended. `caller`: whom the reply counts against; `progress`
    hears of slow steps (a model downloading)."""
    chat = list(turn.chat or [])
    last = chat[-1].get("role") if chat else None
    if last != ("assistant" if turn.continue_reply else "user"):
        yield Shown(chat)  # nothing new to answer
        return
    partial = content_text(chat[-1]["content"]) if turn.continue_reply else ""
    earlier = chat[:-1] if turn.continue_reply else chat
    request, notes, text, stats = None, "", partial, None
    try:
        endpoint, request, notes = prepare(config, turn)
        yield Shown(chat, partial, "", sent=request)  # shown before the first token
        replying = stream_reply(endpoint, request, progress=progress, caller=caller)
        async with contextlib.aclosing(replying) as updates:
            async for update in updates:
                text = continued_text(partial, update.text, exact=request.continues_exactly)
                stats = update.stats
                grown = chat if text == partial else [*earlier, assistant(text)]
                ended = Ended(request, stats) if update.final else None
                yield Shown(grown, text, stats_line(stats, notes), ended=ended)
    except Exception as exc:
        if request is None:  # nothing was sent
            yield Shown([*chat, error_note(said(exc))], partial, "", failure=exc)
            return
        kept = [*earlier, assistant(text)] if text else earlier
        note = error_note(cut_short(said(exc), text != partial))
        line = stats_line(stats or ReplyStats(), notes, failed=True)
        yield Shown([*kept, note], text, line, failure=exc)


def prepare(config: Config, turn: Turn) -> tuple[Endpoint, ChatRequest, str]:
    """The endpoint with the person's model, the request for this turn, and the notes for the
    stats line (settings not sent, turns left out). Raises our errors for what cannot be sent."""
    require_setup(config, "chat")
    budget = config.chat_budget_chars
    if turn.continue_reply:
        asked = turn.chat
        messages = continue_messages(turn.system_prompt, asked, budget_chars=budget)
    else:
        asked, question = turn.chat[:-1], turn.chat[-1]["content"]
        messages = build_messages(turn.system_prompt, asked, question, budget_chars=budget)
    settings = ChatSettings.from_controls(*turn.settings)
    endpoint = with_model(config.endpoint("chat"), turn.model)
    request = chat_request(endpoint, messages, settings)
    left_out = count_turns(asked) - sum(m["role"] == "assistant" for m in messages)
    return endpoint, request, request_notes(request.notes, left_out, budget)


def assistant(text: str) -> Message:
    return {"role": "assistant", "content": text}


def said(exc: Exception) -> str:
    """The short message for the person (no settings, no hosts); the UI logs the details."""
    if isinstance(exc, StudioError):
        return exc.for_person
    return UNEXPECTED.format(name=type(exc).__name__)


def cut_short(message: str, partial: bool) -> str:
    return f"The reply above is incomplete. {message}" if partial else message
