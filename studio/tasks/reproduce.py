"""What it takes to make an answer again, as text: the record of one model call (`Call`), the
reproducibility card (backend, model, host, parameters, seed, time taken) and Python literals
for the code snippets. Pure: no Gradio, no HTTP; the token is never an input here.

    Call ─ card(...)           "Backend: Hugging Face router\\nModel: ...\\nTime taken: 1.24 s"
         └ studio.snippets     requests, huggingface_hub / openai, curl, gradio_client
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from studio.endpoint import Endpoint

NO_TOKEN = "none (this server takes none)"


@dataclass(frozen=True)
class Call:
    """One request a tab made: to which endpoint, with what, and how long its answer took."""

    endpoint: Endpoint
    inputs: Any  # text, or the image's bytes
    parameters: dict | None = None
    content_type: str | None = None
    seconds: float = 0.0
    seed: int | None = None


@dataclass(frozen=True)
class Expr:
    """Python source to write as is inside a literal: `handle_file("photo.jpg")`."""

    source: str


def py(value: Any, indent: int = 0, subs: Mapping[str, str] | None = None) -> str:
    """`value` as a Python literal, dicts and lists one item a line; a string in `subs` is
    written as the expression it maps to (a long data: URL becomes a variable)."""
    subs = subs or {}
    pad, inner = " " * indent, " " * (indent + 4)
    if isinstance(value, Expr):
        return value.source
    if isinstance(value, str):
        return subs.get(value) or json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        items = [f"{inner}{py(k)}: {py(v, indent + 4, subs)}," for k, v in value.items()]
        return "{\n" + "\n".join(items) + f"\n{pad}}}"
    if isinstance(value, Sequence):
        if not value:
            return "[]"
        items = [f"{inner}{py(v, indent + 4, subs)}," for v in value]
        return "[\n" + "\n".join(items) + f"\n{pad}]"
    return json.dumps(value)


def parameters_text(parameters: Mapping[str, Any] | None) -> str:
    """Parameters as `name=value` pairs, nested ones flattened (`generate_parameters.x=1`)."""
    if not parameters:
        return "the model's defaults"
    return ", ".join(f"{name}={value!r}" for name, value in _flat(parameters))


def _flat(values: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    for name, value in values.items():
        if isinstance(value, Mapping) and value:
            yield from _flat(value, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", value


@dataclass(frozen=True)
class Card:
    """The lines of a reproducibility card, in order."""

    lines: list[tuple[str, str]] = field(default_factory=list)

    def text(self) -> str:
        width = max((len(name) for name, _ in self.lines), default=0)
        return "\n".join(f"{name + ':':<{width + 1}} {value}" for name, value in self.lines)


def endpoint_lines(endpoint: Endpoint, provider: str | None = None) -> list[tuple[str, str]]:
    """Backend, model, host, and the URL and token of a server (a model in this process has
    neither): what the studio asked, never the token. `provider`: the Inference Provider that
    answered, when its backend knew it."""
    where = endpoint.where
    if provider and provider not in where:
        where = f"{where}, provider {provider}"
    lines = [
        ("Backend", where),
        ("Model", endpoint.model or "(the server's own)"),
        ("Host", endpoint.host),
    ]
    if endpoint.url:
        token = "HF_TOKEN, sent as Authorization: Bearer" if endpoint.token else NO_TOKEN
        lines += [("URL", endpoint.url), ("Token", token)]
    return lines


def card(
    title: str,
    calls: Sequence[Call],
    *,
    settings: str = "",
    when: str = "",
    provider: str | None = None,
) -> str:
    """The card of an answer made by `calls` (a summary in parts made several): `settings` is
    a line of its own (Imagine's settings line), `when` the time it was made."""
    if not calls:
        return ""
    first = calls[0]
    lines = [("Answer", title), *endpoint_lines(first.endpoint, provider)]
    lines.append(("Parameters", parameters_text(first.parameters)))
    if settings:
        lines.append(("Settings", settings))
    seeds = [call.seed for call in calls if call.seed is not None]
    lines.append(("Seed", ", ".join(map(str, seeds)) if seeds else "none (not sampled)"))
    if len(calls) > 1:
        lines.append(("Requests", str(len(calls))))
    lines.append(("Time taken", f"{sum(call.seconds for call in calls):.2f} s"))
    if when:
        lines.append(("Made at", when))
    return Card(lines).text()


def chat_card(
    endpoint: Endpoint,
    body: Mapping[str, Any],
    *,
    time_to_first_token: float | None,
    tokens: int,
    seconds: float,
    finish_reason: str | None = None,
    notes: Sequence[str] = (),
    when: str = "",
) -> str:
    """The card of a chat reply: the request's settings as sent (`body` of its ChatRequest)."""
    sent = body.get("parameters") if isinstance(body.get("parameters"), Mapping) else body
    settings = {k: v for k, v in sent.items() if k not in ("model", "messages", "inputs")}
    lines = [("Answer", "Chat reply"), *endpoint_lines(endpoint)]
    lines.append(("Parameters", parameters_text(settings)))
    seed = settings.get("seed")
    lines.append(("Seed", str(seed) if seed is not None else "none (the server's choice)"))
    first = "no text" if time_to_first_token is None else f"{time_to_first_token:.2f} s"
    lines.append(("First token", first))
    lines.append(("Tokens", str(tokens)))
    lines.append(("Time taken", f"{seconds:.2f} s"))
    if finish_reason:
        lines.append(("Finished", finish_reason))
    if notes:
        lines.append(("Notes", " ".join(notes)))
    if when:
        lines.append(("Made at", when))
    return Card(lines).text()
