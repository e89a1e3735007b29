"""The describe-and-generate game, played with deterministic stand-ins for the two models."""

from __future__ import annotations

import pytest
from PIL import Image

from studio.errors import BadResponseError, InputError
from studio.tasks.game import Captioned, Round, play_rounds, play_steps, round_seed

UPLOAD = Image.new("RGB", (32, 32), (10, 20, 30))


class Models:
    """A captioner and a generator that record their calls; each picture is new and distinct."""

    def __init__(self, captions: list[str] | None = None) -> None:
        self.captions = captions
        self.caption_calls: list[Image.Image] = []
        self.generate_calls: list[tuple[str, int]] = []
        self.generated: list[Image.Image] = []

    def caption(self, image: Image.Image) -> str:
        self.caption_calls.append(image)
        if self.captions is not None:
            return self.captions[len(self.caption_calls) - 1]
        return f"caption {len(self.caption_calls)}"

    def generate(self, prompt: str, seed: int) -> Image.Image:
        self.generate_calls.append((prompt, seed))
        picture = Image.new("RGB", (16, 16), (len(self.generated) * 40, 0, 0))
        self.generated.append(picture)
        return picture


def test_each_round_captions_the_previous_picture():
    models = Models()
    rounds = list(play_rounds(UPLOAD, 3, models.caption, models.generate, seed=100))

    assert models.caption_calls[0] is UPLOAD
    assert models.caption_calls[1] is models.generated[0]
    assert models.caption_calls[2] is models.generated[1]
    assert models.generate_calls == [("caption 1", 100), ("caption 2", 101), ("caption 3", 102)]
    assert rounds == [
        Round(number=1, caption="caption 1", seed=100, image=models.generated[0]),
        Round(number=2, caption="caption 2", seed=101, image=models.generated[1]),
        Round(number=3, caption="caption 3", seed=102, image=models.generated[2]),
    ]


def test_rounds_are_yielded_one_at_a_time():
    models = Models()
    game = play_rounds(UPLOAD, 5, models.caption, models.generate, seed=1)
    first = next(game)
    assert first.number == 1
    assert len(models.generate_calls) == 1  # round 2 has not started yet
    assert [played.number for played in game] == [2, 3, 4, 5]


def test_captions_are_stripped_before_generating():
    models = Models(captions=["  a red square \n"])
    (only,) = play_rounds(UPLOAD, 1, models.caption, models.generate, seed=0)
    assert only.caption == "a red square"
    assert models.generate_calls == [("a red square", 0)]


def test_a_random_base_seed_is_chosen_once():
    models = Models()
    rounds = list(play_rounds(UPLOAD, 4, models.caption, models.generate, seed=None))
    base = rounds[0].seed
    assert 0 <= base < 2**32
    assert [played.seed for played in rounds] == [round_seed(base, n) for n in (1, 2, 3, 4)]

    replay = Models()
    again = list(play_rounds(UPLOAD, 4, replay.caption, replay.generate, seed=base))
    assert [played.seed for played in again] == [played.seed for played in rounds]


def test_seeds_wrap_at_32_bits():
    models = Models()
    rounds = list(play_rounds(UPLOAD, 3, models.caption, models.generate, seed=2**32 - 2))
    assert [played.seed for played in rounds] == [2**32 - 2, 2**32 - 1, 0]


@pytest.mark.parametrize("rounds", [0, 6, -1, 2.5, float("nan"), "many"])
def test_rounds_out_of_range_are_refused_before_any_call(rounds):
    models = Models()
    with pytest.raises(InputError, match="^Rounds must be"):
        play_rounds(UPLOAD, rounds, models.caption, models.generate, seed=1)
    assert models.caption_calls == [] and models.generate_calls == []


def test_slider_floats_are_accepted():
    models = Models()
    assert len(list(play_rounds(UPLOAD, 2.0, models.caption, models.generate, seed=1))) == 2


def test_no_upload_and_bad_seed_are_refused_before_any_call():
    models = Models()
    with pytest.raises(InputError, match="Upload an image first."):
        play_rounds(None, 3, models.caption, models.generate, seed=1)
    with pytest.raises(InputError, match="seed"):
        play_rounds(UPLOAD, 3, models.caption, models.generate, seed=-7)
    assert models.caption_calls == []


def test_an_empty_caption_stops_the_game():
    models = Models(captions=["a dog", "  "])
    game = play_rounds(UPLOAD, 3, models.caption, models.generate, seed=1)
    assert next(game).caption == "a dog"
    with pytest.raises(BadResponseError, match="Round 2"):
        next(game)
    assert len(models.generate_calls) == 1


def test_each_caption_comes_before_its_picture_is_asked_for():
    models = Models()
    steps = play_steps(UPLOAD, 2, models.caption, models.generate, seed=7)
    first = next(steps)
    assert first == Captioned(number=1, caption="caption 1", seed=7)
    assert models.generate_calls == []  # a page can stop here, before painting
    assert [type(step).__name__ for step in steps] == ["Round", "Captioned", "Round"]
