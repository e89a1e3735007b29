"""Who is asking: the person behind the Gradio event being answered, for the limits and the
usage view (studio.classroom.usage).

Each app has one `Meter` (made by `meter_for` when the app is built). Gradio sets the event's
request and app in its own context for every handler (page or API, sync or streaming, and the
threads the studio starts copy that context), so the services find the caller without any tab
handler passing it along:

    person = the login name when --auth is on, else the Gradio session (gr.Request.session_hash)
    address = the client's, only for the flood guard (a whole class may share one address)
"""

from __future__ import annotations

import weakref

import gradio as gr
from gradio.context import LocalContext

from studio.classroom.hosts import client_address
from studio.classroom.usage import Caller, Meter, Person, find_callers_with
from studio.config import Config

_METERS: weakref.WeakKeyDictionary[gr.Blocks, Meter] = weakref.WeakKeyDictionary()
LABEL_CHARS = 8  # of a session hash, in the usage view


def meter_for(app: gr.Blocks, config: Config) -> Meter:
    """The app's meter, made once, with the configuration's limits."""
    find_callers_with(asking)
    meter = _METERS.get(app)
    if meter is None:
        meter = _METERS[app] = Meter(config.limits, keep_prompts=config.usage_prompts)
    return meter


def meter_of(app: gr.Blocks) -> Meter | None:
    return _METERS.get(app)


def asking() -> Caller | None:
    """The caller of the event being answered now; None outside an event of a metered app."""
    app = LocalContext.blocks.get(None)
    request = LocalContext.request.get(None)
    meter = _METERS.get(app) if app is not None else None
    if meter is None or request is None:
        return None
    person = person_of(request)
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
