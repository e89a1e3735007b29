"""The Chat tab: a streaming chatbot, as people know it from Gradio's ChatInterface.

    Send / Enter ─┐                                  the page: history in the Chatbot
    Retry, edit ──┼─ a start (instant) ─ turn ─ Replies.reply ─ services.stream_reply
    example ──────┤   claims the session             Send turns into Stop while it streams
    Continue ─────┘   (one reply at a time)
    /chat, /chat_with_model ─ Replies.chat           the API: history in a State

While a reply streams the message box stays editable but sends nothing: what is typed there
waits in it, and Enter sends it once the reply has ended. A start that finds the session busy,
or nothing to send, changes nothing, quietly. The starts and the turn are in
studio.ui.chat_turns, the streaming in studio.ui.chat_replies; this module builds and wires.
"""

from __future__ import annotations

from collections.abc import Collection

import gradio as gr

from studio.classroom.people import with_caller
from studio.classroom.usage import Meter
from studio.config import Config, Endpoint
from studio.services import describe_backend, repetition_penalty_info
from studio.tasks.chat import MAX_NEW_TOKENS, REPETITION_PENALTY, TEMPERATURE, TOP_P
from studio.tasks.replies import mark_stopped
from studio.ui.chat_replies import Replies
from studio.ui.chat_turns import (
    READY,
    ChatSession,
    ask,
    edit,
    example,
    finished,
    go_on,
    retry,
    turn_handler,
    undo,
)
from studio.ui.code_panel import code_panel
from studio.ui.common import setup_notice, slider
from studio.ui.model_picker import model_picker

EXAMPLES = [
    "Who is Andrew Ng?",
    "Explain in three sentences what a large language model is.",
    "Write a haiku about streaming replies.",
]
INSTANT = dict(queue=False, api_visibility="private")  # quick steps of the page, not the API
# The chat as the page sent it, unprocessed, for chat_turns.received to check before anything
# reads it: Gradio's own processing would open a file a crafted history names.
AS_SENT = dict(INSTANT, preprocess=False)
NOTHING_SENT = "Nothing sent yet: the prompt of the next reply shows here."


def build(config: Config, served: Collection[str] = (), meter: Meter | None = None) -> None:
    replies = Replies(config)
    setup_notice(config, "chat", "This chat has no model to talk to yet.")
    gr.Markdown(describe_backend(config.endpoint("chat")), elem_id="chat-protocol")
    # The person's model, when the server serves several (None: fixed where the studio runs).
    picker = model_picker(config.endpoint("chat"))
    model = picker or gr.State(None)
    chatbot = gr.Chatbot(
        label="Chat",
        height=460,
        buttons=["copy", "copy_all"],
        editable="user",
        examples=[{"text": text} for text in EXAMPLES],
        placeholder="Ask anything. Replies stream in as the model writes them.",
        elem_id="chat-bot",
    )
    with gr.Row(equal_height=True):
        stats = gr.Markdown(elem_id="chat-stats")
        carry_on = gr.Button(
            "Continue", visible=False, size="sm", scale=0, min_width=110, elem_id="chat-continue"
        )
    with gr.Row(equal_height=True, elem_id="chat-input-row"):
        message = gr.Textbox(
            label="Message",
            show_label=False,
            placeholder=READY,
            scale=8,
            min_width=120,  # with the one button, a phone's width: Stop never wraps below
            elem_id="chat-message",
        )
        # One place: Send while nothing streams, Stop while a reply does.
        send = gr.Button("Send", variant="primary", scale=1, min_width=80, elem_id="chat-send")
        stop = gr.Button(
            "Stop", variant="stop", scale=1, min_width=80, visible=False, elem_id="chat-stop"
        )
    with gr.Accordion("Settings", open=False):
        controls = settings_controls(config.endpoint("chat"))
    with gr.Accordion("What the model received", open=False, elem_id="chat-sent-view"):
        sent_settings = gr.Markdown(NOTHING_SENT, elem_id="chat-sent-settings")
        sent = gr.Code("", label="Prompt sent", interactive=False, elem_id="chat-sent")
    panel = code_panel("chat")
    session = gr.State(ChatSession())
    wire(
        replies,
        session,
        chatbot,
        message,
        (send, stop, carry_on),
        (stats, sent, sent_settings, *panel.outputs),
        [model, *controls],
        meter,
    )
    api_endpoint(replies, message, controls, meter, picks_model=picker is not None)


def wire(replies, session, chatbot, message, buttons, shown, controls, meter=None) -> None:
    """`shown`: the stats line, the prompt sent and its settings, then the code panel;
    `controls`: the model first, then the settings; `meter`: the app's, for the turn."""
    send, stop, carry_on = buttons
    stats, sent, sent_settings, *panel = shown
    starting = [chatbot, message, *buttons]
    turn = dict(
        fn=with_caller(turn_handler(replies), meter),
        inputs=[session, *controls],
        outputs=[chatbot, stats, sent, sent_settings, message, *buttons, *panel],
        show_progress="hidden",
        api_visibility="private",
        preprocess=False,  # the settings' own rules check them, and name the one that is wrong
        # A turn started by a quick no-op (an empty send) may still be on its way when the
        # next one is due: each runs, and only the one that finds a claim streams.
        trigger_mode="multiple",
    )
    running = [
        gr.on(
            [message.submit, send.click],
            ask,
            [message, chatbot, session],
            starting,
            trigger_mode="multiple",  # an Enter right after an empty send is not skipped
            **AS_SENT,
        ).then(**turn),
        chatbot.retry(retry, [chatbot, session], starting, **AS_SENT).then(**turn),
        chatbot.edit(edit, [chatbot, session], starting, **AS_SENT).then(**turn),
        chatbot.example_select(example, session, starting, **INSTANT).then(**turn),
        carry_on.click(go_on, [chatbot, session], starting, **AS_SENT).then(**turn),
    ]
    chatbot.undo(undo, [chatbot, session], [chatbot, message], **AS_SENT)
    ended = [session, stats]
    idle = [stats, message, *buttons]
    chatbot.clear(lambda s, _: finished(s, ""), ended, idle, cancels=running, **INSTANT)
    stop.click(None, None, None, cancels=running, **INSTANT).then(
        lambda s, line: finished(s, mark_stopped(line)), ended, idle, **INSTANT
    )


# --- settings, setup and the API ---------------------------------------------------------------


def settings_controls(endpoint: Endpoint) -> list[gr.components.Component]:
    """System prompt, temperature, top-p, max new tokens, repetition penalty, seed."""
    system_prompt = gr.Textbox(
        "",  # a value, so the API takes it as optional
        label="System prompt",
        placeholder="e.g. You are a helpful assistant who answers briefly.",
        lines=2,
    )
    with gr.Row():
        temperature = slider(
            TEMPERATURE,
            0.05,
            label="Temperature",
            info="0 always picks the likeliest word; higher is more varied.",
        )
        top_p = slider(
            TOP_P,
            0.05,
            label="Top-p",
            info="Sample from the likeliest words that add up to this share; 1 is off.",
        )
    with gr.Row():
        max_new_tokens = slider(MAX_NEW_TOKENS, 1, label="Max new tokens")
        repetition_penalty = slider(
            REPETITION_PENALTY,
            0.05,
            label="Repetition penalty",
            info=repetition_penalty_info(endpoint),
        )
        # Text, not a number box, which would show 0: empty means a random seed.
        seed = gr.Textbox(
            label="Seed (empty: random)", placeholder="random", max_lines=1, elem_id="chat-seed"
        )
    return [system_prompt, temperature, top_p, max_new_tokens, repetition_penalty, seed]


def api_endpoint(
    replies: Replies,
    message: gr.Textbox,
    controls: list,
    meter: Meter | None = None,
    *,
    picks_model: bool = False,
) -> None:
    """/chat for gradio_client and curl: the message first, the settings optional, and the
    history kept in the caller's session. Hidden components: the page has its own chat. The
    seed is a number here, as it always was for API callers; the page's is a text box.

    /chat keeps the seven inputs it was published with (Gradio's REST API needs every input,
    so one more would break every curl script). Where the server serves several models,
    /chat_with_model takes the model as an eighth (empty: the configured one); both share the
    session's conversation. Not preprocessed: the settings' own rules check what arrives."""
    history = gr.State([])
    reply = gr.Textbox(label="Reply", visible=False)
    seed = gr.Number(label="Seed (empty: random)", value=None, precision=0, visible=False)
    settings = [message, *controls[:-1], seed]
    endpoints = [(replies.chat, settings)]
    if picks_model:
        model = gr.Textbox("", label="Model (empty: the configured one)", visible=False)
        endpoints.append((replies.chat_with_model, [*settings, model]))
    for fn, inputs in endpoints:
        gr.Button(visible=False).click(
            with_caller(fn, meter),
            [*inputs, history],
            [reply, history],
            api_name=fn.__name__,
            preprocess=False,
        )
