"""Limits per person: sliding windows, a clear wait, nobody else slowed, bounded memory."""

from __future__ import annotations

import pytest

from studio.errors import ConfigurationError
from studio.limits import Limiter, OverLimit, Rule, parse_rules, wait_words


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rules_are_read_in_the_documented_form():
    assert parse_rules("10/minute, 100/hours") == (Rule(10, 60.0), Rule(100, 3600.0))
    assert parse_rules("") == ()
    for wrong in ("ten/minute", "10 per minute", "0/hour", "5/week"):
        with pytest.raises(ConfigurationError, match="STUDIO_LIMIT takes limits such as"):
            parse_rules(wrong)


def test_one_person_over_the_limit_waits_and_others_are_not_slowed():
    clock = Clock()
    limiter = Limiter(parse_rules("3/minute"), clock=clock)
    for _ in range(3):
        limiter.charge("ada")
        clock.now += 1
    with pytest.raises(OverLimit) as caught:
        limiter.charge("ada")
    assert caught.value.wait == pytest.approx(57.0)  # the first request leaves the window then
    limiter.charge("grace")  # someone else: not affected
    clock.now += 57
    limiter.charge("ada")  # the window slid


def test_the_strictest_rule_sets_the_wait():
    clock = Clock()
    limiter = Limiter(parse_rules("100/minute,5/hour"), clock=clock)
    for _ in range(5):
        limiter.charge("ada")
    with pytest.raises(OverLimit) as caught:
        limiter.charge("ada")
    assert caught.value.rule == Rule(5, 3600.0) and caught.value.wait == pytest.approx(3600)


def test_a_refused_request_is_not_counted():
    clock = Clock()
    limiter = Limiter(parse_rules("1/minute"), clock=clock)
    limiter.charge("ada")
    for _ in range(5):
        with pytest.raises(OverLimit):
            limiter.charge("ada")
    clock.now += 60.5
    limiter.charge("ada")


def test_memory_stays_bounded_after_ten_thousand_people():
    clock = Clock()
    limiter = Limiter(parse_rules("10/minute"), max_keys=1000, clock=clock)
    for person in range(10_000):
        limiter.charge(f"session-{person}")
    assert limiter.keys() == 1000  # the oldest were forgotten
    clock.now += 61
    limiter.charge("one more")
    assert limiter.keys() == 1  # everyone idle past the window is forgotten


def test_waits_in_words():
    assert wait_words(40.2) == "about 40 seconds" and wait_words(200) == "about 3 minutes"
