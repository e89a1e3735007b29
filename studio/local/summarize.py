"""Summarization with a seq2seq model (BART, T5, Pegasus) and generate().

transformers 5 has no summarization pipeline; this is the few lines it used to run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

from studio.errors import InputError
from studio.local.cache import LoadedModel
from studio.local.models import load_config, model_dtype
from studio.local.options import generation_options


@dataclass
class Summarizer:
    tokenizer: Any
    model: Any
    max_input_tokens: int


def load(model: str, source: str, device: str, *, offline: bool = False) -> Summarizer:
    config = load_config(
        "summarize",
        model,
        source,
        suffixes=("ForConditionalGeneration",),
        auto_class=AutoModelForSeq2SeqLM,
        offline=offline,
    )
    tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=offline)
    network = AutoModelForSeq2SeqLM.from_pretrained(
        source, config=config, dtype=model_dtype(device), local_files_only=offline
    )
    return Summarizer(tokenizer, network.to(device).eval(), input_limit(tokenizer, config))


def input_limit(tokenizer: Any, config: Any) -> int:
    """Longest input the model takes: long articles are cut there, as the old pipeline did."""
    limits = [tokenizer.model_max_length, getattr(config, "max_position_embeddings", None)]
    usable = [int(limit) for limit in limits if isinstance(limit, int) and 0 < limit < 1_000_000]
    return min(usable, default=1024)


def run(loaded: LoadedModel, text: Any, parameters: dict[str, Any]) -> list[dict[str, str]]:
    if not isinstance(text, str) or not text.strip():
        raise InputError("Give some text to summarize.")
    summarizer: Summarizer = loaded.value
    options = generation_options(parameters)
    with loaded.lock:  # a fast tokenizer is not safe to call from two threads at once
        encoded = summarizer.tokenizer(
            text, truncation=True, max_length=summarizer.max_input_tokens, return_tensors="pt"
        )
    with torch.inference_mode():
        output = summarizer.model.generate(**encoded.to(summarizer.model.device), **options)
    summary = summarizer.tokenizer.decode(output[0], skip_special_tokens=True)
    return [{"summary_text": summary.strip()}]
