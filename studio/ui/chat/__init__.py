"""The Chat tab: a streaming chatbot, as people know it from Gradio's ChatInterface.

    Send / Enter ─┐                                    the page: history in the Chatbot
    Retry, edit ──┼─ a start (instant) ─ the turn ─┐   Send turns into Stop while it streams
    example ──────┤   claims the session           │
    Continue ─────┘   (one reply at a time)        ├─ studio.chat.turn.stream_turn
    /chat, /chat_with_model, /chat_with_reasoning ─┘   the API: history in a State

One streaming function for the page and the API, as ChatInterface's `_stream_fn`: it yields the
chat as it grows, its stats line, and how the reply ended or failed; each side shows that its
own way. page.py builds the tab and wires its events in one place, turns.py holds the page's
handlers (each answers with a dict keyed by the components it changes), api.py the API's.
"""

from __future__ import annotations

from studio.ui.chat.page import EXAMPLES, build

__all__ = ["EXAMPLES", "build"]
