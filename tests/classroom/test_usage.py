"""The meter behind the limits and the usage view, with an injected clock and a caller of the
test's choosing handed to the tabs' real handlers over the fake backend: no app, no network."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import io
import tracemalloc

import gradio as gr
import pytest
from PIL import Image

from studio.classroom.limits import Limits, parse_rules
from studio.classroom.login import LoginThrottle
from studio.classroom.people import caller_of
from studio.classroom.usage import Caller, Entry, Meter, Person
from studio.classroom.usage_page import may_see_usage
from studio.errors import LimitReached
from studio.ui import imagine, summarize
from studio.ui.chat.api import ChatApi
from tests.stand_ins.fake_backend import fake_config
from tests.ui.test_tabs import turn_shown


class Clock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


def asking(meter: Meter, name: str) -> Caller:
    """The caller an event of `name`'s session hands the handlers."""
    return Caller(meter, Person(f"session:{name}", name, "10.0.0.7"))


def limits(**rules: str) -> Limits:
    return Limits(**{name: parse_rules(text) for name, text in rules.items()})


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, "PNG")
    return out.getvalue()


def collect(async_generator) -> list:
    async def run():
        return [item async for item in async_generator]

    return asyncio.run(run())


def test_a_person_over_the_limit_is_told_the_wait_and_others_go_on(fake_backend):
    clock = Clock()
    meter = Meter(limits(requests="2/minute"), clock=clock)
    fake_backend.answer(*[[{"summary_text": "Short."}]] * 4)
    ada = asking(meter, "ada")
    for _ in range(2):
        summarize.summarize(fake_config(), "A text.", caller=ada)
        clock.now += 10
    with pytest.raises(gr.Error, match="2 per minute. Try again in about 40 seconds"):
        summarize.summarize(fake_config(), "A text.", caller=ada)
    grace = asking(meter, "grace")
    assert summarize.summarize(fake_config(), "A text.", caller=grace) == "Short."
    clock.now += 41
    # the refusal was not counted: the window slid
    assert summarize.summarize(fake_config(), "A text.", caller=ada) == "Short."
    assert len(fake_backend.calls) == 4


def test_pictures_have_a_limit_of_their_own(fake_backend, tmp_path):
    meter = Meter(limits(images="2/hour"), clock=Clock())
    fake_backend.answer(png(), png())
    ada = asking(meter, "ada")
    for seed in (1, 2):
        imagine.generate_image(fake_config(), str(tmp_path), "a red square", seed=seed, caller=ada)
    with pytest.raises(gr.Error, match="as many pictures as each person may: 2 per hour"):
        imagine.generate_image(fake_config(), str(tmp_path), "a red square", seed=3, caller=ada)
    assert meter.report()["tabs"]["Imagine"]["images"] == 2


def test_chat_tokens_are_counted_after_each_reply(fake_backend):
    meter = Meter(limits(chat_tokens="60/hour"), clock=Clock())
    ada = asking(meter, "ada")
    replies = ChatApi(fake_config())
    for _ in range(2):
        fake_backend.reply(*[f" w{n}" for n in range(40)])
        collect(replies.chat("Hi", history=[], caller=ada))
    with pytest.raises(gr.Error, match="as many chat tokens as each person may: 60 per hour"):
        collect(replies.chat("Hi", history=[], caller=ada))
    # the page's chat says it in the conversation, as it says every failure
    asked = [{"role": "user", "content": "Hi"}]
    shown = turn_shown(fake_config(), asked, "", 0.7, 0.9, 64, 1, None, caller=ada)
    assert "60 per hour. Try again in about" in shown[-1][0][-1]["content"]
    assert meter.report()["tabs"]["Chat"] == {
        "requests": 2,
        "errors": 0,
        "refused": 2,
        "images": 0,
        "tokens": 80,
    }


def test_a_reply_stopped_midway_counts_what_came(fake_backend):
    meter = Meter(limits(chat_tokens="1000/hour"), clock=Clock())
    ada = asking(meter, "ada")
    fake_backend.reply("Hello", " there", " and on")

    async def stop_after_the_first_update():
        replies = ChatApi(fake_config()).chat("Hi", history=[], caller=ada)
        await replies.__anext__()
        await replies.aclose()

    asyncio.run(stop_after_the_first_update())
    (person,) = meter.report()["people"]
    assert person["requests"] == 1 and person["errors"] == 0 and person["tokens"] >= 1


def test_failures_count_as_errors_and_the_slowest_backend_is_named(fake_backend):
    from studio.errors import ServerError

    clock = Clock()
    meter = Meter(Limits(), clock=clock)
    fake_backend.answer(ServerError("boom"))
    with pytest.raises(gr.Error):
        summarize.summarize(fake_config(), "A text.", caller=asking(meter, "ada"))
    meter.log(Entry(clock(), "ada", "image", "ok", images=1, seconds=9.5, host="slow.test"))
    report = meter.report()
    assert report["tabs"]["Summarize"]["errors"] == 1
    assert report["slowest_backend"]["host"] == "slow.test"


def test_no_prompt_text_is_kept_unless_the_teacher_asks(fake_backend):
    fake_backend.answer([{"summary_text": "S."}], [{"summary_text": "S."}])
    quiet, keeping = Meter(Limits()), Meter(Limits(), keep_prompts=True)
    for meter in (quiet, keeping):
        summarize.summarize(fake_config(), "A secret diary entry.", caller=asking(meter, "ada"))
    assert "secret" not in repr(quiet.entries())
    assert "prompts" not in quiet.report()["people"][0]
    assert keeping.report()["people"][0]["prompts"] == ["A secret diary entry."]


def test_nothing_is_counted_outside_an_event(fake_backend):
    fake_backend.answer([{"summary_text": "S."}], [{"summary_text": "S."}])
    meter = Meter(limits(requests="1/hour"), clock=Clock())
    assert caller_of(meter, None) is None  # no event's request: nobody to count against
    for _ in range(2):
        assert summarize.summarize(fake_config(), "A text.", caller=None) == "S."


def test_memory_stays_bounded_after_ten_thousand_sessions():
    clock = Clock()
    every = limits(requests="10/minute,100/hour", images="20/hour", chat_tokens="5000/hour")
    meter = Meter(
        dataclasses.replace(every, new_sessions=parse_rules("1000000/minute")), clock=clock
    )

    def one_request(n: int) -> None:
        person = Person(f"session:{n:032x}", f"{n:08x}", f"10.0.{n % 250}.{n % 200}")
        meter.admit(person, "chat")
        meter.done(person, Entry(clock(), person.label, "chat", "ok", tokens=120, host="h"))
        clock.now += 0.01

    tracemalloc.start()
    for n in range(10_000):
        one_request(n)
    after_ten_thousand = tracemalloc.get_traced_memory()[0]
    for n in range(10_000, 20_000):
        one_request(n)
    after_twenty_thousand = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    store = meter.store
    assert len(store.limiters["requests"]) <= 10_000 and len(store.known) <= 10_000
    assert len(store.ledger) <= 20_000
    assert after_ten_thousand < 15_000_000  # bytes; about 12 MB measured (10 MB before the
    # limiters kept running totals, which made counting the whole studio's hour a bisection)
    assert after_twenty_thousand < after_ten_thousand * 1.6  # the caps hold, it does not grow on
    clock.now += 3601  # an hour of quiet: everyone is forgotten
    one_request(99_999)
    assert len(store.limiters["requests"]) == 1 and len(store.known) == 1
    assert len(store.ledger) == 1


# --- who may open the usage view ---------------------------------------------------------------


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_without_a_teachers_login_only_this_computer_sees_usage():
    throttle = LoginThrottle()
    assert may_see_usage("127.0.0.1", None, None, None, throttle).status == 200
    assert may_see_usage("::1", None, None, None, throttle).status == 200
    assert may_see_usage("192.168.1.23", None, None, None, throttle).status == 403
    assert may_see_usage("127.0.0.1", "203.0.113.9", None, None, throttle).status == 403
    student = basic("student", "class-password")
    assert may_see_usage("192.168.1.23", None, student, None, throttle).status == 403


def test_with_a_teachers_login_only_that_login_sees_usage():
    admin, throttle = ("teacher", "usage-password"), LoginThrottle()
    asked = may_see_usage("192.168.1.23", None, None, admin, throttle)
    assert asked.status == 401 and (b"www-authenticate", asked.headers[0][1]) == asked.headers[0]
    right = basic("teacher", "usage-password")
    assert may_see_usage("192.168.1.23", None, right, admin, throttle).status == 200
    assert may_see_usage("192.168.1.23", None, basic("student", "x"), admin, throttle).status == 401
    assert may_see_usage("192.168.1.23", None, "Basic !!!", admin, throttle).status == 401


def test_wrong_teacher_passwords_are_slowed():
    admin, throttle = ("teacher", "usage-password"), LoginThrottle()
    for _ in range(5):
        wrong = may_see_usage("192.168.1.23", None, basic("teacher", "guess"), admin, throttle)
        assert wrong.status == 401
    assert may_see_usage("192.168.1.23", None, basic("teacher", "x"), admin, throttle).status == 429
    # another address, with the right password, is not slowed
    right = basic("teacher", "usage-password")
    assert may_see_usage("192.168.1.99", None, right, admin, throttle).status == 200


def test_the_limit_error_carries_the_wait():
    meter = Meter(limits(requests="1/hour"), clock=Clock())
    person = Person("session:x", "x")
    meter.admit(person, "summarize")
    with pytest.raises(LimitReached) as caught:
        meter.admit(person, "summarize")
    assert caught.value.wait == pytest.approx(3600) and caught.value.status == 429
    assert "about 60 minutes" in caught.value.for_person


def test_input_the_studio_refuses_costs_no_request(fake_backend):
    meter = Meter(limits(requests="1/hour"), clock=Clock())
    fake_backend.answer([{"summary_text": "S."}])
    ada = asking(meter, "ada")
    for _ in range(3):
        with pytest.raises(gr.Error, match="at most 100,000"):
            summarize.summarize(fake_config(), "x" * 1_000_000, caller=ada)
    assert summarize.summarize(fake_config(), "A text.", caller=ada) == "S."
    assert meter.report()["tabs"]["Summarize"]["errors"] == 0


def test_the_page_escapes_what_people_typed():
    from studio.classroom.usage_report import usage_page

    meter = Meter(Limits(), keep_prompts=True)
    entry = Entry(meter.clock(), "ada", "chat", "ok", tokens=3, host="h", prompt="<b>hi</b>")
    meter.log(entry)
    page = usage_page(meter.report())
    assert "&lt;b&gt;hi&lt;/b&gt;" in page and "<b>hi" not in page
