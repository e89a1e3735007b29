"""The class wall's rounds as plain values: answers one per person, guesses tallied without
regard to case, the bounds, and what the students and the teacher are shown."""

from __future__ import annotations

import io
import math

import pytest
from PIL import Image

from studio.errors import InputError
from studio.tasks import wall as task
from studio.tasks.wall import Picture, Round, model_choices, normalised, tally


def guessing(prompt: str = "The cat sat on the") -> Round:
    return Round(1, "next_word", prompt)


def test_a_new_answer_replaces_the_persons_own():
    round_ = guessing()
    round_.answer("session:a", "mat")
    round_.answer("session:b", "floor")
    round_.answer("session:a", "sofa")
    assert {a.key: a.text for a in round_.answers.values()} == {
        "session:a": "sofa",
        "session:b": "floor",
    }


def test_guesses_are_trimmed_and_tallied_without_regard_to_case():
    round_ = guessing()
    for key, text in [("a", "  Mat "), ("b", "mat"), ("c", "MAT"), ("d", "rug"), ("e", "big  rug")]:
        round_.answer(key, text)
    bars = tally(round_.answers.values())
    assert [(bar.text, bar.count) for bar in bars] == [("Mat", 3), ("rug", 1), ("big rug", 1)]
    assert bars[0].share == pytest.approx(0.6)
    assert sum(bar.share for bar in bars) == pytest.approx(1.0)


def test_an_empty_or_long_guess_is_refused_in_words():
    with pytest.raises(InputError, match="Type a guess"):
        normalised("   ")
    with pytest.raises(InputError, match="Type a guess"):
        normalised(None)
    with pytest.raises(InputError, match="at most 40 characters"):
        normalised("x" * 41)
    assert normalised("x" * 40) == "x" * 40


def test_a_round_holds_at_most_its_answers_and_a_closed_one_takes_none():
    round_ = guessing()
    for n in range(task.MAX_ANSWERS):
        round_.answer(f"p{n}", "mat")
    with pytest.raises(InputError, match="as many answers as the wall holds"):
        round_.answer("latecomer", "mat")
    round_.answer("p0", "rug")  # someone already in may still change their mind
    round_.open = False
    with pytest.raises(InputError, match="That round has closed"):
        round_.answer("p1", "rug")


def test_a_paint_round_takes_pictures_not_guesses_and_bounds_them():
    round_ = Round(2, "paint", "A lighthouse in a storm")
    with pytest.raises(InputError, match="asks for paint this prompt"):
        round_.answer("a", "mat")
    for n in range(task.MAX_PICTURES):
        round_.add_picture(Picture(f"p{n}", n, b"jpeg"))
    # a new one of theirs replaces the old, under a number of its own (the wall's page caches
    # each picture by its number)
    assert round_.add_picture(Picture("p0", 99, b"jpeg")) == task.MAX_PICTURES
    assert len(round_.pictures) == task.MAX_PICTURES and 0 not in round_.pictures
    assert list(round_.pictures)[-1] == task.MAX_PICTURES
    with pytest.raises(InputError, match="as many answers"):
        round_.add_picture(Picture("new", 1, b"jpeg"))


def test_thumbnails_are_small():
    made = task.thumbnail(Image.new("RGB", (1024, 768), "navy"))
    with Image.open(io.BytesIO(made)) as small:
        assert small.size == (256, 192) and small.format == "JPEG"


def test_the_models_choices_are_probabilities_likeliest_first():
    choices = model_choices([("rug", math.log(0.2)), ("mat", math.log(0.7))])
    assert [token for token, _ in choices] == ["mat", "rug"]
    assert choices[0][1] == pytest.approx(0.7)


def test_a_round_needs_a_kind_and_a_prompt():
    with pytest.raises(InputError, match="next_word, paint"):
        task.checked_round("quiz", "x")
    with pytest.raises(InputError, match="Type the prompt"):
        task.checked_round("paint", "  ")
    assert task.checked_round("paint", " A cat ") == ("paint", "A cat")
