"""The Chat tab's turn-taking: starts that claim the session at once, and the turn that streams.

    a start (instant): the chat to answer, handed over in the session's ChatSession; Send
        turns into Stop; a session busy with a reply, or nothing to send, changes nothing
    the turn (queued): takes what the start handed over, once, and streams it
        (chat_replies.Replies.reply); then Send is back, and Continue if the reply was cut

Handlers only: studio.ui.chat builds the components and wires these to them.
"""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from studio.backends.registry import ChatRequest
from studio.tasks.chat import ChatSettings, content_text, undo_last_message, without_last_reply
from studio.tasks.continuing import history_edited
from studio.ui.chat_replies import Ended, Replies
from studio.ui.code_panel import chat_shown

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


async def ask(message: str, history: list | None, session: ChatSession) -> tuple:
    """Move the typed message into the chat, at once, before the reply is asked for. An empty
    box, or a reply still streaming, leaves everything as it is: the text waits in the box.
    Async, so two of them (a double Enter) run one after the other on the event loop."""
    text = (message or "").strip()
    if not text or session.busy:
        return nothing()
    chat = [*(history or []), {"role": "user", "content": text}]
    return answering(session, chat, box=gr.update(value="", placeholder=WAITING))


def retry(history: list | None, session: ChatSession) -> tuple:
    chat = without_last_reply(history)
    if session.busy or not chat:
        return nothing()
    return answering(session, chat)


def edit(history: list | None, session: ChatSession, edited: gr.EditData) -> tuple:
    """An edited question: the chat after it goes, and a new reply is asked for."""
    if session.busy:
        return (list(history or []), *nothing()[1:])  # the edit is not kept
    return answering(session, history_edited(history, edited.index, edited.value))


def example(session: ChatSession, selected: gr.SelectData) -> tuple:
    if session.busy:
        return nothing()
    return answering(session, [{"role": "user", "content": selected.value["text"]}])


def go_on(history: list | None, session: ChatSession) -> tuple:
    """Continue: the last reply grows from where the token limit cut it."""
    if session.busy or not history:
        return nothing()
    return answering(session, list(history), continuing=True)


def undo(history: list | None, session: ChatSession) -> tuple:
    if session.busy:
        return gr.skip(), gr.skip()
    return undo_last_message(history)


def idle_controls() -> tuple:
    """The message box (its text left alone), Send shown, Stop hidden."""
    return gr.update(placeholder=READY), gr.update(visible=True), gr.update(visible=False)


def finished(session: ChatSession, line: str) -> tuple:
    session.busy, session.chat = False, None
    return line, *idle_controls(), gr.update(visible=False)
