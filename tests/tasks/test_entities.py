"""Merging token-classification answers into whole entities."""

from __future__ import annotations

import copy

import pytest

from studio.errors import BadResponseError
from studio.tasks.entities import merge_entities, segments
from tests.stand_ins.servers import group, ner_tokens


def spans(entities):
    return [(e.type, e.text) for e in entities]


def token(tag, text, start, word=None, score=0.9):
    end = start + len(word.removeprefix("##") if word else text[start:])
    return {
        "entity": tag,
        "score": score,
        "word": word or text[start:end],
        "start": start,
        "end": end,
    }


def test_multi_word_entity_keeps_its_spaces():
    text = "She moved to New York City last year."
    found = merge_entities(text, ner_tokens(text))
    assert spans(found) == [("LOC", "New York City")]
    assert (found[0].start, found[0].end) == (13, 26)


def test_word_pieces_join_into_one_word():
    text = "Ada Lovelace worked with DeepLearningAI"
    raw = ner_tokens(text)
    assert any(t["word"].startswith("##") for t in raw), "the answer really has ## pieces"
    assert spans(merge_entities(text, raw)) == [("PER", "Ada Lovelace"), ("ORG", "DeepLearningAI")]


def test_adjacent_b_entities_of_one_type_stay_apart():
    text = "Paris London"
    raw = [token("B-LOC", text, 0, "Paris"), token("B-LOC", text, 6, "London")]
    assert spans(merge_entities(text, raw)) == [("LOC", "Paris"), ("LOC", "London")]


def test_a_change_of_type_splits():
    text = "Merkel Berlin"
    raw = [token("B-PER", text, 0, "Merkel"), token("I-LOC", text, 7, "Berlin")]
    assert spans(merge_entities(text, raw)) == [("PER", "Merkel"), ("LOC", "Berlin")]


def test_a_word_piece_never_splits_a_word_even_if_tagged_otherwise():
    text = "Lufthansa flies"
    raw = [
        {"entity": "B-ORG", "score": 0.9, "word": "Luft", "start": 0, "end": 4},
        {"entity": "B-LOC", "score": 0.5, "word": "##hansa", "start": 4, "end": 9},
    ]
    assert spans(merge_entities(text, raw)) == [("ORG", "Lufthansa")]


def test_non_ascii_text():
    text = "Angela Merkel flog von Zürich nach 東京."
    found = merge_entities(text, ner_tokens(text))
    assert spans(found) == [("PER", "Angela Merkel"), ("LOC", "Zürich"), ("LOC", "東京")]
    assert all(text[e.start : e.end] == e.text for e in found)


def test_score_is_the_mean_of_the_merged_tokens():
    text = "Zürich"
    raw = [token("B-LOC", text, 0, "Zür", 0.9), token("I-LOC", text, 3, "##ich", 0.6)]
    assert merge_entities(text, raw)[0].score == pytest.approx(0.75)


def test_grouped_answers_from_the_router_give_the_same_entities():
    text = "Angela Merkel met Emmanuel Macron in Zürich, then New York City."
    assert spans(merge_entities(text, group(text, ner_tokens(text)))) == spans(
        merge_entities(text, ner_tokens(text))
    )


def test_grouped_piece_starting_mid_word_joins_its_word():
    text = "Hugging Face"
    grouped = [
        {"entity_group": "ORG", "score": 0.9, "word": "Hug", "start": 0, "end": 3},
        {"entity_group": "ORG", "score": 0.7, "word": "##ging Face", "start": 3, "end": 12},
    ]
    assert spans(merge_entities(text, grouped)) == [("ORG", "Hugging Face")]


def test_the_servers_list_is_not_modified():
    text = "Ada Lovelace in London"
    raw = ner_tokens(text)
    before = copy.deepcopy(raw)
    merge_entities(text, raw)
    assert raw == before


def test_offsets_missing_are_found_in_the_text():
    text = "Ada met Ada"
    raw = [
        {"entity": "B-PER", "score": 0.9, "word": "Ada"},
        {"entity": "B-PER", "score": 0.8, "word": "Ada"},
    ]
    found = merge_entities(text, raw)
    assert [(e.start, e.end) for e in found] == [(0, 3), (8, 11)]


def test_o_tags_and_empty_answers():
    assert merge_entities("nothing here", []) == []
    text = "just words"
    assert merge_entities(text, [token("O", text, 0, "just")]) == []


def test_an_answer_that_is_not_a_list_is_a_clear_error():
    with pytest.raises(BadResponseError, match="token-classification"):
        merge_entities("x", {"summary_text": "x"})


def test_segments_cover_the_whole_text_in_order():
    text = "Ada Lovelace lived in London."
    pieces = segments(text, merge_entities(text, ner_tokens(text)))
    assert pieces == [("Ada Lovelace", "PER"), (" lived in ", None), ("London", "LOC"), (".", None)]


def test_a_score_that_is_not_a_number_is_a_clear_error():
    answer = [{"entity_group": "PER", "score": "high", "word": "Ada", "start": 0, "end": 3}]
    with pytest.raises(BadResponseError, match="score"):
        merge_entities("Ada", answer)
