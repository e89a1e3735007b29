"""Limits per person: sliding windows, a clear wait, nobody else slowed, bounded memory."""

from __future__ import annotations

import pytest

from studio.classroom.limits import Limiter, OverLimit, Rule, parse_rules, wait_words
from studio.errors import ConfigurationError


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


def reference_wait(rule: Rule, uses: list[tuple[float, int]], now: float, cost: int) -> float:
    """The wait walked out use by use, as the limiter once counted it."""
    inside = [(t, c) for t, c in uses if t > now - rule.seconds]
    over = sum(c for _, c in inside) + cost - rule.count
    if over <= 0:
        return 0.0
    if cost > rule.count:
        return rule.seconds
    freed = 0
    for t, c in inside:
        freed += c
        if freed >= over:
            return t + rule.seconds - now
    return rule.seconds


def test_waits_are_exact_over_long_runs_of_uneven_costs():
    clock = Clock()
    rules = parse_rules("40/minute,300/hour")
    limiter = Limiter(rules, clock=clock)
    spent: list[tuple[float, int]] = []
    for step in range(3000):
        clock.now += (step * 7919) % 13 * 0.9  # uneven gaps, sometimes none
        cost = 1 + step % 5
        expected = max(reference_wait(rule, spent, clock.now, cost) for rule in rules)
        try:
            limiter.charge("ada", cost)
        except OverLimit as over:
            assert over.wait == pytest.approx(expected)
        else:
            assert expected == 0.0
            spent.append((clock.now, cost))


class CountedReads(list):
    """A list that counts the items read from it: bisect reads them one at a time."""

    reads = 0

    def __getitem__(self, index):
        self.reads += 1
        return super().__getitem__(index)


def reads_per_charge(limiter: Limiter, key: str, clock: Clock, charges: int = 1000) -> float:
    """How many of `key`'s kept uses one more charge reads, on average."""
    uses = limiter._seen[key]
    uses.at, uses.before = CountedReads(uses.at), CountedReads(uses.before)
    for _ in range(charges):
        clock.now += 0.01
        limiter.charge(key)
    return (uses.at.reads + uses.before.reads) / charges


def test_a_full_window_costs_no_more_to_check_than_an_empty_one():
    """The whole studio's ceiling holds every request of the hour under one key: checking it
    once walked every one of them (5 ms a request at 20,000 an hour, under the meter's lock).
    Counted in reads of the kept uses, not timed (bench.limits times the meter)."""
    clock = Clock()
    limiter = Limiter(parse_rules("1000000/hour"), clock=clock)
    limiter.charge("one person")
    few = reads_per_charge(limiter, "one person", clock, charges=10)
    for _ in range(20_000):
        clock.now += 0.01
        limiter.charge("the whole studio")
    full = reads_per_charge(limiter, "the whole studio", clock)
    # Bisection: a few reads more for a thousand times the uses; a walk would read 20,000.
    assert full < 100, f"{full} reads a charge with 20,000 uses kept, {few} with a few"
    clock.now += 3600
    limiter.charge("the whole studio")
    uses = limiter._seen["the whole studio"]
    assert len(uses.at) - uses.first == 1 and len(uses.at) < 1000  # the hour's uses are let go
