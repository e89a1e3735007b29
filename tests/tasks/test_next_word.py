"""The Next word panel's maths: temperature and top-p reshaping the top tokens, the nucleus cut,
and picking with a random source given by the test."""

from __future__ import annotations

import math

import pytest

from studio.errors import InputError
from studio.tasks.next_word import (
    checked_start,
    most_likely,
    pick,
    reshaped,
    shown_token,
)

# Model probabilities 0.5, 0.25, 0.125, 0.0625 (the rest of the vocabulary not sent).
CHOICES = [
    (" cat", math.log(0.25)),
    (" dog", math.log(0.5)),
    (" owl", math.log(0.0625)),
    (" fox", math.log(0.125)),
]


def chances(bars) -> list[float]:
    return [round(bar.chance, 6) for bar in bars]


def test_at_temperature_one_the_chances_are_the_models_odds_among_the_tokens_sent():
    bars = reshaped(CHOICES, 1.0, 1.0)
    assert [bar.token for bar in bars] == [" dog", " cat", " fox", " owl"]
    assert chances(bars) == [round(p / 0.9375, 6) for p in (0.5, 0.25, 0.125, 0.0625)]
    assert [round(bar.probability, 6) for bar in bars] == [0.5, 0.25, 0.125, 0.0625]
    assert all(bar.kept for bar in bars)


def test_temperature_sharpens_below_one_and_flattens_above():
    cold, hot = reshaped(CHOICES, 0.5, 1.0), reshaped(CHOICES, 2.0, 1.0)
    # p ** (1 / T), shared out: at 0.5 the squares, at 2 the square roots.
    squares = [p * p for p in (0.5, 0.25, 0.125, 0.0625)]
    assert chances(cold) == [round(s / sum(squares), 6) for s in squares]
    roots = [math.sqrt(p) for p in (0.5, 0.25, 0.125, 0.0625)]
    assert chances(hot) == [round(r / sum(roots), 6) for r in roots]
    assert cold[0].chance > reshaped(CHOICES, 1.0, 1.0)[0].chance > hot[0].chance


def test_temperature_zero_always_takes_the_likeliest():
    bars = reshaped(CHOICES, 0.0, 1.0)
    assert chances(bars) == [1.0, 0.0, 0.0, 0.0]
    assert [bar.kept for bar in bars] == [True, False, False, False]


def test_top_p_keeps_the_fewest_tokens_that_reach_it_and_shares_their_chances_out():
    # Shares among the four: 0.533, 0.267, 0.133, 0.067. 0.8 is reached with two.
    bars = reshaped(CHOICES, 1.0, 0.8)
    assert [bar.kept for bar in bars] == [True, True, False, False]
    assert chances(bars) == [round(2 / 3, 6), round(1 / 3, 6), 0.0, 0.0]
    assert sum(bar.chance for bar in bars) == pytest.approx(1.0)
    assert [bar.kept for bar in reshaped(CHOICES, 1.0, 0.05)] == [True, False, False, False]
    assert [bar.kept for bar in reshaped(CHOICES, 1.0, 0.81)] == [True, True, True, False]


def test_temperature_moves_the_cut_too():
    # Colder, the top token alone passes 0.8; hotter, three are needed.
    assert sum(bar.kept for bar in reshaped(CHOICES, 0.3, 0.8)) == 1
    assert sum(bar.kept for bar in reshaped(CHOICES, 2.0, 0.8)) == 3


def test_pick_samples_where_the_random_number_falls_among_the_kept_chances():
    bars = reshaped(CHOICES, 1.0, 0.8)  # dog 2/3, cat 1/3, the rest cut
    assert pick(bars, lambda: 0.0).token == " dog"
    assert pick(bars, lambda: 0.66).token == " dog"
    assert pick(bars, lambda: 0.67).token == " cat"
    assert pick(bars, lambda: 0.999999).token == " cat", "a cut token is never picked"
    counts = {" dog": 0, " cat": 0}
    for i in range(300):
        counts[pick(bars, lambda i=i: (i + 0.5) / 300).token] += 1
    assert counts == {" dog": 200, " cat": 100}


def test_most_likely_takes_the_models_top_token_whatever_the_settings():
    assert most_likely(reshaped(CHOICES, 2.0, 1.0)).token == " dog"
    with pytest.raises(InputError, match="show them first"):
        most_likely([])
    with pytest.raises(InputError, match="show them first"):
        pick([], lambda: 0.5)


def test_huge_and_tiny_log_probabilities_do_not_overflow():
    bars = reshaped([("a", -0.01), ("b", -900.0)], 0.01, 1.0)
    assert chances(bars) == [1.0, 0.0]
    assert reshaped([], 1.0, 1.0) == []


def test_the_start_must_be_some_text_of_a_sensible_length():
    assert checked_start("The cat ") == "The cat ", "a space at the end matters"
    for bad in ("", "   ", None, "x" * 2001):
        with pytest.raises(InputError):
            checked_start(bad)


def test_tokens_are_shown_with_their_spaces_visible():
    assert shown_token(" the") == "␣the"
    assert shown_token("\n") == "⏎"
    assert shown_token("") == "(nothing)"
