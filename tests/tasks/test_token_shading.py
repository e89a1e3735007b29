"""A reply's tokens shaded by probability: the levels, the percentages a person reads, the
alternatives, and the model's text always escaped."""

from __future__ import annotations

import math
import re

import pytest

from studio.tasks.token_probs import TokenProb
from studio.tasks.token_shading import (
    LEVELS,
    NO_ALTERNATIVES,
    alternatives_html,
    level,
    percent,
    reply_html,
    token_html,
)


def token(text: str, prob: float, top=()) -> TokenProb:
    return TokenProb(text, math.log(prob), tuple((t, math.log(p)) for t, p in top))


@pytest.mark.parametrize(
    ("prob", "name"),
    [(1.0, "sure"), (0.9, "sure"), (0.89, "likely"), (0.5, "likely"), (0.3, "unsure"),
     (0.2, "unsure"), (0.19, "surprising"), (0.0001, "surprising")],
)  # fmt: skip
def test_each_probability_falls_in_one_level(prob, name):
    assert level(prob) == name


def test_percentages_are_whole_and_never_a_rounded_certainty():
    assert [percent(p) for p in (1.0, 0.999, 0.78, 0.5, 0.004)] == [
        "100%",
        "over 99%",
        "78%",
        "50%",
        "under 1%",
    ]


def test_a_token_is_focusable_and_drawn_by_its_level_not_by_colour_alone():
    shown = token_html(token(" maybe", 0.3))
    assert 'class="probs-tok probs-unsure" tabindex="0"' in shown
    assert "30%, unsure" in shown  # said to a screen reader, not only drawn
    legend = reply_html([])
    assert [name for _, name, _ in LEVELS] == re.findall(r"probs-tok probs-(\w+)\">", legend)


def test_the_models_text_is_escaped_everywhere_it_shows():
    shown = reply_html([token("<script>x</script>", 0.6, [("<b>", 0.3), ('"&', 0.1)])], "<i>")
    assert "<script>" not in shown and "<b>" not in shown and "<i>" not in shown
    assert "&lt;script&gt;x&lt;/script&gt;" in shown and "&quot;&amp;" in shown


def test_the_alternatives_come_likeliest_first_with_the_written_one_in_bold():
    shown = alternatives_html(token(" river", 0.25, [(" the", 0.5), (" river", 0.25), (" a", 0.1)]))
    assert shown.startswith("<strong>25%</strong> sure of <code> river</code>")
    rows = re.findall(r"<li( class=\"probs-picked\")?><code>([^<]*)</code> (\d+%)</li>", shown)
    assert rows == [("", " the", "50%"), (' class="probs-picked"', " river", "25%"),
                    ("", " a", "10%")]  # fmt: skip


def test_a_token_kept_without_alternatives_says_how_to_get_them():
    assert NO_ALTERNATIVES in alternatives_html(token("x", 0.9))
