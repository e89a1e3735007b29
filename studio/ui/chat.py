"""The Chat tab: a streaming chatbot whose Stop closes the connection to the model server.

    message ─ add_message ─ respond ─┐                    the page: history in the Chatbot
    /chat (gradio_client) ─ chat ────┴─ stream_reply      the API: history in the session's State
                                         └ a thread reads transport.stream_chat

Both are async generators so that Stop reaches them at once: Gradio cancels the task, the
`finally` sets the reply's `Cancel`, which shuts the socket the reading thread is blocked on, and
the server sees the connection close without waiting for its next token.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections.abc import AsyncIterator, Callable, Collection, Iterator
from typing import Any, NoReturn, TypeVar

import gradio as gr

from studio.config import Config, Endpoint
from studio.errors import ConfigurationError, InputError, StudioError
from studio.tasks.chat import (
    TEMPLATES,
    ChatSettings,
    Message,
    ReplyStats,
    build_messages,
    content_text,
    count_turns,
    error_note,
)
from studio.transport import Cancel, ChatRequest, chat_request, stream_chat
from studio.ui.common import notify_progress, require_setup, setup_notice, shows_errors

DEFAULTS = ChatSettings()
EXAMPLES = [
    "Who is Andrew Ng?",
    "Explain in three sentences what a large language model is.",
    "Write a haiku about streaming replies.",
]
INSTANT = dict(queue=False, api_visibility="private")  # quick steps of the page, not the API
T = TypeVar("T")


def build(config: Config, served: Collection[str] = ()) -> None:
    replies = Replies(config)
    setup_notice(config, "chat")
    if problem := template_problem(config):
        gr.Markdown(f"> **Setup needed.** {problem}", elem_classes=["setup-needed"])
    gr.Markdown(describe_protocol(config), elem_id="chat-protocol")
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
        if problem := template_problem(config):
            raise ConfigurationError(problem)
        messages = build_messages(system, history, question, budget_chars=config.chat_budget_chars)
        request = chat_request(
            self.endpoint, messages, settings_from(*controls), template=config.chat_template
        )
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
            async with contextlib.aclosing(stream_reply(self.endpoint, request)) as pieces:
                async for reply, stats in pieces:
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

        The conversation is kept per client session: a new Client starts a new one.
        """
        history = list(history or [])
        controls = (temperature, top_p, max_new_tokens, repetition_penalty, seed)
        try:
            request, _ = self.prepare(history, message, system_prompt, *controls)
        except Exception as exc:
            raise_for_person(exc)
        asked = [*history, {"role": "user", "content": content_text(message)}]
        reply = shown = ""
        try:
            async with contextlib.aclosing(stream_reply(self.endpoint, request)) as pieces:
                async for reply, _stats in pieces:
                    if reply != shown:  # a piece with only a finish reason changes nothing
                        shown = reply
                        yield reply, [*asked, assistant(reply)]
        except Exception as exc:
            kept = [*asked, assistant(reply)] if reply else asked
            yield reply, [*kept, error_note(cut_short(person_message(exc), bool(reply)))]
            raise_for_person(exc)
        if not shown:
            yield "", asked


# --- streaming ---------------------------------------------------------------------------------


async def stream_reply(
    endpoint: Endpoint, request: ChatRequest
) -> AsyncIterator[tuple[str, ReplyStats]]:
    """The reply so far and its timing, after each piece that arrives.

    Closing or cancelling this closes the upstream connection at once (see the module's doc).
    """
    cancel = Cancel()
    stats = ReplyStats()  # started before the request is sent: time to first token includes it
    text = ""
    pieces = iterate_in_thread(
        lambda: stream_chat(endpoint, request, cancel, progress=notify_progress), cancel
    )
    async with contextlib.aclosing(pieces):
        async for delta in pieces:
            stats.add(delta)
            text += delta.text
            yield text, stats


_END = object()


async def iterate_in_thread(make: Callable[[], Iterator[T]], cancel: Cancel) -> AsyncIterator[T]:
    """Items of a blocking iterator, read in a thread of its own, handed to the event loop.

    The thread owns the iterator from creation to `close`, so closing never races a read.
    Leaving this generator in any way (end, error, close, task cancelled) sets `cancel`, which
    interrupts the thread's blocked read; the thread then closes the iterator and ends.
    """
    loop = asyncio.get_running_loop()
    items: asyncio.Queue = asyncio.Queue()

    def hand_over(item: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the event loop is gone: the app is stopping
            loop.call_soon_threadsafe(items.put_nowait, item)

    def pump() -> None:
        try:
            with contextlib.closing(make()) as iterator:
                for item in iterator:
                    if cancel.is_set():
                        break
                    hand_over(item)
        except Exception as exc:  # re-raised by the reader, in the event loop
            hand_over(exc)
        else:
            hand_over(_END)

    # The thread runs in this event's context, so it can show progress messages to the person.
    context = contextvars.copy_context()
    threading.Thread(target=context.run, args=(pump,), name="chat-stream", daemon=True).start()
    try:
        while (item := await items.get()) is not _END:
            if isinstance(item, Exception):
                raise item
            yield item
    finally:
        cancel.set()


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


def _last_user_index(history: list) -> int | None:
    return next((i for i in range(len(history) - 1, -1, -1) if history[i]["role"] == "user"), None)


def without_last_reply(history: list | None) -> list:
    """For Retry: the chat up to the last user message, whose reply is then asked for again."""
    history = list(history or [])
    index = _last_user_index(history)
    return history if index is None else history[: index + 1]


def undo_last_message(history: list | None) -> tuple[list, str]:
    """For Undo: the chat before the last user message, which goes back into the message box."""
    history = list(history or [])
    index = _last_user_index(history)
    if index is None:
        return history, ""
    return history[:index], content_text(history[index]["content"])


def start_from_example(selected: gr.SelectData) -> list:
    return [{"role": "user", "content": selected.value["text"]}]


# --- settings and what the person is told ------------------------------------------------------


def settings_from(
    temperature: float | None,
    top_p: float | None,
    max_new_tokens: float | None,
    repetition_penalty: float | None,
    seed: float | None,
) -> ChatSettings:
    """The controls' values (numbers, or None from an API call that left them out)."""

    def number(value: float | None, default: float) -> float:
        return default if value is None else float(value)

    return ChatSettings(
        temperature=number(temperature, DEFAULTS.temperature),
        top_p=number(top_p, DEFAULTS.top_p),
        max_new_tokens=int(number(max_new_tokens, DEFAULTS.max_new_tokens)),
        repetition_penalty=number(repetition_penalty, DEFAULTS.repetition_penalty),
        seed=None if seed is None or seed == "" else int(seed),
    )


def template_problem(config: Config) -> str | None:
    """Why the prompt format setting cannot be used, for a TGI server; None when it can."""
    if config.endpoint("chat").protocol != "tgi" or config.chat_template in TEMPLATES:
        return None
    return (
        f"STUDIO_CHAT_TEMPLATE={config.chat_template} is not a prompt format the studio knows; "
        f"set it to one of {', '.join(TEMPLATES)} (the format the model was trained on)."
    )


def describe_protocol(config: Config) -> str:
    endpoint = config.endpoint("chat")
    model = f"Model `{endpoint.model}`" if endpoint.model else "The server's own model"
    if endpoint.protocol == "local":
        return f"{model}, running on this computer."
    if endpoint.protocol == "tgi":
        how = f"TGI's `/generate_stream`, prompt format `{config.chat_template}`"
    else:
        how = "chat completions"
    return f"{model} via {how} at {endpoint.host}."


def repetition_penalty_info(endpoint: Endpoint) -> str:
    if endpoint.protocol == "openai" and endpoint.on_router:
        return "Not sent: the router's chat API has no such setting."
    if endpoint.protocol == "openai":
        return "1 is off. Sent as repetition_penalty, which vLLM and TGI accept."
    return "1 is off; higher discourages repeating words."


def notes_line(notes: tuple[str, ...], left_out: int, budget_chars: int) -> str:
    lines = list(notes)
    if left_out > 0:
        turns = "exchange was" if left_out == 1 else "exchanges were"
        lines.append(
            f"The {left_out} oldest {turns} left out to keep the conversation within "
            f"{budget_chars:,} characters (STUDIO_CHAT_BUDGET_CHARS)."
        )
    return " ".join(lines)


def stats_line(stats: ReplyStats, notes: str = "", *, failed: bool = False) -> str:
    """Time to first token, tokens per second and finish reason, in small print."""
    summary = stats.summary() + (" · failed" if failed else "")
    return "\n\n".join(f"<small>{text}</small>" for text in (summary, notes) if text)


def mark_stopped(line: str | None) -> str:
    """The stats line of a reply the person stopped; a finished reply's line is left alone."""
    if not line or any(word in line for word in ("finished:", "failed", "stopped")):
        return line or ""
    first, _, rest = line.partition("</small>")
    return f"{first} · stopped by you</small>{rest}"


def cut_short(message: str, partial: bool) -> str:
    return f"The reply above is incomplete. {message}" if partial else message


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
