"""Who is asking: the person behind the Gradio event being answered, for the limits and the
usage view (studio.classroom.usage).

Whoever launches an app makes it one Meter; the app hands it to each event that asks a model,
whose handler `with_caller` makes. Gradio hands the handler the event's request (page or API,
sync or streaming), and the handler hands its work a `caller`, which goes down to the services:

    person = the login name when --auth is on, else the Gradio session (gr.Request.session_hash)
    address = the client's, only for the flood guard (a whole class may share one address)
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable
from typing import Any

import gradio as gr

from studio.classroom.hosts import client_address
from studio.classroom.usage import Caller, Meter, Person

LABEL_CHARS = 8  # of a session hash, in the usage view


def caller_of(meter: Meter | None, request: gr.Request | None) -> Caller | None:
    """Whom the request's model calls count against; None without a meter or a person (a
    handler called outside an event)."""
    person = person_of(request) if meter is not None and request is not None else None
    return Caller(meter, person) if person else None


def person_of(request: gr.Request) -> Person | None:
    address = address_of(request)
    name = getattr(request, "username", None)
    if name:
        return Person(f"user:{name}", name, address, logged_in=True)
    session = getattr(request, "session_hash", None)
    if not session:
        return None
    return Person(f"session:{session}", session[:LABEL_CHARS], address)


def address_of(request: gr.Request) -> str:
    client = getattr(request, "client", None)
    peer = getattr(client, "host", "") or ""
    headers = getattr(request, "headers", None) or {}
    forwarded = headers.get("x-forwarded-for", "") if hasattr(headers, "get") else ""
    return client_address(peer, forwarded)


def with_caller(fn: Callable, meter: Meter | None) -> Callable:
    """`fn` as an event's handler that calls it with `caller=` (the meter and the person of the
    event's request) besides the event's inputs; `fn` itself without a meter.

    Gradio gives the request to a parameter typed gr.Request, which the handler takes first;
    its other parameters, name and docstring are `fn`'s, so the API and the MCP tools see `fn`.
    A stream is closed as soon as the handler is: Stop reaches the model call at once."""
    if meter is None:
        return fn
    handler: Callable[..., Any]
    if inspect.isasyncgenfunction(fn):

        async def handler(request, *args, **kwargs):
            stream = fn(*args, caller=caller_of(meter, request), **kwargs)
            async with contextlib.aclosing(stream) as items:
                async for item in items:
                    yield item

    elif inspect.isgeneratorfunction(fn):

        def handler(request, *args, **kwargs):
            return (yield from fn(*args, caller=caller_of(meter, request), **kwargs))

    elif inspect.iscoroutinefunction(fn):

        async def handler(request, *args, **kwargs):
            return await fn(*args, caller=caller_of(meter, request), **kwargs)

    else:

        def handler(request, *args, **kwargs):
            return fn(*args, caller=caller_of(meter, request), **kwargs)

    functools.update_wrapper(handler, fn)
    request = inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    shown = [p for p in inspect.signature(fn).parameters.values() if p.name != "caller"]
    handler.__signature__ = inspect.Signature([request, *shown])  # type: ignore[attr-defined]
    handler.__annotations__ = {"request": gr.Request}  # Gradio looks for it by its type
    return handler
