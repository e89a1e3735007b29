"""The chat: one turn asked, its reply streamed, paced and counted, the same for the page and
the API. No Gradio, no HTTP: studio.ui.chat shows what this yields, the backends send.

    turn.py     Turn, stream_turn: the one streaming function (page and /chat), the request
                for a turn, and the one place a failure becomes the chat's error note
    stream.py   stream_reply: the reply read in a thread of its own, metered, in paced Updates
    pacing.py   ReplyBuffer: what the thread gathers and the event loop takes, on a clock
    stats.py    ReplyStats and the stats line under the chat
    history.py  what the page's starts take: text only, Retry, Undo, an edit

What a chat request is made of, and what the backends build it from, stays with the pure task
logic below them: studio.tasks.chat (messages, settings, Delta), studio.tasks.continue_reply
(Continue) and studio.tasks.templates (raw prompts).
"""
