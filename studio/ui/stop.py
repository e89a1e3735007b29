"""Stop, which looks like something to press only while there is something to stop.

    before     grey and disabled: nothing runs
    a call     red from its first update (`lit_while_running`, in the same stream as the
               results, so the look can never lag behind the call it belongs to)
    after      grey again when the call ends, fails, or Stop cancels it (`stop_button`)

The page events of `studio.ui.waiting` take the tab's Stop and light it this way; the Chat tab
swaps Send for Stop instead, as ChatInterface does.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import gradio as gr

from studio.ui.status_line import is_waiting, stopped_html

IDLE = dict(variant="secondary", interactive=False)
ACTIVE = dict(variant="stop", interactive=True)
PRIVATE = dict(api_visibility="private")


def stop_control(**options: Any) -> gr.Button:
    """A tab's Stop, as it looks before anything runs."""
    return gr.Button("Stop", **IDLE, **options)


def idle() -> Any:
    """Stop's update once nothing runs (a Clear that cancelled the tab's events, say)."""
    return gr.update(**IDLE)


def lit_while_running(run: Callable[..., AsyncIterator[tuple]], width: int) -> Callable:
    """`run`, a page handler that yields `width` outputs, with Stop as one more: lit with the
    first update, grey again after the last."""

    @functools.wraps(run)
    async def lit(*inputs: Any, **given: Any) -> AsyncIterator[tuple]:
        light = gr.update(**ACTIVE)
        async with contextlib.aclosing(run(*inputs, **given)) as items:
            async for item in items:
                yield (*item, light)
                light = gr.skip()
        yield (*(gr.skip(),) * width, idle())

    return lit


def stop_button(stop: gr.Button, events: Sequence[Any], status: gr.HTML) -> None:
    """Stop cancels the events at once, says so if one was running, and goes grey."""
    stop.click(None, None, None, cancels=list(events), queue=False, **PRIVATE).then(
        _stopped, status, [status, stop], queue=False, **PRIVATE
    )


def _stopped(status: str | None) -> tuple:
    line = stopped_html() if is_waiting(status) else gr.skip()
    return line, idle()
