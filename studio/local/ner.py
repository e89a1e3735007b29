"""Token classification (NER) with transformers' token-classification pipeline.

By default the answer is the raw tokens, as the course's endpoints gave them (aggregation
"none"); a request may ask for another aggregation_strategy, as the hosted API allows.
"""

from __future__ import annotations

from typing import Any

from transformers import AutoModelForTokenClassification, AutoTokenizer, pipeline

from studio.errors import InputError, WrongKindOfModelError
from studio.local.cache import LoadedModel
from studio.local.models import EXAMPLE_MODELS, SETTINGS, checked_model_config, load_network

AGGREGATIONS = ("none", "simple", "first", "average", "max")


def load(model: str, source: str, device: str, *, offline: bool = False) -> Any:
    config = checked_model_config(
        "ner",
        model,
        source,
        suffixes=("ForTokenClassification",),
        auto_class=AutoModelForTokenClassification,
        offline=offline,
    )
    tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=offline)
    if not getattr(tokenizer, "is_fast", False):
        # Offsets into the text (start/end) need a fast tokenizer.
        raise WrongKindOfModelError(
            f"{model} has no fast tokenizer, so entity offsets cannot be given. Set "
            f"{SETTINGS['ner']} to a model with one, such as {EXAMPLE_MODELS['ner']}."
        )
    network = load_network(AutoModelForTokenClassification, source, config, device, offline)
    return pipeline(
        "token-classification",
        model=network,
        tokenizer=tokenizer,
        device=device,
    )


def run(loaded: LoadedModel, text: Any, parameters: dict[str, Any]) -> list[dict[str, Any]]:
    if not isinstance(text, str) or not text.strip():
        raise InputError("Give some text to find entities in.")
    aggregation = str(parameters.get("aggregation_strategy") or "none").lower()
    if aggregation not in AGGREGATIONS:
        raise InputError(f"aggregation_strategy must be one of {', '.join(AGGREGATIONS)}.")
    options: dict[str, Any] = {"aggregation_strategy": aggregation}
    if parameters.get("ignore_labels") is not None:
        options["ignore_labels"] = [str(label) for label in parameters["ignore_labels"]]
    with loaded.lock:  # the pipeline and its tokenizer are not safe across threads
        entities = loaded.value(text, **options)
    return [plain_entity(entity) for entity in entities]


def plain_entity(entity: dict[str, Any]) -> dict[str, Any]:
    """NumPy scalars to Python numbers, so the answer is JSON like a server's."""
    plain: dict[str, Any] = {}
    for name, value in entity.items():
        if name == "score":
            plain[name] = float(value)
        elif name in ("index", "start", "end"):
            plain[name] = None if value is None else int(value)
        else:
            plain[name] = str(value)
    return plain
