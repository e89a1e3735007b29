"""The Chat tab's turn-taking: starts that claim the session at once, and the turn that streams.

    a start (instant): the chat to answer, handed over in the session's ChatSession; Send
        turns into Stop; a session busy with a reply, or nothing to send, changes nothing
    the turn (queued): takes what the start handed over, once, and shows it as it streams
        (studio.chat.turn.stream_turn, as /chat does); then Send is back, Continue if the
        reply was cut, and the reply's card and code

From the start to the reply's first news, the status line counts the seconds and says what the
studio hears meanwhile (a model downloading or loading), as the other tabs' lines do.

Every handler answers with a dict keyed by the components it changes (`ChatPage`); the rest
stay as they are. studio.ui.chat.page builds the components and wires these to them.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from studio.backends.registry import ChatRequest
from studio.chat.history import history_edited, text_only, undo_last_message, without_last_reply
from studio.chat.stats import stopped_stats_line
from studio.chat.turn import Ended, Shown, Turn, stream_turn
from studio.config import Config
from studio.tasks.chat import ChatSettings, content_text
from studio.ui.code_panel import CodePanel, chat_shown, empty_panel
from studio.ui.common import report, shows_errors
from studio.ui.status_line import waiting_html
from studio.ui.waiting import STILL_WAITING, ticking, time_limit

READY = "Type a message and press Enter"
KEPT_REPLIES = 20  # replies whose token probabilities a page keeps
WAITING = "Type on: Enter sends it when the reply ends"
DOING = "Waiting for the reply"


@dataclass
class ChatSession:
    """One page's turn-taking, in its State: whether a reply streams, and the chat a start
    handed to the turn that streams it."""

    busy: bool = False
    chat: list | None = None
    continue_reply: bool = False
    here: bool = False  # the page is open on the computer that runs the studio (set on load)
    # Replies that ended with token probabilities, newest last (studio.chat.turn.Ended: the
    # answer, its thinking, its tokens): kept for the page to show after the fact.
    kept: list = field(default_factory=list)

    def claim(self, chat: list, *, continue_reply: bool = False) -> None:
        self.busy, self.chat, self.continue_reply = True, chat, continue_reply

    def take(self) -> tuple[list, bool] | None:
        """The chat to answer, once: a second turn started by mistake finds nothing."""
        chat, self.chat = self.chat, None
        return None if chat is None else (chat, self.continue_reply)


@dataclass(frozen=True)
class ChatPage:
    """The components the Chat tab's handlers change."""

    chatbot: Any
    message: Any
    send: Any
    stop: Any
    continue_button: Any
    stats_line: Any
    sent: Any  # the prompt sent, and the settings it went with
    sent_settings: Any
    panel: CodePanel
    status: Any  # the status line, until the reply's first news

    @property
    def starting(self) -> list:
        """What a start changes: the chat, the box, the buttons, the status line, and the code
        panel, emptied so that it never shows the reply before beside this one (after Stop)."""
        buttons = [self.send, self.stop, self.continue_button]
        return [self.chatbot, self.message, *buttons, self.status, *self.panel.outputs]

    @property
    def ending(self) -> list:
        """What Stop and Clear change: the stats line, the box, the buttons, the status line."""
        return [
            self.stats_line,
            self.message,
            self.send,
            self.stop,
            self.continue_button,
            self.status,
        ]

    @property
    def streaming(self) -> list:
        """What the turn changes: everything above (the card and the code too), what was
        sent."""
        return [*self.starting, self.stats_line, self.sent, self.sent_settings]


class ChatTurns:
    """The tab's handlers for one configuration; each person's chat lives in their Chatbot and
    their ChatSession, never here."""

    def __init__(self, config: Config, page: ChatPage) -> None:
        self.config, self.page = config, page
        self.limit = time_limit(config, "chat")

    # --- the turn: queued, it streams what a start claimed -------------------------------------

    async def turn(
        self, session: ChatSession, model: str | None, system: str, *settings, caller=None
    ):
        """Stream the reply the start claimed by the model the person picked, counted against
        `caller`; then Send is back, Continue if it was cut, and the reply's card and code."""
        claimed = session.take()
        if claimed is None:
            yield gr.skip()
            return
        chat, continue_reply = claimed
        turn = Turn(
            chat, system, settings, continue_reply=continue_reply, model=model, here=session.here
        )
        ended, started, heard = None, time.monotonic(), []  # heard: the slow steps' news
        try:
            shown = stream_turn(self.config, turn, progress=heard.append, caller=caller)
            waiting = True
            async with contextlib.aclosing(ticking(shown)) as states:
                async for state in states:
                    if state is STILL_WAITING:
                        if waiting:  # nothing of the reply yet: the seconds count on
                            yield {self.page.status: self.waiting(started, heard)}
                        continue
                    if state.failure is not None:
                        report(state.failure, "chat")  # the person reads the note in the chat
                    ended = state.ended or ended
                    waiting = waiting and state.sent is not None  # the reply's first news
                    yield self.shown(state) | ({} if waiting else {self.page.status: ""})
        finally:
            session.busy = False  # also when Stop cancels this
        if ended is not None and ended.tokens:
            session.kept = [*session.kept[-(KEPT_REPLIES - 1) :], ended]
        cut = gr.update(visible=ended is not None and ended.cut)
        yield {**self.idle(), self.page.continue_button: cut, **self.answer_panel(ended, turn)}

    def waiting(self, started: float, heard: list[str]) -> str:
        seconds = time.monotonic() - started
        return waiting_html(DOING, seconds, self.limit, heard[-1] if heard else None)

    def shown(self, state: Shown) -> dict:
        page = self.page
        update = {page.chatbot: state.chat}
        if state.stats_line is not None:
            update[page.stats_line] = state.stats_line
        if state.sent is not None:
            update |= self.sent_view(state.sent)
        return update

    def sent_view(self, request: ChatRequest) -> dict:
        text, language = request.shown()
        return {
            self.page.sent: gr.update(value=text, language=language),
            self.page.sent_settings: f"Sent to `{request.settings_shown()}`",
        }

    def answer_panel(self, ended: Ended | None, turn: Turn) -> dict:
        """The card and the code of a reply that ended well; left as they were otherwise."""
        if ended is None:
            return {}
        chat = turn.chat
        question = next((m["content"] for m in reversed(chat) if m.get("role") == "user"), "")
        *numbers, seed = turn.settings[:5]  # then Thinking and probabilities, not in the code
        settings = ChatSettings.from_controls(*numbers, seed)  # the seed typed as text, a number
        values = chat_shown(
            self.config,
            ended.request,
            ended.stats,
            content_text(question),
            turn.system_prompt,
            *numbers,
            settings.seed,
            model=turn.model,
        )
        return dict(zip(self.page.panel.outputs, values, strict=True))

    def idle(self) -> dict:
        """The message box (its text left alone), Send shown, Stop hidden."""
        page = self.page
        return {
            page.message: gr.update(placeholder=READY),
            page.send: gr.update(visible=True),
            page.stop: gr.update(visible=False),
            page.status: "",
        }

    def cleared(self, session: ChatSession) -> dict:
        return self._finish(session, "")

    def stopped(self, session: ChatSession, line: str | None) -> dict:
        return self._finish(session, stopped_stats_line(line))

    def _finish(self, session: ChatSession, line: str) -> dict:
        session.busy, session.chat = False, None
        return {self.page.stats_line: line, **self.idle(), self.page.continue_button: _hidden()}

    # --- starts: instant, each claims the session or changes nothing ---------------------------

    def answering(
        self, session: ChatSession, chat: list, *, continue_reply: bool = False, box=None
    ) -> dict:
        session.claim(chat, continue_reply=continue_reply)
        page = self.page
        return {
            page.chatbot: chat,
            page.message: box if box is not None else gr.update(placeholder=WAITING),
            page.send: _hidden(),
            page.stop: gr.update(visible=True),
            page.continue_button: _hidden(),
            page.status: waiting_html(DOING, 0, self.limit),
            **dict(zip(page.panel.outputs, empty_panel(), strict=True)),
        }

    async def ask(self, message: Any, history: Any, session: ChatSession) -> dict:
        """Move the typed message into the chat, at once, before the reply is asked for. An
        empty box, or a reply still streaming, leaves everything as it is: the text waits in
        the box. Async, so two of them (a double Enter) run one after the other on the loop."""
        history, text = received(history), content_text(message)
        if not text or session.busy:
            return gr.skip()
        chat = [*history, {"role": "user", "content": text}]
        box = gr.update(value="", placeholder=WAITING)
        return self.answering(session, chat, box=box)

    def retry(self, history: Any, session: ChatSession) -> dict:
        chat = without_last_reply(received(history))
        if session.busy or not chat:
            return gr.skip()
        return self.answering(session, chat)

    def edit(self, history: Any, session: ChatSession, edited: gr.EditData) -> dict:
        """An edited question: the chat after it goes, and a new reply is asked for."""
        history = received(history)
        if session.busy:
            return {self.page.chatbot: history}  # the edit is not kept
        return self.answering(session, history_edited(history, edited.index, edited.value))

    def example(self, session: ChatSession, selected: gr.SelectData) -> dict:
        """An example picked: its text, and only text, starts a new chat (the client sends it)."""
        value = selected.value if isinstance(selected.value, dict) else {}
        text = content_text(value.get("text"))
        if session.busy or not text:
            return gr.skip()
        return self.answering(session, [{"role": "user", "content": text}])

    def continue_reply(self, history: Any, session: ChatSession) -> dict:
        """Continue: the last reply grows from where the token limit cut it."""
        history = received(history)
        if session.busy or not history:
            return gr.skip()
        return self.answering(session, history, continue_reply=True)

    def undo(self, history: Any, session: ChatSession) -> dict:
        history = received(history)
        if session.busy:
            return gr.skip()
        chat, text = undo_last_message(history)
        return {self.page.chatbot: chat, self.page.message: text}


def _hidden() -> dict:
    return gr.update(visible=False)


@shows_errors  # a gr.Error in plain words, and one line in the log
def received(history: Any) -> list:
    """The chat as the page sent it, if it holds only text: the studio reads no file because
    a client named one.

    Every start sends the Chatbot's value from the client, and Gradio's Chatbot processing
    turns a `component` part of it into a component built with that part's value: a part such
    as `{"type": "component", "component": "file", "value": {"path": "notes.txt"}}` would copy
    the file it names, anywhere under the working folder or the temp folder, into the cache
    Gradio serves. So the starts take the chat unprocessed (`preprocess=False`, see the page)
    and this refuses any part but text before anything reads it. A page of this studio sends
    only text (the chat takes no uploads): a history with anything else was made by hand.

    What Gradio guards already, processed or not: a part marked as a file must name one that
    came through its upload route, and event data (the example picked, the message edited) may
    name no file outside its cache. The picture tabs take their images unprocessed too, and
    open only a file in that cache (studio.ui.common.uploaded_path). tests/ui/test_client_files.py
    holds all of this to account through the running app.
    """
    return text_only(history)
