"""The Chat tab's turn-taking: starts that claim the session at once, and the turn that streams.

    a start (instant): the chat to answer, handed over in the session's ChatSession; Send
        turns into Stop; a session busy with a reply, or nothing to send, changes nothing
    the turn (queued): takes what the start handed over, once, and streams it
        (chat_replies.Replies.reply); then Send is back, and Continue if the reply was cut

Handlers only: studio.ui.chat builds the components and wires these to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from studio.backends.registry import ChatRequest
from studio.tasks.chat import (
    ChatSettings,
    content_text,
    text_only,
    undo_last_message,
    without_last_reply,
)
from studio.tasks.continuing import history_edited
from studio.ui.chat_replies import Ended, Replies
from studio.ui.code_panel import chat_shown
from studio.ui.common import shows_errors

READY = "Type a message and press Enter"
WAITING = "Type on: Enter sends it when the reply ends"


@dataclass
class ChatSession:
    """One page's turn-taking, in its State: whether a reply streams, and the chat a start
    handed to the turn that streams it."""

    busy: bool = False
    chat: list | None = None
    continuing: bool = False

    def claim(self, chat: list, *, continuing: bool = False) -> None:
        self.busy, self.chat, self.continuing = True, chat, continuing

    def take(self) -> tuple[list, bool] | None:
        """The chat to answer, once: a second turn started by mistake finds nothing."""
        chat, self.chat = self.chat, None
        return None if chat is None else (chat, self.continuing)


PANEL = 5  # the reproducibility card and the four snippets (studio.ui.code_panel)


def turn_handler(replies: Replies):
    async def turn(session: ChatSession, model: str | None, system: str, *controls, caller=None):
        """Stream the reply the start claimed by the model the person picked, counted against
        `caller`; then Send is back, Continue if it was cut, and the reply's card and code."""
        claimed = session.take()
        if claimed is None:
            yield (gr.skip(),) * (8 + PANEL)
            return
        chat, continuing = claimed
        ended = Ended()
        try:
            async for shown, line, request in replies.reply(
                chat,
                system,
                *controls,
                continuing=continuing,
                ended=ended,
                model=model,
                caller=caller,
            ):
                yield (shown, line, *sent_view(request), *(gr.skip(),) * (4 + PANEL))
        finally:
            session.busy = False  # also when Stop cancels this
        cut = ended.finish_reason == "length"
        panel = answer_panel(replies, ended, chat, model, system, controls)
        yield (gr.skip(),) * 4 + (*idle_controls(), gr.update(visible=cut), *panel)

    return turn


def answer_panel(replies: Replies, ended: Ended, chat: list, model, system, controls) -> tuple:
    """The card and the code of a reply that ended well; left as they were otherwise."""
    if ended.request is None or ended.stats is None:
        return (gr.skip(),) * PANEL
    question = next((m["content"] for m in reversed(chat) if m.get("role") == "user"), "")
    *numbers, seed = controls
    settings = ChatSettings.from_controls(*numbers, seed)  # the seed typed as text, as a number
    return chat_shown(
        replies.config,
        ended.request,
        ended.stats,
        content_text(question),
        system,
        *numbers,
        settings.seed,
        model=model,
    )


def sent_view(request: ChatRequest | None) -> tuple:
    if request is None:
        return gr.skip(), gr.skip()
    text, language = request.shown()
    return gr.update(value=text, language=language), f"Sent to `{request.settings_shown()}`"


# --- starts: instant, each claims the session or changes nothing ------------------------------


def answering(session: ChatSession, chat: list, *, continuing: bool = False, box=None) -> tuple:
    session.claim(chat, continuing=continuing)
    box = box if box is not None else gr.update(placeholder=WAITING)
    hidden, shown = gr.update(visible=False), gr.update(visible=True)
    return chat, box, hidden, shown, hidden


def nothing() -> tuple:
    return (gr.skip(),) * 5


@shows_errors  # a gr.Error in plain words, and one line in the log
def received(history: Any) -> list:
    """The chat as the page sent it, if it holds only text: the studio reads no file because
    a client named one.

    Every start sends the Chatbot's value from the client, and Gradio's Chatbot processing
    turns a `component` part of it into a component built with that part's value: a part such
    as `{"type": "component", "component": "file", "value": {"path": "notes.txt"}}` would copy
    the file it names, anywhere under the working folder or the temp folder, into the cache
    Gradio serves. So the starts take the chat unprocessed (`preprocess=False`, studio.ui.chat)
    and this refuses any part but text before anything reads it. A page of this studio sends
    only text (the chat takes no uploads): a history with anything else was made by hand.

    What Gradio guards already, processed or not: a part marked as a file must name one that
    came through its upload route, and event data (the example picked, the message edited) may
    name no file outside its cache. The picture tabs take their images unprocessed too, and
    open only a file in that cache (studio.ui.common.uploaded_path). tests/test_client_files.py
    holds all of this to account through the running app.
    """
    return text_only(history)


async def ask(message: Any, history: Any, session: ChatSession) -> tuple:
    """Move the typed message into the chat, at once, before the reply is asked for. An empty
    box, or a reply still streaming, leaves everything as it is: the text waits in the box.
    Async, so two of them (a double Enter) run one after the other on the event loop."""
    history, text = received(history), content_text(message)
    if not text or session.busy:
        return nothing()
    chat = [*history, {"role": "user", "content": text}]
    return answering(session, chat, box=gr.update(value="", placeholder=WAITING))


def retry(history: Any, session: ChatSession) -> tuple:
    chat = without_last_reply(received(history))
    if session.busy or not chat:
        return nothing()
    return answering(session, chat)


def edit(history: Any, session: ChatSession, edited: gr.EditData) -> tuple:
    """An edited question: the chat after it goes, and a new reply is asked for."""
    history = received(history)
    if session.busy:
        return (history, *nothing()[1:])  # the edit is not kept
    return answering(session, history_edited(history, edited.index, edited.value))


def example(session: ChatSession, selected: gr.SelectData) -> tuple:
    """An example picked: its text, and only text, starts a new chat (the client sends it)."""
    value = selected.value if isinstance(selected.value, dict) else {}
    text = content_text(value.get("text"))
    if session.busy or not text:
        return nothing()
    return answering(session, [{"role": "user", "content": text}])


def go_on(history: Any, session: ChatSession) -> tuple:
    """Continue: the last reply grows from where the token limit cut it."""
    history = received(history)
    if session.busy or not history:
        return nothing()
    return answering(session, history, continuing=True)


def undo(history: Any, session: ChatSession) -> tuple:
    history = received(history)
    if session.busy:
        return gr.skip(), gr.skip()
    return undo_last_message(history)


def idle_controls() -> tuple:
    """The message box (its text left alone), Send shown, Stop hidden."""
    return gr.update(placeholder=READY), gr.update(visible=True), gr.update(visible=False)


def finished(session: ChatSession, line: str) -> tuple:
    session.busy, session.chat = False, None
    return line, *idle_controls(), gr.update(visible=False)
