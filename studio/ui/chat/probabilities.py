"""The Chat tab's probabilities view: under the conversation, a reply kept with token
probabilities (the latest, or an earlier one chosen from the list), each token shaded by how
likely the model found it (studio.tasks.token_shading), and the branches written on from an
alternative token, side by side (studio.tasks.token_branches).

The view shows while the Token probabilities setting is on, and reads only what the person's
session kept (studio.ui.chat.turns): showing it, and opening a token's alternatives, ask the
server nothing. With the setting off nothing shows and no probabilities are asked for. A branch
is a new request: the reply up to the chosen token, with the alternative, continued as Continue
does; it leaves the chat as it is.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass, replace

import gradio as gr

from studio.chat.history import without_last_reply
from studio.chat.turn import Shown, Turn, said, stream_turn
from studio.classroom.people import with_caller
from studio.classroom.usage import Meter
from studio.config import Config
from studio.errors import StudioError
from studio.tasks.chat import content_text
from studio.tasks.token_branches import (
    CSS as BRANCH_CSS,
)
from studio.tasks.token_branches import (
    EXACT,
    MAX_BRANCHES,
    RESTARTED,
    Branch,
    as_written,
    branch_start,
    branches_html,
    chosen_place,
)
from studio.tasks.token_shading import CSS, note_html, reply_html
from studio.ui.chat.turns import ChatPage, ChatSession, received
from studio.ui.common import report

FIRST_WORDS = 8  # of a reply, to name it in the view's caption
NONE_YET = (
    "No reply with token probabilities yet: send a message, and its reply shows here, each "
    "token shaded by how sure the model was. If a reply came and nothing shows, the server "
    "gave none (the note under the reply says)."
)
NOT_LAST = (
    "That reply is no longer in the chat as it was (edited, retried or cleared), so a branch "
    "cannot start from it: choose a token of a reply the chat still shows, or send a message "
    "with Token probabilities on."
)
# Only a branch button's click reaches the server, with the token's place and the alternative.
ON_CLICK = """element.addEventListener('click', (event) => {
  const button = event.target.closest('.probs-branch');
  if (button) trigger('click', {at: button.dataset.at, alt: button.dataset.alt});
});"""
QUIET = dict(queue=False, api_visibility="private")


@dataclass(frozen=True)
class ProbabilityViews:
    reply: gr.Dropdown  # which kept reply is shaded: the latest unless one is chosen
    shaded: gr.HTML
    branches: gr.HTML


def probabilities_view() -> ProbabilityViews:
    """All hidden until there is something to show."""
    reply = gr.Dropdown(
        [], label="Reply shown", visible=False, elem_id="chat-probs-reply", interactive=True
    )
    shaded = gr.HTML("", css_template=CSS, js_on_load=ON_CLICK, visible=False, elem_id="chat-probs")
    branches = gr.HTML(
        "", css_template=BRANCH_CSS, js_on_load=None, visible=False, elem_id="chat-branches"
    )
    return ProbabilityViews(reply, shaded, branches)


def wire_probabilities(
    views: ProbabilityViews,
    branching: Branching,
    session: gr.State,
    inputs: list,
    turns_ended: Iterable,
) -> None:
    """`inputs`: the turn's, the model first and Token probabilities last; `turns_ended`: the
    turns' events, which have kept the reply in the session by the time they end."""
    setting = inputs[-1]
    chosen, branched = gr.State(None), gr.State([])
    latest = [views.shaded, views.reply]
    setting.change(shown, [session, setting], latest, **QUIET)
    for event in turns_ended:  # a new reply: its own view, and no branches of the one before
        event.then(shown, [session, setting], latest, **QUIET).then(
            lambda: (gr.update(visible=False), []), None, [views.branches, branched], **QUIET
        )
    views.reply.input(  # an earlier reply: its view, and no branches of the one shown before
        picked, [session, setting, views.reply], [views.shaded, views.branches, branched], **QUIET
    )
    views.shaded.click(chosen_in, views.reply, chosen, **QUIET).then(
        with_caller(branching.branch, branching.meter),
        [branching.page.chatbot, session, chosen, branched, *inputs],
        [views.branches, branched],
        preprocess=False,  # the chat as sent, for turns.received to check first
        show_progress="hidden",
        api_visibility="private",
    )


def shown(session: ChatSession, setting: str | None) -> tuple[dict, dict]:
    """The view of the session's latest kept reply (or why there is none) and the list of the
    kept replies, the latest chosen; both hidden when the setting is off."""
    if not setting:
        return gr.update(visible=False), gr.update(visible=False)
    choices = [(f"Reply {n + 1}: “{first_words(r.answer)}”", n) for n, r in enumerate(session.kept)]
    latest = len(choices) - 1 if choices else None
    listed = gr.update(visible=len(choices) > 1, choices=choices, value=latest)
    return gr.update(visible=True, value=view_html(session)), listed


def picked(session: ChatSession, setting: str | None, which: int | None) -> tuple:
    """The view of the kept reply chosen from the list, with no branches shown yet."""
    view = gr.update(visible=bool(setting), value=view_html(session, which))
    return view, gr.update(visible=False), []


def first_words(answer: str) -> str:
    words = answer.split()
    return " ".join(words[:FIRST_WORDS]) + (" …" if len(words) > FIRST_WORDS else "")


def kept_reply(session: ChatSession, which: int | None):
    """The kept reply at `which` (the latest when None, or when the list moved on)."""
    if not session.kept:
        return None
    if which is None or not 0 <= int(which) < len(session.kept):
        return session.kept[-1]
    return session.kept[int(which)]


def view_html(session: ChatSession, which: int | None = None) -> str:
    reply = kept_reply(session, which)
    if reply is None:
        return note_html(NONE_YET)
    return reply_html(reply.tokens, f"The reply “{first_words(reply.answer)}”.")


def chosen_in(which: int | None, event: gr.EventData) -> tuple | None:
    """The token's place and the alternative a branch button names, and which reply it is in."""
    place = chosen_place(event._data)
    return None if place is None else (*place, which)


def in_chat(chat: list, answer: str) -> int | None:
    """Where the reply `answer` stands in the chat (the last such reply), or None."""
    for index in range(len(chat) - 1, -1, -1):
        message = chat[index]
        if message.get("role") == "assistant" and content_text(message.get("content")) == answer:
            return index
    return None


@dataclass(frozen=True)
class Branching:
    """Writes a branch on from an alternative token, as the person's turn would: their model,
    their settings (without probabilities: the branch is read, not shaded), counted to them."""

    config: Config
    page: ChatPage
    meter: Meter | None = None

    async def branch(
        self, history, session, chosen, branched, model, system, *settings, caller=None
    ):
        """Stream the branch `chosen` names, beside the reply as written and the branches
        before it (`branched`) of the same reply."""
        at, alt, *which = chosen or (None, None)
        reply = kept_reply(session, which[0] if which else None)
        chat = received(history, session)
        if chosen is None or reply is None:
            yield gr.skip()
            return
        place = in_chat(chat, reply.answer)
        if place is None:
            yield _show(note_html(NOT_LAST), branched)
            return
        written = as_written(reply.tokens, reply.answer, at)
        try:
            before, token = branch_start(reply.tokens, reply.answer, at, alt)
        except StudioError as exc:
            yield _show(note_html(exc.message), branched)
            return
        # The chat up to the reply's question: a branch of an earlier reply forgets what came
        # after it, as the model did when it wrote that reply.
        asked_before = without_last_reply(chat[: place + 1])
        start = [*asked_before, {"role": "assistant", "content": before + token}]
        asked = (*settings[:-1], "")  # no token probabilities for the branch
        turn = Turn(start, system, asked, continue_reply=True, model=model, here=session.here)
        growing = Branch(before, token, note="")
        async with contextlib.aclosing(stream_turn(self.config, turn, caller=caller)) as states:
            async for state in states:
                if state.failure is not None:
                    report(state.failure, "chat")  # the person reads it under the branch
                growing = _grown(growing, state, session.here)
                yield _show(branches_html(written, [*branched, growing]), branched)
        kept = [*branched, growing][-MAX_BRANCHES:]
        yield _show(branches_html(written, kept), kept)


def _grown(branch: Branch, state: Shown, here: bool) -> Branch:
    """The branch with what the turn's `state` says: its text after the token, how it went."""
    if state.sent is not None:
        return replace(branch, note=EXACT if state.sent.continues_exactly else RESTARTED)
    if state.failure is not None:
        return replace(branch, note=f"The branch stopped: {said(state.failure, here)}")
    start = branch.before + branch.token
    text = state.reply
    after = text[len(start) :] if text.startswith(start) else text
    return replace(branch, after=after)


def _show(value: str, branched: list) -> tuple:
    """The branches' view, shown, and the branches kept (its outputs, in order)."""
    return gr.update(visible=True, value=value), branched
