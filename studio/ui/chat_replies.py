"""The Chat tab's streaming handlers: a reply asked for, streamed into the chat, or gone on with.

    reply ─ prepare (messages, chat_request) ─ services.stream_reply ─ the chat as it grows
    respond: reply for the page's tests and callers, (chat, stats) per update
    chat, chat_with_model: /chat and /chat_with_model, history in the session's State

Both are async generators so that Stop reaches them at once: Gradio cancels the task, and
leaving `stream_reply` closes the upstream connection without waiting for the next token.
Updates come at most once per 40 ms (studio.tasks.pacing) however fast the model writes, each
with all the text so far; /chat's history State rides only on the last.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, NoReturn

import gradio as gr

from studio.backends.registry import ChatRequest
from studio.classroom.usage import Caller
from studio.config import Config
from studio.errors import StudioError
from studio.services import chat_request, require_setup, stream_reply
from studio.tasks.chat import (
    ChatSettings,
    Message,
    build_messages,
    content_text,
    count_turns,
    error_note,
)
from studio.tasks.continuing import continuation_messages, join_continuation
from studio.tasks.replies import ReplyStats, cut_short, notes_line, stats_line
from studio.ui.common import UNEXPECTED, notify_progress, report, shows_errors

DEFAULTS = ChatSettings()


@dataclass
class Ended:
    """How the last reply ended, for the page to offer Continue after a cut one, and to show
    its card and code: the request sent and the reply's stats, once it ended well."""

    finish_reason: str | None = None
    request: ChatRequest | None = None
    stats: ReplyStats | None = None


class Replies:
    """The tab's streaming handlers for one configuration. They keep no state of their own:
    each person's conversation lives in their Chatbot, or in their API session's State."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.endpoint = config.endpoint("chat")

    def prepare(
        self,
        history: list,
        question: Any,
        system: str,
        *controls,
        continuing: bool = False,
        model: str | None = None,
    ) -> tuple[ChatRequest, str]:
        """The request for this turn, and notes for the person (settings not sent, turns left
        out). `continuing`: `history` ends with a reply to go on with, and `question` is unused.
        `model`: the one the person picked (None: the configured one). Raises our errors for
        what cannot be sent."""
        config = self.config
        require_setup(config, "chat")
        budget = config.chat_budget_chars
        if continuing:
            messages = continuation_messages(system, history, budget_chars=budget)
        else:
            messages = build_messages(system, history, question, budget_chars=budget)
        settings = ChatSettings.from_controls(*controls)
        request = chat_request(self.endpoint, messages, settings, model=model)
        left_out = count_turns(history) - sum(m["role"] == "assistant" for m in messages)
        return request, notes_line(request.notes, left_out, budget)

    async def respond(self, history: list, system: str, *controls):
        """Answer the last user message in the Chatbot, streaming the reply into it."""
        async for chat, stats, _ in self.reply(history, system, *controls):
            yield chat, stats

    async def reply(
        self,
        history: list,
        system: str,
        *controls,
        continuing: bool = False,
        ended: Ended | None = None,
        model: str | None = None,
        caller: Caller | None = None,
    ):
        """(chat, stats line, the request sent or None) as the reply streams. `continuing`: go
        on with the chat's last reply, appending to it; otherwise answer its last user message.
        `ended` hears how it ended; `model`: the one the person picked; `caller`: whom the
        reply counts against."""
        history = list(history or [])
        last = history[-1].get("role") if history else None
        if last != ("assistant" if continuing else "user"):
            yield history, gr.skip(), None  # nothing new to answer
            return
        question = history[-1]["content"]
        earlier, partial = (history[:-1], content_text(question)) if continuing else (history, "")
        try:
            asked = history if continuing else history[:-1]
            request, notes = self.prepare(
                asked, question, system, *controls, continuing=continuing, model=model
            )
        except Exception as exc:
            yield [*history, error_note(for_page(exc))], "", None
            return
        yield history, "", request  # what is sent, shown before the first token
        text, stats = partial, ReplyStats()
        try:
            async with contextlib.aclosing(
                stream_reply(
                    self.endpoint, request, model=model, progress=notify_progress, caller=caller
                )
            ) as updates:
                async for update in updates:
                    if update.new:
                        text = join_continuation(partial, update.text, exact=request.prefilled)
                        stats = update.stats
                        yield [*earlier, assistant(text)], stats_line(stats, notes), None
        except Exception as exc:
            kept = [*earlier, assistant(text)] if text else earlier
            note = error_note(cut_short(for_page(exc), text != partial))
            yield [*kept, note], stats_line(stats, notes, failed=True), None
            return
        if ended is not None:
            ended.finish_reason, ended.request, ended.stats = stats.finish_reason, request, stats
        if text == partial:
            yield history, stats_line(stats, notes), None

    async def chat(
        self,
        message: str,
        system_prompt: str = "",
        temperature: float = DEFAULTS.temperature,
        top_p: float = DEFAULTS.top_p,
        max_new_tokens: int = DEFAULTS.max_new_tokens,
        repetition_penalty: float = DEFAULTS.repetition_penalty,
        seed: int | None = None,
        history: list | None = None,
        *,
        caller: Caller | None = None,
    ):
        """Send a message to the chat model; yields the reply so far as it streams.

        The conversation is kept per client session: a new Client starts a new one. As an MCP
        tool each call starts a new conversation.

        Args:
            message: the message to the model
            system_prompt: instructions for the whole conversation, e.g. answer briefly (optional)
            temperature: 0 to 1 (default 0.7): 0 always picks the likeliest word
            top_p: 0.05 to 1 (default 0.95): sample from the likeliest words adding up to this
            max_new_tokens: the longest reply, in tokens, 1 to 4096 (default 512)
            repetition_penalty: 1 to 2 (default 1): above 1 discourages repeating words
            seed: a random seed for a reproducible reply, 0 to 2**63 - 1 (optional)

        Returns:
            the model's reply
        """
        settings = (temperature, top_p, max_new_tokens, repetition_penalty, seed)
        replying = self.chat_with_model(
            message, system_prompt, *settings, None, history, caller=caller
        )
        async with contextlib.aclosing(replying) as updates:
            async for update in updates:
                yield update

    async def chat_with_model(
        self,
        message: str,
        system_prompt: str = "",
        temperature: float = DEFAULTS.temperature,
        top_p: float = DEFAULTS.top_p,
        max_new_tokens: int = DEFAULTS.max_new_tokens,
        repetition_penalty: float = DEFAULTS.repetition_penalty,
        seed: int | None = None,
        model: str | None = None,
        history: list | None = None,
        *,
        caller: Caller | None = None,
    ):
        """Send a message to a chat model the server serves; yields the reply so far as it
        streams. The conversation is kept per client session, shared with chat.

        Args:
            message: the message to the model
            system_prompt: instructions for the whole conversation, e.g. answer briefly (optional)
            temperature: 0 to 1 (default 0.7): 0 always picks the likeliest word
            top_p: 0.05 to 1 (default 0.95): sample from the likeliest words adding up to this
            max_new_tokens: the longest reply, in tokens, 1 to 4096 (default 512)
            repetition_penalty: 1 to 2 (default 1): above 1 discourages repeating words
            seed: a random seed for a reproducible reply, 0 to 2**63 - 1 (optional)
            model: a model the chat server serves; empty: the configured one

        Returns:
            the model's reply
        """
        # The session's own list, kept current in place as the reply grows: a reply stopped
        # midway stays in the conversation, and updates need not carry it (gr.skip()). Only the
        # one that ends the reply does, when its text is new.
        history = history if history is not None else []
        controls = (temperature, top_p, max_new_tokens, repetition_penalty, seed)
        try:
            request, _ = self.prepare(history, message, system_prompt, *controls, model=model)
        except Exception as exc:
            raise_for_person(exc)
        asked, answer = {"role": "user", "content": content_text(message)}, assistant("")
        try:
            async with contextlib.aclosing(
                stream_reply(
                    self.endpoint, request, model=model, progress=notify_progress, caller=caller
                )
            ) as updates:
                async for update in updates:
                    if update.text == answer["content"]:
                        continue  # a finish reason alone changes nothing
                    if not answer["content"]:  # the turn joins the conversation
                        history.extend([asked, answer])
                    answer["content"] = update.text
                    yield update.text, history if update.final else gr.skip()
        except Exception as exc:
            reply = answer["content"]
            if not reply:
                history.append(asked)
            history.append(error_note(cut_short(person_message(exc), bool(reply))))
            yield reply, history
            raise_for_person(exc)
        if not answer["content"]:  # no text at all: the question stays in the conversation
            history.append(asked)
            yield "", history


def assistant(text: str) -> Message:
    return {"role": "assistant", "content": text}


def for_page(exc: Exception) -> str:
    """The short message for the person at the page (no settings, no hosts); the details go to
    the log in one line, as in every tab."""
    report(exc, "chat")
    if isinstance(exc, StudioError):
        return exc.for_person
    return UNEXPECTED.format(name=type(exc).__name__)


@shows_errors
def raise_for_person(exc: Exception) -> NoReturn:
    """Raise `exc` as the message an API caller sees: shows_errors, the one place, makes it."""
    raise exc


def person_message(exc: Exception) -> str:
    """The text `raise_for_person` would show, for an error note in the API's history."""
    if isinstance(exc, StudioError):
        return exc.message
    try:
        raise_for_person(exc)
    except gr.Error as error:
        return str(error.message)
    return str(exc)
