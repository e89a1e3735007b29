"""Who is asking: the person of a Gradio request, and handlers that hand it to their work."""

from __future__ import annotations

import asyncio
import functools
import inspect
from types import SimpleNamespace

import gradio as gr
import pytest
from gradio import helpers, utils

from studio.classroom.limits import Limits
from studio.classroom.mcp_tools import as_tool
from studio.classroom.people import caller_of, person_of, with_caller
from studio.classroom.usage import Meter


def request(session: str | None = "0123456789abcdef", username: str | None = None, **headers):
    """What a gr.Request carries that the studio reads."""
    client = SimpleNamespace(host="127.0.0.1")
    return SimpleNamespace(client=client, headers=headers, session_hash=session, username=username)


def test_a_person_is_the_login_name_or_the_session():
    ada = person_of(request(username="ada"))
    assert (ada.key, ada.label, ada.logged_in) == ("user:ada", "ada", True)
    someone = person_of(request(**{"x-forwarded-for": "203.0.113.4"}))
    assert (someone.key, someone.label) == ("session:0123456789abcdef", "01234567")
    assert someone.address == "203.0.113.4" and not someone.logged_in
    assert person_of(request(session=None)) is None


def test_there_is_a_caller_only_with_a_meter_and_a_person():
    meter = Meter(Limits())
    assert caller_of(meter, request()).meter is meter
    assert caller_of(None, request()) is None
    assert caller_of(meter, None) is None
    assert caller_of(meter, request(session=None)) is None


def summarize(config: str, text: str, length: float | None = None, *, caller=None) -> str:
    """Summarize a text.

    Args:
        text: the text
        length: the longest summary
    """
    return f"{config} {text} {length} {caller.person.label}"


def rounds(image: str, count: float = 2, progress: gr.Progress = gr.Progress(), *, caller=None):
    for n in range(int(count)):
        yield f"{image} {n} {caller.person.label}"


def test_a_handler_gets_the_request_and_shows_the_api_its_work():
    meter = Meter(Limits())
    handler = with_caller(as_tool(functools.partial(summarize, "cfg"), "summarize"), meter)
    # what Gradio does with a handler: the API's parameters, then the request put in its place
    assert [name for name, *_ in utils.get_function_params(handler)] == ["text", "length"]
    assert handler.__doc__ == inspect.getdoc(summarize) and handler.__name__ == "summarize"
    inputs, *_ = helpers.special_args(handler, ["A text.", 40], request=request(username="ada"))
    assert handler(*inputs) == "cfg A text. 40 ada"
    streaming = with_caller(rounds, meter)
    inputs, progress, *_ = helpers.special_args(streaming, ["cat.png", 2], request=request())
    assert progress == 3  # gr.Progress is still found, after the request
    assert list(streaming(*inputs)) == ["cat.png 0 01234567", "cat.png 1 01234567"]


def test_without_a_meter_the_work_is_the_handler():
    work = functools.partial(summarize, "cfg")
    assert with_caller(work, None) is work


def test_stopping_a_stream_closes_the_work_at_once():
    closed = []

    async def reply(message: str, *, caller=None):
        try:
            for word in ("Hello", " there", " again"):
                yield f"{word} {caller.person.label}"
        finally:
            closed.append(message)

    handler = with_caller(reply, Meter(Limits()))

    async def stop_after_the_first():
        stream = handler(request(username="ada"), "Hi")
        first = await stream.__anext__()
        await stream.aclose()  # what Gradio does when Stop cancels the event
        return first, list(closed)  # closed by now, not later when the stream is collected

    assert asyncio.run(stop_after_the_first()) == ("Hello ada", ["Hi"])


@pytest.mark.parametrize("kind", ["function", "coroutine"])
def test_a_handler_keeps_its_works_kind(kind):
    async def later(text: str, *, caller=None) -> str:
        return f"{text} {caller.person.label}"

    def now(text: str, *, caller=None) -> str:
        return f"{text} {caller.person.label}"

    work = later if kind == "coroutine" else now
    handler = with_caller(work, Meter(Limits()))
    answer = handler(request(username="ada"), "Hi")
    if kind == "coroutine":
        answer = asyncio.run(answer)
    assert answer == "Hi ada"
