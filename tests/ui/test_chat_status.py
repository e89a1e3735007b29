"""Chat's status line, from the handler that streams a turn: it counts the seconds until the
reply's first news, says what the studio hears meanwhile (a model loading), and goes once the
reply starts. The real page's components and handler; the fake backend, held until told."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import threading

import gradio as gr

from studio.backends import registry as backends
from studio.backends.base import ChatRequest
from studio.tasks.chat import Delta
from studio.ui.chat.page import chat_page
from studio.ui.chat.turns import ChatSession, ChatTurns
from tests.stand_ins.fake_backend import FakeBackend, fake_config

LOADING = "Loading the model: 40%"


class LoadingBackend(FakeBackend):
    """Says the model is loading, then holds the reply until `loaded` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.loaded = threading.Event()

    def chat_request(self, endpoint, messages, settings):
        # The settings as a real body holds them: the page shows the body it sent.
        return ChatRequest("", {"messages": list(messages), **dataclasses.asdict(settings)})

    def stream_chat(self, endpoint, request, cancel, *, progress=None):
        if progress is not None:
            progress(LOADING)
        while not self.loaded.wait(0.05):
            if cancel.is_set():
                return
        yield Delta("Hello")
        yield Delta("", "stop")


def test_the_status_line_says_a_model_loads_then_goes_with_the_first_token():
    backend = LoadingBackend()
    previous = backends.register(backend)
    try:
        config = fake_config()
        with gr.Blocks():
            page, settings, options, *_ = chat_page(config.endpoint("chat"))
        turns, session = ChatTurns(config, page), ChatSession()
        session.claim([{"role": "user", "content": "Hi"}])
        values = [control.value for control in [*settings, *options]]  # as the page starts

        async def run() -> list[str]:
            lines = []
            turn = turns.turn(session, None, *values)
            async with contextlib.aclosing(turn) as updates:
                async for update in updates:
                    line = update.get(page.status) if isinstance(update, dict) else None
                    if line is not None:
                        lines.append(line)
                    if LOADING in (line or "") or len(lines) > 3:
                        backend.loaded.set()  # the model is in: the reply may start
            return lines

        lines = asyncio.run(asyncio.wait_for(run(), timeout=60))
    finally:
        if previous is None:
            del backends.BACKENDS[backend.caps.protocol]
        else:
            backends.register(previous)
    heard = [line for line in lines if LOADING in line]
    assert heard and "Waiting for the reply" in heard[0] and "Stop cancels." in heard[0]
    assert lines[-1] == "", "the line stays after the reply started"
    assert not session.busy
