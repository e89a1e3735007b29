"""A model call as the page shows it, the same way in every tab.

    button ─ on_page(work) ─ a thread of its own runs the tab's blocking work, step by step
                │  every second   the status line: what it waits for, the seconds, the limit
                │  each result    the tab's outputs
                └  a failure      the status line: what happened and what to do, for the person;
                                  one log line with the details for whoever runs the studio
    Stop ─ cancels on_page at once; the request in flight is cut (its connection closed) and
           the thread ends, asking nothing more (studio.ui.stop: lit only while it can)

`work` is a plain function or generator that raises `StudioError`s; a generator may yield
`Doing(...)` between its results to say what it waits for next. The API keeps events of its
own (`api_event`), on triggers nobody sees, so an API caller still gets the plain results and
the full message of a failure from `shows_errors`; its work runs in a thread the same way, so
that cancelling a call cuts its request too. Given the app's meter, both events call their work
with `caller=`, whom its model calls count against (studio.classroom.people).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import inspect
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr

from studio.classroom.mcp_tools import as_tool
from studio.classroom.people import with_caller
from studio.classroom.usage import Meter
from studio.config import Config
from studio.services import Cancel, Cancelled, runs_here, stop_with
from studio.ui.common import PAGE_NOTES
from studio.ui.status_line import done_html, failure_html, waiting_html
from studio.ui.stop import lit_while_running
from studio.ui.viewer import page_handler

TICK = 1.0  # seconds between updates of the status line while waiting
PRIVATE = dict(api_visibility="private")


@dataclass(frozen=True)
class Doing:
    """Yielded by page work between results: what it waits for now (the seconds restart)."""

    what: str


# --- how long to wait ----------------------------------------------------------------------------


def time_limit(config: Config, *tasks: str) -> float | None:
    """How long the studio waits for an answer to one request of these tasks; None when they
    run on this computer, where nothing times out."""
    endpoints = [config.endpoint(task) for task in tasks]
    remote = [endpoint.timeout for endpoint in endpoints if not runs_here(endpoint)]
    return max(remote) if remote else None


# --- running the work --------------------------------------------------------------------------


def on_page(
    work: Callable,
    outputs: int,
    *,
    doing: str,
    limit: float | None,
    where: str,
    done: str | None = None,
    tick: float = TICK,
) -> Callable[..., AsyncIterator[tuple]]:
    """The page's handler for `work`: its `outputs` results, then the status line, which ends
    with `done` (or the seconds it took), updated every `tick` seconds while it waits. `here`:
    the page is open on the computer that runs the studio (a failure then says what to fix)."""
    streams = inspect.isgeneratorfunction(inspect.unwrap(work))
    skip = (gr.skip(),) * outputs

    async def run(*inputs: Any, here: bool = False, **given: Any) -> AsyncIterator[tuple]:
        notes = _Notes()

        def steps() -> Iterator:
            PAGE_NOTES.set(notes.tell)  # in the work's own thread: its progress comes here
            if streams:
                yield from work(*inputs, **given)
            else:
                yield work(*inputs, **given)

        started = step_started = time.monotonic()
        now = doing
        yield (*skip, waiting_html(now, 0, limit))
        try:
            async for item in in_thread(steps, tick=tick):
                if item is STILL_WAITING:
                    waited = time.monotonic() - step_started
                    yield (*skip, waiting_html(now, waited, limit, notes.latest))
                elif isinstance(item, Doing):
                    now, step_started, notes.latest = item.what, time.monotonic(), None
                    yield (*skip, waiting_html(now, 0, limit))
                else:
                    shown, notes.latest = (item if outputs > 1 else (item,)), None
                    yield (*shown, waiting_html(now, time.monotonic() - step_started, limit))
        except Exception as exc:
            yield (*skip, failure_html(exc, where, here=here))
            return
        yield (*skip, done_html(time.monotonic() - started, done))

    return run


class _Notes:
    """The latest progress message of one page event's work (one writer thread at a time)."""

    latest: str | None = None

    def tell(self, message: str) -> None:
        self.latest = message


STILL_WAITING = object()  # what in_thread yields each tick without an item
_END = object()


@dataclass(frozen=True)
class _Failed:
    error: Exception


async def in_thread(make: Callable[[], Iterator], *, tick: float = TICK) -> AsyncIterator:
    """Items of a blocking iterator, run in a thread of its own, and STILL_WAITING every `tick`
    seconds without one. Leaving (end, error, or the task cancelled by Stop) stops the thread:
    the model request in flight is cut at once (`stop_with`), the iterator closed, and nothing
    more is asked."""
    loop = asyncio.get_running_loop()
    items: asyncio.Queue = asyncio.Queue()
    cancel = Cancel()

    def hand_over(item: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the event loop is gone: the app is stopping
            loop.call_soon_threadsafe(items.put_nowait, item)

    def pump() -> None:
        stop_with(cancel)  # in the thread's own context: its requests, and no other's
        try:
            with contextlib.closing(make()) as iterator:
                while not cancel.is_set():
                    item = next(iterator, _END)
                    hand_over(item)
                    if item is _END:
                        return
        except Cancelled:
            pass  # Stop cut the request: nobody waits for its answer
        except Exception as exc:  # raised again by the reader, in the event loop
            hand_over(_Failed(exc))

    # The thread runs in this event's context, so the work can show messages to the person.
    context = contextvars.copy_context()
    threading.Thread(target=context.run, args=(pump,), name="model-call", daemon=True).start()
    getter: asyncio.Future | None = None
    try:
        while True:
            getter = getter or asyncio.ensure_future(items.get())
            done, _ = await asyncio.wait({getter}, timeout=tick)
            if not done:
                yield STILL_WAITING
                continue
            item, getter = getter.result(), None
            if item is _END:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        cancel.set()
        if getter is not None:
            getter.cancel()


async def ticking(items: AsyncIterator, *, tick: float = TICK) -> AsyncIterator:
    """Items of an async iterator, and STILL_WAITING every `tick` seconds without one, so a
    stream's page can count the seconds before its first item. Leaving closes `items`."""

    async def following() -> Any:
        return await anext(items, _END)

    pending: asyncio.Future | None = None
    try:
        while True:
            pending = pending or asyncio.ensure_future(following())
            done, _ = await asyncio.wait({pending}, timeout=tick)
            if not done:
                yield STILL_WAITING
                continue
            item, pending = pending.result(), None
            if item is _END:
                return
            yield item
    finally:
        if pending is not None:  # Stop: the step under way ends before the stream is closed
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pending
        await items.aclose()


# --- wiring ------------------------------------------------------------------------------------


def page_event(
    triggers: Sequence[Any],
    work: Callable,
    inputs: Sequence[Any],
    outputs: Sequence[Any],
    status: gr.HTML,
    *,
    doing: str,
    limit: float | None,
    done: str | None = None,
    meter: Meter | None = None,
    stop: gr.Button | None = None,
    **options: Any,
):
    """The page's event for `work`: the status line tells the person, no API endpoint. With
    `meter`, `work` is called with `caller=` too; `stop` is lit while it runs (studio.ui.stop)."""
    run = on_page(work, len(outputs), doing=doing, limit=limit, where=_name(work), done=done)
    if stop is not None:
        run = lit_while_running(run, len(outputs) + 1)
    handler = page_handler(run, meter)
    return gr.on(
        list(triggers),
        handler,
        inputs=list(inputs),
        outputs=[*outputs, status, *([stop] if stop is not None else [])],
        show_progress="hidden",
        **PRIVATE,
        **options,
    )


def api_event(
    fn: Callable,
    inputs: Any,
    outputs: Any,
    *,
    api_name: str,
    meter: Meter | None = None,
    **options: Any,
):
    """An API endpoint on a trigger nobody sees: a client gets the results as `fn` returns them
    and a failure's full message, while the page's own event shows its status line. With --mcp
    it is a tool too, named `api_name` and described by `fn`'s docstring
    (studio.classroom.mcp_tools). With `meter`, `fn` is called with `caller=` too."""
    tool = with_caller(stoppable(as_tool(fn, api_name)), meter)
    return gr.Button(visible=False).click(tool, inputs, outputs, api_name=api_name, **options)


def stoppable(fn: Callable) -> Callable:
    """`fn` run as page work is (`in_thread`), so that cancelling the call cuts its request in
    flight: Gradio cannot stop a thread it runs a plain function in. Named and documented as
    `fn`, for the API page and MCP."""
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        async def stream(*inputs: Any, **options: Any) -> AsyncIterator:
            async with contextlib.aclosing(in_thread(lambda: fn(*inputs, **options))) as items:
                async for item in items:
                    if item is not STILL_WAITING:
                        yield item

        return stream

    @functools.wraps(fn)
    async def call(*inputs: Any, **options: Any) -> Any:
        def once() -> Iterator:
            yield fn(*inputs, **options)

        async with contextlib.aclosing(in_thread(once)) as items:
            async for item in items:
                if item is not STILL_WAITING:
                    return item

    return call


def _name(work: Callable) -> str:
    inner = inspect.unwrap(getattr(work, "func", work))
    return getattr(inner, "__name__", "the page")
