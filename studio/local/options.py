"""Reading task-API parameters into the keyword arguments the libraries take. Pure: no torch."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from studio.errors import InputError

# generate() options a task-API request may carry. Others are ignored, as a server would.
GENERATE_OPTIONS = {
    "min_length": int,
    "max_length": int,
    "min_new_tokens": int,
    "max_new_tokens": int,
    "num_beams": int,
    "no_repeat_ngram_size": int,
    "top_k": int,
    "do_sample": bool,
    "early_stopping": bool,
    "temperature": float,
    "top_p": float,
    "length_penalty": float,
    "repetition_penalty": float,
}

# Where servers put generate() options: at the top of "parameters" (older servers), or nested.
NESTED_OPTION_KEYS = ("generate_parameters", "generation_parameters", "generate_kwargs")


def generation_options(
    parameters: Mapping[str, Any] | None, allowed: Iterable[str] = GENERATE_OPTIONS
) -> dict[str, Any]:
    """Collect generate() options from the top level and the nested dicts; nested ones win."""
    parameters = parameters or {}
    merged: dict[str, Any] = {}
    sources = [parameters] + [parameters.get(key) or {} for key in NESTED_OPTION_KEYS]
    for source in sources:
        if not isinstance(source, Mapping):
            raise InputError("Generation parameters must be an object of names and values.")
        for name in allowed:
            if source.get(name) is not None:
                merged[name] = convert(name, source[name], GENERATE_OPTIONS[name])
    return merged


def convert(name: str, value: Any, kind: type) -> Any:
    """int('12'), float(0.5), bool: refuse what cannot be read rather than guess."""
    try:
        if kind is bool:
            if isinstance(value, str):
                return value.strip().lower() in {"1", "true", "yes", "on"}
            return bool(value)
        if kind is int:
            number = float(value)
            if not number.is_integer():
                raise ValueError(value)
            return int(number)
        return float(value)
    except (TypeError, ValueError):
        raise InputError(f"Parameter {name} must be {kind.__name__}, not {value!r}.") from None


def optional(parameters: Mapping[str, Any], name: str, kind: type) -> Any:
    value = parameters.get(name)
    return None if value is None else convert(name, value, kind)


def multiple_of(value: int, step: int) -> int:
    """The nearest multiple of `step`, at least `step`: diffusers needs sizes divisible by 8."""
    return max(step, int(round(value / step)) * step)
