"""Branching from a token: where the branch starts, the click data it accepts, and the columns
side by side with the model's text escaped."""

from __future__ import annotations

import pytest

from studio.errors import InputError
from studio.tasks.token_branches import (
    MAX_BRANCHES,
    Branch,
    as_written,
    branch_start,
    branches_html,
    chosen_place,
)
from studio.tasks.token_probs import TokenProb

TOKENS = (
    TokenProb("The", -0.1, (("The", -0.1), ("A", -2.5))),
    TokenProb(" river", -1.0, ((" sea", -0.7), (" river", -1.0), (" <b>", -3.0))),
    TokenProb(" flows", -0.2),
)
ANSWER = "The river flows"


def test_a_branch_starts_with_the_reply_up_to_the_token_and_the_alternative():
    assert branch_start(TOKENS, ANSWER, 1, 0) == ("The", " sea")
    assert branch_start(TOKENS, ANSWER, 0, 1) == ("", "A")
    assert as_written(TOKENS, ANSWER, 1) == Branch("The", " river", " flows")


def test_a_first_tokens_leading_space_the_answer_dropped_is_dropped_here_too():
    tokens = (TokenProb(" The", -0.1, ((" A", -2.5),)), *TOKENS[1:])
    assert branch_start(tokens, ANSWER, 1, 0) == ("The", " sea")
    assert branch_start(tokens, ANSWER, 0, 0) == ("", "A")
    assert as_written(tokens, ANSWER, 0) == Branch("", "The", " river flows")


@pytest.mark.parametrize(("at", "alt"), [(3, 0), (1, 3), (2, 0)])
def test_a_place_the_reply_does_not_have_is_refused_in_words(at, alt):
    with pytest.raises(InputError, match="choose one again"):
        branch_start(TOKENS, ANSWER, at, alt)


@pytest.mark.parametrize(
    ("data", "place"),
    [({"at": "1", "alt": "0"}, (1, 0)), ({"at": 2, "alt": 1}, (2, 1)), (None, None),
     ({"at": "x", "alt": "0"}, None), ({"at": "-1", "alt": "0"}, None), ({"at": "1"}, None)],
)  # fmt: skip
def test_only_a_branch_buttons_data_names_a_place(data, place):
    assert chosen_place(data) == place


def test_the_columns_show_the_reply_as_written_then_the_newest_branches_escaped():
    branches = [Branch("The", f" <i>{n}", " ran", note="<note>") for n in range(MAX_BRANCHES + 1)]
    shown = branches_html(as_written(TOKENS, ANSWER, 1), branches)
    assert shown.count('class="branch"') == 1 + MAX_BRANCHES
    assert "<i>" not in shown and "<note>" not in shown
    assert "&lt;i&gt;0" not in shown, "the oldest branch went first"
    assert '<mark class="branch-token"> river</mark> flows' in shown
    assert '<mark class="branch-token"> &lt;i&gt;1</mark> ran' in shown
