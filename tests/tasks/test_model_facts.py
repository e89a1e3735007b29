"""What the router's model list says of a model, read defensively and shown in one line."""

from __future__ import annotations

import pytest

from studio.tasks.model_facts import model_facts, picker_line, provider_for
from tests.stand_ins.servers import router_entry, router_provider

CHEAP = router_provider(
    "cheap-ai",
    context_length=131072,
    pricing={"input": 0.2, "output": 0.6},
    throughput=40.0,
    first_token_latency_ms=900,
)
FAST = router_provider(
    "fast-ai", context_length=32768, pricing={"input": 0.5, "output": 1.5}, throughput=220.0
)


def test_the_line_gives_price_context_speed_and_provider_of_the_fastest_by_default():
    facts = model_facts(router_entry("org/model", CHEAP, FAST, inputs=("text", "image")))
    assert picker_line(facts, "org/model") == (
        "$0.50 in / $1.50 out per million tokens · 33k context · 220 tokens/s · "
        "provider: fast-ai, fastest of 2 serving it · takes images"
    )


@pytest.mark.parametrize(
    ("model", "provider", "how"),
    [
        ("org/model:cheapest", "cheap-ai", "cheapest"),
        ("org/model:fastest", "fast-ai", "fastest"),
        ("org/model:cheap-ai", "cheap-ai", "chosen"),
        ("org/model:nobody", None, "chosen"),
    ],
)
def test_a_suffix_chooses_the_provider_shown(model, provider, how):
    chosen, told = provider_for(model_facts(router_entry("org/model", CHEAP, FAST)), model)
    assert (chosen.name if chosen else None, told) == (provider, how)


def test_a_chosen_provider_shows_its_own_figures_in_seconds():
    facts = model_facts(router_entry("org/model", CHEAP, FAST))
    assert picker_line(facts, "org/model:cheap-ai") == (
        "$0.20 in / $0.60 out per million tokens · 131k context · first token in 0.9 s · "
        "40 tokens/s · provider: cheap-ai · text only"
    )


def test_what_the_list_leaves_out_is_not_shown():
    bare = router_provider("someone")
    assert picker_line(model_facts(router_entry("a/b", bare, inputs=None)), "a/b") == (
        "provider: someone"
    )
    # A server of one's own lists ids alone: nothing to say.
    assert picker_line(model_facts({"id": "llama3.2:1b", "object": "model"}), "llama3.2:1b") == ""
    assert picker_line(None, "a/b") == ""


def test_odd_values_are_skipped_not_shown():
    odd = router_provider(
        "odd",
        context_length="lots",
        pricing={"input": "NaN", "output": -1},
        throughput=True,
        latency_s=float("inf"),
    )
    entry = router_entry("a/b", odd, {"status": "live"}, "not a provider")
    entry["architecture"] = {"input_modalities": "text"}  # not a list: not said
    facts = model_facts(entry)
    assert [p.name for p in facts.providers] == ["odd"]
    assert picker_line(facts, "a/b") == "provider: odd"
    assert model_facts({"object": "model"}) is None and model_facts("a/b") is None


def test_providers_that_are_not_live_are_not_the_one_shown():
    staging = {**FAST, "status": "staging"}
    facts = model_facts(router_entry("org/model", staging, CHEAP))
    assert provider_for(facts, "org/model")[0].name == "cheap-ai"
    assert picker_line(model_facts(router_entry("x/y", staging)), "x/y") == "text only"
