"""The Chat tab's probabilities view: under the conversation, the latest reply kept with token
probabilities, each token shaded by how likely the model found it (studio.tasks.token_shading).

It shows while the Token probabilities setting is on, and reads only what the person's session
kept (studio.ui.chat.turns): showing it asks the server nothing. With the setting off nothing
shows and no probabilities are asked for.
"""

from __future__ import annotations

from collections.abc import Iterable

import gradio as gr

from studio.tasks.token_shading import CSS, note_html, reply_html
from studio.ui.chat.turns import ChatSession

FIRST_WORDS = 8  # of a reply, to name it in the view's caption
NONE_YET = (
    "No reply with token probabilities yet: send a message, and its reply shows here, each "
    "token shaded by how sure the model was. If a reply came and nothing shows, the server "
    "gave none (the note under the reply says)."
)


def probabilities_view() -> gr.HTML:
    """Hidden until the setting is on. No script: a token is chosen by focusing it."""
    return gr.HTML(
        "",
        css_template=CSS,
        js_on_load=None,
        visible=False,
        elem_id="chat-probs",
    )


def wire_probabilities(
    view: gr.HTML, session: gr.State, setting: gr.Dropdown, turns_ended: Iterable
) -> None:
    """Show the view when the setting changes, and after each turn (`turns_ended`: the turns'
    events, which have kept the reply in the session by the time they end)."""
    step = dict(fn=shown, inputs=[session, setting], outputs=view, queue=False)
    setting.change(**step, api_visibility="private")
    for event in turns_ended:
        event.then(**step, api_visibility="private")


def shown(session: ChatSession, setting: str | None) -> dict:
    """The view for the session's latest kept reply, or why there is none; hidden when off."""
    if not setting:
        return gr.update(visible=False)
    return gr.update(visible=True, value=view_html(session))


def view_html(session: ChatSession) -> str:
    if not session.kept:
        return note_html(NONE_YET)
    latest = session.kept[-1]
    words = latest.answer.split()
    start = " ".join(words[:FIRST_WORDS]) + (" …" if len(words) > FIRST_WORDS else "")
    return reply_html(latest.tokens, f"The reply “{start}”.")
