"""Compare's pure logic: what differs between the columns, the blind order, the vote."""

from __future__ import annotations

import pytest

from studio.errors import InputError
from studio.tasks import compare as task

BASE = task.Side(model="tiny/first", temperature="0.7", max_new_tokens="20")


def test_one_setting_changes_and_the_rest_is_shared():
    a, b = task.sides(BASE, "Temperature", "0.2", " 0.9 ")
    assert (a.temperature, b.temperature) == ("0.2", " 0.9 ")
    assert a.model == b.model == "tiny/first" and a.max_new_tokens == b.max_new_tokens == "20"
    assert task.differences(a, b) == ["Temperature"]
    assert a.checked().temperature == 0.2 and b.checked().temperature == 0.9


def test_models_and_system_prompts_are_compared_as_text():
    a, b = task.sides(BASE, "Model", "tiny/first", " tiny/second ")
    assert (a.model, b.model) == ("tiny/first", "tiny/second")
    a, b = task.sides(BASE, "System prompt", "", "Answer like a pirate.")
    assert task.describe(a, "System prompt") == "System prompt: none"
    assert task.describe(b, "System prompt") == "System prompt: “Answer like a pirate.”"
    assert task.describe(task.Side(), "Model", "tiny/first") == "Model: tiny/first"


def test_nothing_to_compare_and_values_out_of_range_are_refused_by_name():
    with pytest.raises(InputError, match="same temperature"):
        task.sides(BASE, "Temperature", "0.5", 0.5)  # text and number, the same value
    with pytest.raises(InputError, match="same seed"):
        task.sides(BASE, "Seed", "", " ")  # both random
    with pytest.raises(InputError, match="Column B: .*[Tt]op-p"):
        task.sides(BASE, "Top-p", "0.9", "7")
    with pytest.raises(InputError, match="Choose what differs"):
        task.sides(BASE, "Colour", "1", "2")


def test_the_blind_order_follows_the_coin_and_the_vote_reveals_the_columns():
    pair = ("temperature 0.2", "temperature 0.9")
    assert task.in_columns(pair, task.blind_order(lambda: 0.3)) == pair[::-1]
    assert task.in_columns(pair, task.blind_order(lambda: 0.7)) == pair
    shown = task.in_columns(pair, swapped=True)  # B stands left, named A on the page
    verdict = task.reveal("A", shown)
    assert verdict.message == "You preferred A: temperature 0.9. The other was temperature 0.2."
    assert "A tie" in task.reveal("Tie", shown).message
    with pytest.raises(InputError, match="Vote for A, B or Tie"):
        task.reveal("", shown)


def test_the_line_under_a_column_gives_time_speed_tokens_and_price():
    line = task.column_line(0.25, 31.52, 40, price_out=2.0)
    assert line == (
        "first token 0.25 s · 31.5 tok/s · 40 tokens · about $0.000080 for the reply's tokens"
    )
    assert task.column_line(None, None, 1) == "no text yet · 1 token"
    assert task.column_line(0.1, None, 3, price_out=0).endswith("· free")
