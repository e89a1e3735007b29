"""The Chat tab: a streaming chatbot whose Stop closes the connection to the model server.

    message ─ add_message ─ respond ─┐                    the page: history in the Chatbot
    /chat (gradio_client) ─ chat ────┴─ services.stream_reply   the API: history in a State

Both are async generators so that Stop reaches them at once: Gradio cancels the task, and
leaving `stream_reply` closes the upstream connection without waiting for the next token.
Updates come at most once per 40 ms (studio.tasks.pacing) however fast the model writes, each
with all the text so far; /chat's history State rides only on the last.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection
from typing import Any, NoReturn

import gradio as gr

from studio.backends.registry import ChatRequest, chat_request
from studio.config import Config, Endpoint
from studio.errors import InputError, StudioError
from studio.services import describe_backend, repetition_penalty_info, require_setup, stream_reply
from studio.tasks.chat import (
    ChatSettings,
    Message,
    build_messages,
    content_text,
    count_turns,
    error_note,
    undo_last_message,
    without_last_reply,
)
from studio.tasks.replies import ReplyStats, cut_short, mark_stopped, notes_line, stats_line
from studio.ui.common import notify_progress, setup_notice, shows_errors

DEFAULTS = ChatSettings()
EXAMPLES = [
    "Who is Andrew Ng?",
    "Explain in three sentences what a large language model is.",
    "Write a haiku about streaming replies.",
]
INSTANT = dict(queue=False, api_visibility="private")  # quick steps of the page, not the API


def build(config: Config, served: Collection[str] = ()) -> None:
    replies = Replies(config)
    setup_notice(config, "chat")
    gr.Markdown(describe_backend(config.endpoint("chat")), elem_id="chat-protocol")
    chatbot = gr.Chatbot(
        label="Chat",
        height=460,
        buttons=["copy", "copy_all"],
        examples=[{"text": text} for text in EXAMPLES],
        placeholder="Ask anything. Replies stream in as the model writes them.",
        elem_id="chat-bot",
    )
    stats = gr.Markdown(elem_id="chat-stats")
    with gr.Row(equal_height=True):
        message = gr.Textbox(
            label="Message",
            show_label=False,
            placeholder="Type a message and press Enter",
            scale=8,
            elem_id="chat-message",
        )
        send = gr.Button("Send", variant="primary", scale=1, min_width=80)
        stop = gr.Button("Stop", variant="stop", scale=1, min_width=80)
    with gr.Accordion("Settings", open=False):
        controls = settings_controls(config.endpoint("chat"))

    answering = gr.on(
        [message.submit, send.click], add_message, [message, chatbot], [message, chatbot], **INSTANT
    )
    streaming = dict(
        fn=replies.respond,
        inputs=[chatbot, *controls],
        outputs=[chatbot, stats],
        api_visibility="private",
    )
    running = [
        answering.success(**streaming),
        chatbot.retry(without_last_reply, chatbot, chatbot, **INSTANT).then(**streaming),
        chatbot.example_select(start_from_example, None, chatbot, **INSTANT).then(**streaming),
    ]
    chatbot.undo(undo_last_message, chatbot, [chatbot, message], **INSTANT)
    chatbot.clear(lambda: "", None, stats, cancels=running, **INSTANT)
    stop.click(None, None, None, cancels=running, **INSTANT).then(
        mark_stopped, stats, stats, **INSTANT
    )
    api_endpoint(replies, message, controls)


def settings_controls(endpoint: Endpoint) -> list[gr.components.Component]:
    """System prompt, temperature, top-p, max new tokens, repetition penalty, seed."""
    system_prompt = gr.Textbox(
        "",  # a value, so the API takes it as optional
        label="System prompt",
        placeholder="e.g. You are a helpful assistant who answers briefly.",
        lines=2,
    )
    with gr.Row():
        temperature = gr.Slider(
            0.0,
            1.0,
            DEFAULTS.temperature,
            step=0.05,
            label="Temperature",
            info="0 always picks the likeliest word; higher is more varied.",
        )
        top_p = gr.Slider(
            0.05,
            1.0,
            DEFAULTS.top_p,
            step=0.05,
            label="Top-p",
            info="Sample from the likeliest words that add up to this share; 1 is off.",
        )
    with gr.Row():
        max_new_tokens = gr.Slider(1, 4096, DEFAULTS.max_new_tokens, step=1, label="Max new tokens")
        repetition_penalty = gr.Slider(
            1.0,
            2.0,
            DEFAULTS.repetition_penalty,
            step=0.05,
            label="Repetition penalty",
            info=repetition_penalty_info(endpoint),
        )
        seed = gr.Number(label="Seed (empty: random)", value=None, precision=0, minimum=0)
    return [system_prompt, temperature, top_p, max_new_tokens, repetition_penalty, seed]


def api_endpoint(replies: Replies, message: gr.Textbox, controls: list) -> None:
    """/chat for gradio_client: the message first, the settings optional, and the history kept
    in the caller's session. Hidden components: the page has its own chat."""
    history = gr.State([])
    reply = gr.Textbox(label="Reply", visible=False)
    gr.Button(visible=False).click(
        replies.chat, [message, *controls, history], [reply, history], api_name="chat"
    )


class Replies:
    """The tab's streaming handlers for one configuration. They keep no state of their own:
    each person's conversation lives in their Chatbot, or in their API session's State."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.endpoint = config.endpoint("chat")

    def prepare(
        self, history: list, question: Any, system: str, *controls
    ) -> tuple[ChatRequest, str]:
        """The request for this turn, and notes for the person (settings not sent, turns left
        out). Raises our errors for what cannot be sent."""
        config = self.config
        require_setup(config, "chat")
        messages = build_messages(system, history, question, budget_chars=config.chat_budget_chars)
        request = chat_request(self.endpoint, messages, ChatSettings.from_controls(*controls))
        left_out = count_turns(history) - sum(m["role"] == "assistant" for m in messages)
        return request, notes_line(request.notes, left_out, config.chat_budget_chars)

    async def respond(self, history: list, system: str, *controls):
        """Answer the last user message in the Chatbot, streaming the reply into it."""
        history = list(history or [])
        if not history or history[-1].get("role") != "user":
            yield history, gr.skip()  # nothing new to answer
            return
        earlier, question = history[:-1], history[-1]["content"]
        try:
            request, notes = self.prepare(earlier, question, system, *controls)
        except Exception as exc:
            yield [*history, error_note(person_message(exc))], ""
            return
        reply, stats = "", ReplyStats()
        try:
            async with contextlib.aclosing(
                stream_reply(self.endpoint, request, progress=notify_progress)
            ) as updates:
                async for update in updates:
                    if update.new:
                        reply, stats = update.text, update.stats
                        yield [*history, assistant(reply)], stats_line(stats, notes)
        except Exception as exc:
            kept = [*history, assistant(reply)] if reply else history
            note = error_note(cut_short(person_message(exc), bool(reply)))
            yield [*kept, note], stats_line(stats, notes, failed=True)
            return
        if not reply:
            yield history, stats_line(stats, notes)

    async def chat(
        self,
        message: str,
        system_prompt: str = "",
        temperature: float = DEFAULTS.temperature,
        top_p: float = DEFAULTS.top_p,
        max_new_tokens: float = DEFAULTS.max_new_tokens,
        repetition_penalty: float = DEFAULTS.repetition_penalty,
        seed: float | None = None,
        history: list | None = None,
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
            seed: a random seed for a reproducible reply (optional)

        Returns:
            the model's reply
        """
        # The session's own list, kept current in place as the reply grows: a reply stopped
        # midway stays in the conversation, and updates need not carry it (gr.skip()). Only the
        # one that ends the reply does, when its text is new.
        history = history if history is not None else []
        controls = (temperature, top_p, max_new_tokens, repetition_penalty, seed)
        try:
            request, _ = self.prepare(history, message, system_prompt, *controls)
        except Exception as exc:
            raise_for_person(exc)
        asked, answer = {"role": "user", "content": content_text(message)}, assistant("")
        try:
            async with contextlib.aclosing(
                stream_reply(self.endpoint, request, progress=notify_progress)
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


# --- history -----------------------------------------------------------------------------------


def assistant(text: str) -> Message:
    return {"role": "assistant", "content": text}


@shows_errors
def add_message(message: str, history: list | None) -> tuple[str, list]:
    """Move the typed message into the chat, at once, before the reply is asked for."""
    text = (message or "").strip()
    if not text:
        raise InputError("Type a message first.")
    return "", [*(history or []), {"role": "user", "content": text}]


def start_from_example(selected: gr.SelectData) -> list:
    return [{"role": "user", "content": selected.value["text"]}]


# --- settings and what the person is told ------------------------------------------------------


@shows_errors
def raise_for_person(exc: Exception) -> NoReturn:
    """Raise `exc` as the message a person sees: shows_errors, the one place, makes it."""
    raise exc


def person_message(exc: Exception) -> str:
    """The text `raise_for_person` would show, for an error note in the chat."""
    if isinstance(exc, StudioError):
        return exc.message
    try:
        raise_for_person(exc)
    except gr.Error as error:
        return str(error.message)
    return str(exc)
