"""The Chat tab: a streaming chatbot, as people know it from Gradio's ChatInterface.

    Send / Enter ─┐                                  the page: history in the Chatbot
    Retry, edit ──┼─ a start (instant) ─ turn ─ Replies.reply ─ services.stream_reply
    example ──────┤   claims the session             Send turns into Stop while it streams
    Continue ─────┘   (one reply at a time)
    /chat (gradio_client) ─ Replies.chat             the API: history in a State

While a reply streams the message box stays editable but sends nothing: what is typed there
waits in it, and Enter sends it once the reply has ended. A start that finds the session busy,
or nothing to send, changes nothing, quietly. The starts and the turn are in
studio.ui.chat_turns, the streaming in studio.ui.chat_replies; this module builds and wires.
"""

from __future__ import annotations

from collections.abc import Collection

import gradio as gr

from studio.config import Config, Endpoint
from studio.services import describe_backend, repetition_penalty_info
from studio.tasks.replies import mark_stopped
from studio.ui.chat_replies import DEFAULTS, Replies
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
from studio.ui.common import setup_notice
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


def build(config: Config, served: Collection[str] = ()) -> None:
    replies = Replies(config)
    setup_notice(config, "chat", "This chat has no model to talk to yet.")
    gr.Markdown(describe_backend(config.endpoint("chat")), elem_id="chat-protocol")
    # The person's model, when the server serves several (None: fixed where the studio runs).
    model = model_picker(config.endpoint("chat")) or gr.State(None)
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
    )
    api_endpoint(replies, message, controls)


def wire(replies, session, chatbot, message, buttons, shown, controls) -> None:
    """`shown`: the stats line, the prompt sent and its settings, then the code panel;
    `controls`: the model first, then the settings."""
    send, stop, carry_on = buttons
    stats, sent, sent_settings, *panel = shown
    starting = [chatbot, message, *buttons]
    turn = dict(
        fn=turn_handler(replies),
        inputs=[session, *controls],
        outputs=[chatbot, stats, sent, sent_settings, message, *buttons, *panel],
        show_progress="hidden",
        api_visibility="private",
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
        # Text, not a number box, which would show 0: empty means a random seed.
        seed = gr.Textbox(
            label="Seed (empty: random)", placeholder="random", max_lines=1, elem_id="chat-seed"
        )
    return [system_prompt, temperature, top_p, max_new_tokens, repetition_penalty, seed]


def api_endpoint(replies: Replies, message: gr.Textbox, controls: list) -> None:
    """/chat for gradio_client: the message first, the settings optional, and the history kept
    in the caller's session. Hidden components: the page has its own chat. The seed is a
    number here, as it always was for API callers; the page's is a text box. The model comes
    last, optional: empty, the configured one."""
    history = gr.State([])
    reply = gr.Textbox(label="Reply", visible=False)
    seed = gr.Number(label="Seed (empty: random)", value=None, precision=0, visible=False)
    model = gr.Textbox("", label="Model (empty: the configured one)", visible=False)
    gr.Button(visible=False).click(
        replies.chat,
        [message, *controls[:-1], seed, model, history],
        [reply, history],
        api_name="chat",
    )
