"""The Chat tab's page: its components, its settings, and its events wired in one place.

While a reply streams the message box stays editable but sends nothing: what is typed there
waits in it, and Enter sends it once the reply has ended. A start that finds the session busy,
or nothing to send, changes nothing, quietly. The handlers are in studio.ui.chat.turns, the
API's in studio.ui.chat.api; both stream a turn through studio.chat.turn.stream_turn.
"""

from __future__ import annotations

from collections.abc import Collection

import gradio as gr

from studio.classroom.people import with_caller
from studio.classroom.usage import Meter
from studio.config import Config, Endpoint
from studio.services import carries_pictures, describe_backend, repetition_penalty_info
from studio.tasks.chat import MAX_NEW_TOKENS, REPETITION_PENALTY, TEMPERATURE, TOP_P
from studio.ui.chat.api import ChatApi, api_endpoint
from studio.ui.chat.pictures import camera
from studio.ui.chat.probabilities import (
    Branching,
    ProbabilityViews,
    probabilities_view,
    wire_probabilities,
)
from studio.ui.chat.reply_options import reply_options
from studio.ui.chat.turns import READY, ChatPage, ChatSession, ChatTurns
from studio.ui.code_panel import code_panel
from studio.ui.common import setup_notice, slider
from studio.ui.model_picker import model_picker
from studio.ui.status_line import status_line
from studio.ui.viewer import on_this_computer

EXAMPLES = [
    "Who is Andrew Ng?",
    "Explain in three sentences what a large language model is.",
    "Write a haiku about streaming replies.",
]
INSTANT = dict(queue=False, api_visibility="private")  # quick steps of the page, not the API
# The chat as the page sent it, unprocessed, for turns.received to check before anything reads
# it: Gradio's own processing would open a file a crafted history names.
AS_SENT = dict(INSTANT, preprocess=False)
NOTHING_SENT = "Nothing sent yet: the prompt of the next reply shows here."


def build(config: Config, served: Collection[str] = (), meter: Meter | None = None) -> None:
    setup_notice(config, "chat", "This chat has no model to talk to yet.")
    # The person's model, when the server serves several (None: fixed where the studio runs).
    endpoint = config.endpoint("chat")
    page, settings, options, picker, views = chat_page(endpoint)
    model = picker or gr.State(None)
    session, inputs = gr.State(ChatSession()), [model, *settings, *options]
    turns = wire(ChatTurns(config, page), session, inputs, meter)
    wire_probabilities(views, Branching(config, page, meter), session, inputs, turns)
    api = ChatApi(config, folder=page.chatbot.GRADIO_CACHE)
    takes = dict(picks_model=picker is not None, takes_images=carries_pictures(endpoint))
    api_endpoint(api, settings, meter, **takes)


def replies_from(endpoint: Endpoint) -> str:
    """Which model answers, in a line for whoever chats (a fixed one: there is no picker)."""
    if endpoint.model:
        return f"Replies come from the model `{endpoint.model}`."
    return "Replies come from the model the server runs."


def chat_page(
    endpoint: Endpoint,
) -> tuple[ChatPage, list, list, gr.Dropdown | None, ProbabilityViews]:
    """The conversation in the first screen, as ChatInterface has it, with the probabilities
    view under it; beside it (under it on a phone) the model, its picker and the settings with
    the reply's options; below both, what the model received and the card and code of the last
    reply."""
    with gr.Row(elem_id="chat-layout"):
        with gr.Column(scale=3, min_width=320, elem_id="chat-conversation"):
            parts = conversation(pictures=carries_pictures(endpoint))
            views = probabilities_view()
        with gr.Column(scale=1, min_width=240, elem_id="chat-side"):
            picker = model_picker(endpoint)
            if picker is None:  # no list to pick from: say which model replies
                gr.Markdown(replies_from(endpoint), elem_id="chat-model-line")
            with gr.Accordion("Settings", open=False):
                settings = settings_controls(endpoint)
                options = reply_options()  # Thinking, token probabilities: after the seed
    with gr.Accordion("What the model received", open=False, elem_id="chat-sent-view"):
        # How the request travels, for whoever runs the studio: not a student's business.
        gr.Markdown(describe_backend(endpoint), elem_id="chat-protocol")
        sent_settings = gr.Markdown(NOTHING_SENT, elem_id="chat-sent-settings")
        sent = gr.Code("", label="Prompt sent", interactive=False, elem_id="chat-sent")
    panel = code_panel("chat")
    page = ChatPage(**parts, sent=sent, sent_settings=sent_settings, panel=panel)
    return page, settings, options, picker, views


def conversation(*, pictures: bool) -> dict:
    """The chat, its stats line with Continue, the status line, the message box with Send and
    Stop, and, where requests carry `pictures`, the camera. The chat's height follows the
    screen's (`--chat-height`, studio.ui.look), so the box stays in the first screen of a
    laptop, in presentation mode too."""
    parts: dict = {}
    parts["chatbot"] = gr.Chatbot(
        label="Chat",
        height="var(--chat-height)",
        buttons=["copy", "copy_all"],
        editable="user",
        examples=[{"text": text} for text in EXAMPLES],
        placeholder="Ask anything. Replies stream in as the model writes them.",
        elem_id="chat-bot",
    )
    with gr.Row(equal_height=True):
        parts["stats_line"] = gr.Markdown(elem_id="chat-stats")
        parts["continue_button"] = gr.Button(
            "Continue", visible=False, size="sm", scale=0, min_width=110, elem_id="chat-continue"
        )
    parts["status"] = status_line("chat")
    with gr.Row(equal_height=True, elem_id="chat-input-row"):
        parts["message"] = gr.MultimodalTextbox(  # text, and pictures uploaded, dropped or pasted
            label="Message",
            show_label=False,
            placeholder=READY,
            file_types=["image"],
            file_count="multiple",
            # No upload where requests carry text alone: the person is not offered what fails.
            sources=["upload"] if pictures else [],
            submit_btn=False,
            scale=8,
            min_width=120,  # with the one button, a phone's width: Stop never wraps below
            elem_id="chat-message",
        )
        # One place: Send while nothing streams, Stop while a reply does.
        parts["send"] = gr.Button(
            "Send", variant="primary", scale=1, min_width=80, elem_id="chat-send"
        )
        parts["stop"] = gr.Button(
            "Stop", variant="stop", scale=1, min_width=80, visible=False, elem_id="chat-stop"
        )
    if pictures:
        camera(parts["message"])
    return parts


def wire(turns: ChatTurns, session: gr.State, inputs: list, meter: Meter | None = None) -> list:
    """Each start claims the session at once, then the turn streams. `inputs`: the model first,
    then the settings; `meter`: the app's, for the turn. Returns the turns' events, for what
    shows once a reply has ended."""
    page = turns.page
    starting = page.starting
    turn = dict(
        fn=with_caller(turns.turn, meter),
        inputs=[session, *inputs],
        outputs=page.streaming,
        show_progress="hidden",
        api_visibility="private",
        preprocess=False,  # the settings' own rules check them, and name the one that is wrong
        # A turn started by a quick no-op (an empty send) may still be on its way when the
        # next one is due: each runs, and only the one that finds a claim streams.
        trigger_mode="multiple",
    )
    chatbot, history = page.chatbot, [page.chatbot, session]
    gr.on(None, where, session, session, **INSTANT)  # on page load
    running = [
        gr.on(
            [page.message.submit, page.send.click],
            turns.ask,
            [page.message, *history],
            starting,
            trigger_mode="multiple",  # an Enter right after an empty send is not skipped
            **AS_SENT,
        ).then(**turn),
        chatbot.retry(turns.retry, history, starting, **AS_SENT).then(**turn),
        chatbot.edit(turns.edit, history, starting, **AS_SENT).then(**turn),
        chatbot.example_select(turns.example, session, starting, **INSTANT).then(**turn),
        page.continue_button.click(turns.continue_reply, history, starting, **AS_SENT).then(**turn),
    ]
    chatbot.undo(turns.undo, history, [chatbot, page.message], **AS_SENT)
    chatbot.clear(turns.cleared, session, page.ending, cancels=running, **INSTANT)
    page.stop.click(None, None, None, cancels=running, **INSTANT).then(
        turns.stopped, [session, page.stats_line], page.ending, **INSTANT
    )
    return running


def where(session: ChatSession, request: gr.Request) -> ChatSession:
    """Whether the page is open on the computer that runs the studio: a failure's note in the
    chat then says what to fix."""
    session.here = on_this_computer(request)
    return session


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
        max_new_tokens = slider(
            MAX_NEW_TOKENS,
            1,
            label="Max new tokens",
            info="The longest reply, in tokens, pieces of words: 100 are about 75 words.",
        )
        repetition_penalty = slider(
            REPETITION_PENALTY,
            0.05,
            label="Repetition penalty",
            info=repetition_penalty_info(endpoint),
        )
        # Text, not a number box, which would show 0: empty means a random seed.
        seed = gr.Textbox(
            label="Seed",
            info="The same seed and settings give the same reply again; empty: random.",
            placeholder="random",
            max_lines=1,
            elem_id="chat-seed",
        )
    return [system_prompt, temperature, top_p, max_new_tokens, repetition_penalty, seed]
