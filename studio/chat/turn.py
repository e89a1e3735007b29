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
from studio.chat.reasoning import ending_notes, reply_messages
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
from studio.tasks.token_probs import TokenProb


@dataclass(frozen=True)
class Turn:
    """What one turn asks: `chat`, the Chatbot's messages, ends with the person's message, or
    with the reply to continue (`continue_reply`). `settings`: temperature, top-p, max new
    tokens, repetition penalty and seed as given, numbers or text, then optionally Thinking and
    token probabilities (`ChatSettings.from_controls` reads them). `model`: the one the person
    picked (None: the configured one). `here`: the person chats on the computer that runs the
    studio, so a failure's note says what to fix."""

    chat: list
    system_prompt: str
    settings: tuple
    continue_reply: bool = False
    model: str | None = None
    here: bool = False


@dataclass(frozen=True)
class Ended:
    """A reply that ended well: the request sent and its stats, for its card and code."""

    request: ChatRequest
    stats: ReplyStats
    answer: str = ""  # the reply's answer, all of it
    thinking: str = ""  # a reasoning model's thinking for it, shown apart and never sent back
    tokens: tuple[TokenProb, ...] = ()  # token probabilities, when asked for: kept for the lab

    @property
    def cut(self) -> bool:
        """The token limit cut its answer, or the server ended it unsaid: Continue can make it
        grow (a reply cut while the model still thought has no answer to continue: Retry asks
        again)."""
        return self.stats.finish_reason in ("length", UNFINISHED) and bool(self.answer)


@dataclass(frozen=True)
class Shown:
    """The chat as it stands while a turn streams."""

    chat: list  # the whole chat: the reply as far as it came, or an error note last
    reply: str = ""  # the reply's answer so far (a continued reply: all of it)
    stats_line: str | None = None  # None: as it was
    sent: ChatRequest | None = None  # on the state shown before the first token: what was sent
    ended: Ended | None = None  # on the last state of a reply that ended well
    failure: Exception | None = None  # on the last state of a turn that failed
    thinking: str = ""  # the reply's thinking so far, shown apart from the answer


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
    request, notes, text, stats, update = None, "", partial, None, None
    try:
        endpoint, request, notes = prepare(config, turn)
        yield Shown(chat, partial, "", sent=request)  # shown before the first token
        replying = stream_reply(endpoint, request, progress=progress, caller=caller)
        async with contextlib.aclosing(replying) as updates:
            async for update in updates:
                text = continued_text(partial, update.text, exact=request.continues_exactly)
                stats, thinking = update.stats, update.thinking
                grown = [*earlier, *reply_messages(thinking, text, stats, over=update.final)]
                ended = (
                    Ended(request, stats, text, thinking, update.tokens) if update.final else None
                )
                line = stats_line(stats, _with(notes, ending(ended)) if ended else notes)
                yield Shown(grown, text, line, thinking=thinking, ended=ended)
    except Exception as exc:
        if request is None:  # nothing was sent
            yield Shown([*chat, error_note(said(exc, turn.here))], partial, "", failure=exc)
            return
        thinking = update.thinking if update is not None else ""
        kept = [*earlier, *reply_messages(thinking, text, stats or ReplyStats(), over=True)]
        cut = text != partial or bool(thinking.strip())
        note = error_note(cut_short(said(exc, turn.here), cut))
        line = stats_line(stats or ReplyStats(), notes, failed=True)
        yield Shown([*kept, note], text, line, thinking=thinking, failure=exc)


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


def ending(ended: Ended) -> str:
    """The notes that end a reply: cut while thinking; the token probabilities kept."""
    return ending_notes(
        ended.stats,
        ended.answer,
        tokens=len(ended.tokens),
        asked_probabilities=ended.request.asks_probabilities,
    )


def _with(notes: str, more: str) -> str:
    return " ".join(text for text in (notes, more) if text)


def assistant(text: str) -> Message:
    return {"role": "assistant", "content": text}


def said(exc: Exception, here: bool = False) -> str:
    """The short message for the person (no settings, no hosts), or, `here` on the computer
    that runs the studio, the whole one with what to fix; the UI logs the details."""
    if isinstance(exc, StudioError):
        return exc.message if here else exc.for_person
    return UNEXPECTED.format(name=type(exc).__name__)


def cut_short(message: str, partial: bool) -> str:
    return f"The reply above is incomplete. {message}" if partial else message
