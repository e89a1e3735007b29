"""What a server's model list says about one model, in a line for the model picker.

The Hugging Face router's `GET /v1/models` gives each model `architecture.input_modalities`
and, per provider, its `status`, `context_length`, `pricing` (USD per million tokens in and
out) and, per the Hub's docs, speed figures. Any of these may be missing: a provider may leave
a field out, and a server of one's own (vLLM, llama.cpp, Ollama) lists ids alone. Everything is
read defensively; what the list does not say is not shown. Pure: no HTTP, no Gradio.

    a list entry ─ model_facts ─ ModelFacts ─ provider_for(model id) ─ picker_line ─ the line
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Where a provider's speed may be given. The Hub's docs name first-token latency and
# throughput without fixing the field names here, so the spellings seen in the wild are read.
_LATENCY_SECONDS = ("latency_s", "first_token_latency_s", "latency")
_LATENCY_MS = ("first_token_latency_ms", "latency_ms", "firstTokenLatencyMs")
_THROUGHPUT = ("throughput", "tokens_per_second", "throughput_tps", "tokensPerSecond")


@dataclass(frozen=True)
class ProviderFacts:
    """One provider of a model, as listed; None where the list says nothing."""

    name: str
    live: bool = True
    context_length: int | None = None
    price_in: float | None = None  # USD per million input tokens
    price_out: float | None = None
    first_token_s: float | None = None
    tokens_per_s: float | None = None


@dataclass(frozen=True)
class ModelFacts:
    """A model as its list entry describes it. `input_modalities` is None when not said."""

    id: str
    input_modalities: tuple[str, ...] | None = None
    providers: tuple[ProviderFacts, ...] = ()

    @property
    def takes_images(self) -> bool | None:
        """True or False where the list says which inputs the model takes; None otherwise."""
        if self.input_modalities is None:
            return None
        return "image" in self.input_modalities


def model_facts(entry: Any) -> ModelFacts | None:
    """One `data` item of a model list, read; None for an item with no id."""
    if not isinstance(entry, Mapping) or not entry.get("id"):
        return None
    architecture = entry.get("architecture")
    modalities = architecture.get("input_modalities") if isinstance(architecture, Mapping) else None
    listed = entry.get("providers")
    providers = [_provider(item) for item in listed] if isinstance(listed, list) else []
    return ModelFacts(
        id=str(entry["id"]),
        input_modalities=(
            tuple(str(kind) for kind in modalities) if isinstance(modalities, list) else None
        ),
        providers=tuple(provider for provider in providers if provider),
    )


def _provider(item: Any) -> ProviderFacts | None:
    if not isinstance(item, Mapping) or not isinstance(item.get("provider"), str):
        return None
    pricing = item.get("pricing") if isinstance(item.get("pricing"), Mapping) else {}
    speed = item.get("performance") if isinstance(item.get("performance"), Mapping) else {}
    fields = {**speed, **item}
    latency_ms = _first_number(fields, _LATENCY_MS)
    latency = _first_number(fields, _LATENCY_SECONDS)
    context = _number(item.get("context_length"))
    return ProviderFacts(
        name=item["provider"],
        live=item.get("status", "live") == "live",
        context_length=int(context) if context else None,
        price_in=_number(pricing.get("input")),
        price_out=_number(pricing.get("output")),
        first_token_s=latency if latency is not None else _per_thousand(latency_ms),
        tokens_per_s=_first_number(fields, _THROUGHPUT),
    )


def _number(value: Any) -> float | None:
    """A finite number of zero or more (also as text); None for anything else."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number >= 0 else None


def _first_number(fields: Mapping[str, Any], names: tuple[str, ...]) -> float | None:
    return next((n for n in (_number(fields.get(name)) for name in names) if n is not None), None)


def _per_thousand(value: float | None) -> float | None:
    return None if value is None else value / 1000


def provider_for(facts: ModelFacts, model: str) -> tuple[ProviderFacts | None, str]:
    """The provider a request for `model` (an id, maybe suffixed `:provider`, `:cheapest` or
    `:fastest`, the router's default) would most likely reach, and how it was told apart.
    The router decides at request time; this reads its policy from the list's own figures."""
    _, _, policy = model.partition(":")
    live = [provider for provider in facts.providers if provider.live]
    if policy and policy not in ("fastest", "cheapest"):
        named = next((p for p in facts.providers if p.name == policy), None)
        return named, "chosen"
    if not live:
        return None, ""
    if policy == "cheapest":
        priced = [p for p in live if p.price_in is not None and p.price_out is not None]
        if priced:
            return min(priced, key=lambda p: p.price_in + p.price_out), "cheapest"
    timed = [p for p in live if p.tokens_per_s is not None]
    if policy != "cheapest" and timed:
        return max(timed, key=lambda p: p.tokens_per_s), "fastest"
    return (live[0], "only") if len(live) == 1 else (live[0], "first listed")


def picker_line(facts: ModelFacts | None, model: str) -> str:
    """One short plain line about the chosen model, from what its list entry says; "" when it
    says nothing worth showing (a server of one's own that lists ids alone)."""
    if facts is None:
        return ""
    provider, how = provider_for(facts, model)
    parts = _provider_parts(provider) if provider else []
    if provider is not None:
        live = sum(p.live for p in facts.providers)
        others = f", {how} of {live} serving it" if live > 1 and how != "chosen" else ""
        parts.append(f"provider: {provider.name}{others}")
    if facts.takes_images is not None:
        parts.append("takes images" if facts.takes_images else "text only")
    return " · ".join(parts)


def _provider_parts(provider: ProviderFacts) -> list[str]:
    parts = []
    if provider.price_in is not None and provider.price_out is not None:
        parts.append(
            f"{_dollars(provider.price_in)} in / {_dollars(provider.price_out)} out "
            "per million tokens"
        )
    if provider.context_length:
        parts.append(f"{_tokens(provider.context_length)} context")
    if provider.first_token_s is not None:
        parts.append(f"first token in {provider.first_token_s:.1f} s")
    if provider.tokens_per_s is not None:
        parts.append(f"{provider.tokens_per_s:.0f} tokens/s")
    return parts


def _dollars(amount: float) -> str:
    return "free" if amount == 0 else f"${amount:.2f}" if amount >= 0.01 else f"${amount:.3g}"


def _tokens(count: int) -> str:
    if count >= 1_000_000:
        return f"{count / 1_000_000:g}M"
    return f"{count / 1000:.0f}k" if count >= 1000 else str(count)
