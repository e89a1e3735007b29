"""A model call as the page shows it: the status line while it waits, its results, a failure in
the person's words with one log line for whoever runs the studio, and Stop's promise that
nothing more is asked. No app, no network: the work is plain functions and generators."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import threading

import pytest

from studio import errors
from studio.ui import status_line, stop, waiting
from tests.stand_ins.fake_backend import fake_config

SETTINGS_WORDS = ("HF_", "STUDIO_", ".env", "--local")


def collect(async_iterator) -> list:
    async def run():
        return [item async for item in async_iterator]

    return asyncio.run(run())


def test_a_quick_call_shows_what_it_waits_for_then_its_result_then_done():
    run = waiting.on_page(str.upper, 1, doing="Shouting", limit=60, where="test")
    shown = collect(run("hi"))
    assert "Shouting" in shown[0][1] and "gives up after 60 s" in shown[0][1]
    assert [item[0] for item in shown if item[0] == "HI"] == ["HI"]
    assert "Done in" in shown[-1][1] and "role='status'" in shown[-1][1]


def test_work_on_this_computer_has_no_limit_to_tell(fake_backend):
    assert "gives up" not in status_line.waiting_html("Painting", 3, None)
    config = fake_config()
    assert waiting.time_limit(config, "image") == config.endpoint("image").timeout
    local = dataclasses.replace(config.endpoint("image"), protocol="local")
    config = dataclasses.replace(config, endpoints={**config.endpoints, "image": local})
    assert waiting.time_limit(config, "image") is None


def test_a_slow_server_is_named_as_slow_after_a_while():
    assert "slow to answer" not in status_line.waiting_html("Painting", 3, 60)
    assert "slow to answer" in status_line.waiting_html("Painting", status_line.SLOW_AFTER, 60)


def test_the_seconds_tick_while_the_work_blocks():
    release = threading.Event()

    def slow():
        release.wait(30)
        yield "answer"

    async def run():
        seen = []
        async for item in waiting.in_thread(slow, tick=0.05):
            seen.append(item)
            if seen.count(waiting.STILL_WAITING) == 3:
                release.set()
        return seen

    seen = asyncio.run(run())
    assert seen[-1] == "answer" and seen.count(waiting.STILL_WAITING) >= 3


def test_leaving_asks_for_nothing_after_the_step_in_flight():
    asked, in_flight, proceed, closed = [], threading.Event(), threading.Event(), threading.Event()

    def requests():
        try:
            for number in (1, 2, 3):
                asked.append(number)  # as if a request went out
                if number == 2:
                    in_flight.set()
                    proceed.wait(30)
                yield number
        finally:
            closed.set()

    async def stop_while_the_second_is_in_flight():
        async with contextlib.aclosing(waiting.in_thread(requests, tick=0.05)) as items:
            async for item in items:
                if item == 1:
                    assert await asyncio.to_thread(in_flight.wait, 30)
                    return

    asyncio.run(stop_while_the_second_is_in_flight())
    proceed.set()  # the request in flight is answered after Stop
    assert closed.wait(10)
    assert asked == [1, 2]


def test_a_stream_s_page_counts_the_seconds_before_its_first_item():
    release, closed = asyncio.Event(), []

    async def stream():
        try:
            await release.wait()
            yield "first token"
        finally:
            closed.append(True)

    async def run():
        seen = []
        async for item in waiting.ticking(stream(), tick=0.05):
            seen.append(item)
            if seen.count(waiting.STILL_WAITING) == 3:
                release.set()
        return seen

    seen = asyncio.run(run())
    assert seen[-1] == "first token" and seen.count(waiting.STILL_WAITING) >= 3
    assert closed == [True]


def test_stop_while_a_stream_waits_cancels_the_step_and_closes_the_stream():
    cancelled, closed = [], []

    async def stream():
        try:
            await asyncio.Event().wait()  # no first token, ever
            yield "never"
        except asyncio.CancelledError:
            cancelled.append(True)
            raise
        finally:
            closed.append(True)

    async def stop_after_a_tick():
        async with contextlib.aclosing(waiting.ticking(stream(), tick=0.05)) as items:
            async for item in items:
                assert item is waiting.STILL_WAITING
                break
        for _ in range(100):  # the cancelled step cleans up on the loop's next turns
            if closed:
                break
            await asyncio.sleep(0)
        # Checked before asyncio.run would cancel what is left on its own.
        return list(cancelled), list(closed)

    assert asyncio.run(stop_after_a_tick()) == ([True], [True])


def test_stop_is_lit_with_the_first_update_and_grey_after_the_last():
    async def run():
        yield ("a", "waiting")
        yield ("b", "done")

    shown = collect(stop.lit_while_running(run, 2)())
    looks = [item[-1] for item in shown]
    assert looks[0]["variant"] == "stop" and looks[0]["interactive"] is True
    assert all(look["__type__"] == "update" and len(look) == 1 for look in looks[1:-1])
    assert looks[-1]["variant"] == "secondary" and looks[-1]["interactive"] is False
    assert [item[:2] for item in shown[:2]] == [("a", "waiting"), ("b", "done")]


def test_a_generator_says_what_it_waits_for_next():
    def work():
        yield "caption"
        yield waiting.Doing("Painting the caption")
        yield "picture"

    run = waiting.on_page(work, 1, doing="Captioning", limit=None, where="test")
    shown = collect(run())
    results = [(item[0], item[1]) for item in shown if item[0] in ("caption", "picture")]
    assert "Captioning" in results[0][1] and "Painting the caption" in results[1][1]


def test_a_failure_is_the_person_s_message_and_one_log_line(caplog):
    def fail(text: str):
        raise errors.AuthenticationError(
            "api.test refused the access token (401). Check HF_TOKEN in your .env file.",
            status=401,
        )

    run = waiting.on_page(fail, 2, doing="Finding entities", limit=None, where="entities")
    with caplog.at_level(logging.INFO, logger="studio"):
        shown = collect(run("Ada"))
    line = shown[-1][2]
    assert "role='alert'" in line and "Access refused." in line and "access key" in line
    assert not any(word in line for word in SETTINGS_WORDS)
    (record,) = [r for r in caplog.records if r.name == "studio"]
    assert record.levelno == logging.WARNING and record.exc_info is None
    assert "entities: AuthenticationError" in record.getMessage()
    assert "HF_TOKEN" in record.getMessage() and "(status 401)" in record.getMessage()


def test_an_unexpected_failure_keeps_its_traceback_for_the_log(caplog):
    run = waiting.on_page(lambda: 1 / 0, 1, doing="Dividing", limit=None, where="test")
    with caplog.at_level(logging.INFO, logger="studio"):
        shown = collect(run())
    assert "Something went wrong inside the studio: ZeroDivisionError" in shown[-1][1]
    (record,) = [r for r in caplog.records if r.name == "studio"]
    assert record.exc_info is not None


def test_what_the_line_shows_is_escaped():
    line = status_line.failed_html("Cannot do that", "<img src=x onerror=alert(1)>")
    assert "<img" not in line and "&lt;img" in line


def test_stop_says_stopped_only_over_a_wait():
    assert status_line.is_waiting(status_line.waiting_html("Painting", 2, 60))
    assert not status_line.is_waiting(status_line.done_html(1.0))
    assert not status_line.is_waiting("")


def error_classes(base=errors.StudioError):
    for cls in base.__subclasses__():
        yield cls
        yield from error_classes(cls)


@pytest.mark.parametrize("cls", list(error_classes()), ids=lambda cls: cls.__name__)
def test_every_short_message_has_a_title_and_leaves_out_settings(cls):
    error = cls("host.test failed: set HF_TOKEN or STUDIO_TIMEOUT in your .env file.")
    assert cls.title and cls.title != errors.StudioError.title
    if cls in (errors.InputError, errors.ValidationError, errors.LimitReached):
        assert error.for_person == error.message  # their words are for the person
    else:
        assert not any(word in error.for_person for word in SETTINGS_WORDS)


def test_the_page_handler_tells_the_work_who_asks_and_the_status_line_where_they_sit():
    from types import SimpleNamespace

    from studio.classroom.limits import Limits
    from studio.classroom.usage import Meter
    from studio.ui.viewer import page_handler

    def request(peer: str, forwarded: str = "") -> SimpleNamespace:
        headers = {"x-forwarded-for": forwarded} if forwarded else {}
        return SimpleNamespace(
            client=SimpleNamespace(host=peer), headers=headers, username=None, session_hash="s1"
        )

    def refused(text: str, *, caller=None):
        assert caller.person.key == "session:s1"  # the meter counts this person's calls
        raise errors.AuthenticationError(f"The server refused HF_TOKEN for {text!r}.")

    run = waiting.on_page(refused, 1, doing="Asking", limit=None, where="test")
    handler = page_handler(run, Meter(Limits()))
    teacher = collect(handler(request("127.0.0.1"), "hi"))[-1][-1]
    assert "HF_TOKEN" in teacher and errors.TELL_TEACHER not in teacher
    student = collect(handler(request("127.0.0.1", "203.0.113.7"), "hi"))[-1][-1]
    assert errors.TELL_TEACHER in student and "HF_TOKEN" not in student
