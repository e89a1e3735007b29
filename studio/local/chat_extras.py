"""What a local chat model is asked only when the person wants it: the Thinking setting, through
the model's own chat template, and token probabilities, from the raw logits of each step.

    body's chat_template_kwargs / reasoning_effort ─ template_options ─ kwargs the template
        reads (`enable_thinking` for Qwen3-style templates, `reasoning_effort` for gpt-oss),
        and a note for the person about what it does not read
    the prompt's last tokens ─ opens_thinking ─ whether the template opened a <think> block
        (DeepSeek-R1 distills), so the reply's text before </think> is thinking
    generate()'s logits ─ logprobs_chunk ─ the OpenAI shape: choices[0].logprobs.content
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import torch

from studio.tasks.token_probs import MAX_ALTERNATIVES

TEMPLATE_SWITCHES = ("enable_thinking", "reasoning_effort")


def template_options(template: Any, body: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """The keyword arguments for `apply_chat_template` that the model's template reads, and a
    note for the person about the Thinking setting it cannot take (empty: none)."""
    asked = dict(body.get("chat_template_kwargs") or {})
    if body.get("reasoning_effort"):
        asked["reasoning_effort"] = body["reasoning_effort"]
    source = template if isinstance(template, str) else str(template or "")
    read = {key: value for key, value in asked.items() if key in source}
    if read or not asked:
        return read, ""
    what = "off" if asked.get("enable_thinking") is False else f"{asked.get('reasoning_effort')}"
    return read, (
        f"Thinking {what} was not applied: this model's chat template has no such switch "
        f"({' or '.join(TEMPLATE_SWITCHES)}), so it thinks, or not, as it always does."
    )


def opens_thinking(tokenizer: Any, input_ids: Any) -> bool:
    """Whether the prompt ends inside a <think> block the template opened."""
    tail = tokenizer.decode(input_ids[0][-8:].tolist(), skip_special_tokens=False)
    return tail.rstrip().endswith("<think>")


def wanted_alternatives(body: Mapping[str, Any]) -> int | None:
    """How many alternatives per token the request asks for; None: no probabilities."""
    if not body.get("logprobs"):
        return None
    top = body.get("top_logprobs") or 0
    return max(0, min(int(top), MAX_ALTERNATIVES))


def logprobs_chunk(tokenizer: Any, output: Any, prompt_length: int, alternatives: int) -> dict:
    """``logprobs`` for the OpenAI chunk shape, from generate()'s raw logits (before temperature
    and top-p reshape them: the model's own probabilities, which a lesson wants)."""
    logits = getattr(output, "logits", None) or ()
    chosen = output.sequences[0][prompt_length:]
    content = []
    for step, token_id in zip(logits, chosen.tolist(), strict=False):
        logprobs = torch.log_softmax(step[0].float(), dim=-1)
        top = torch.topk(logprobs, alternatives) if alternatives else None
        content.append(
            {
                "token": tokenizer.decode([token_id]),
                "logprob": float(logprobs[token_id]),
                "top_logprobs": [
                    {"token": tokenizer.decode([int(i)]), "logprob": float(p)}
                    for p, i in zip(*top, strict=True)
                ]
                if top is not None
                else [],
            }
        )
    return {"content": content}


def chunk(
    model: str, chunk_id: str, delta: dict[str, str], finish: str | None = None, **more: Any
) -> dict:
    """An OpenAI chunk; `more`: a choice's logprobs, or the studio's own note for the person."""
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    if "logprobs" in more:
        choice["logprobs"] = more.pop("logprobs")
    return {
        "id": chunk_id,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [choice],
        **more,
    }
