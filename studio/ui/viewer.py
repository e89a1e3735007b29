"""Who reads the page: someone at the computer that runs the studio, who can fix a setup and
is told how, or someone elsewhere (a shared link, another computer), who is asked to tell the
teacher. Page events learn it from their request, as they learn whom to count calls against."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import gradio as gr

from studio.classroom.hosts import LOOPBACK
from studio.classroom.people import address_of, caller_of
from studio.classroom.usage import Meter


def on_this_computer(request: gr.Request | None) -> bool:
    """Whether the page is open on the computer that runs the studio: its browser asks from
    this machine, and no proxy (a share link's tunnel) names another client in
    X-Forwarded-For."""
    return request is not None and address_of(request) in LOOPBACK


def page_handler(run: Callable, meter: Meter | None) -> Callable:
    """`run` (studio.ui.waiting.on_page's) as a page event's handler, told by the event's
    request where its reader sits (`here=`) and, with `meter`, whom the work's calls count
    against (`caller=`, as `with_caller` does for the API's events)."""

    async def handler(request: gr.Request, *inputs: Any) -> AsyncIterator[tuple]:
        given = {} if meter is None else {"caller": caller_of(meter, request)}
        stream = run(*inputs, here=on_this_computer(request), **given)
        async with contextlib.aclosing(stream) as items:  # Stop reaches the work at once
            async for item in items:
                yield item

    return handler
