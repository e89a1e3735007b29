"""Which Inference Providers serve a model, in the Hub's words.

    GET {hub}/api/models/{model}?expand=inferenceProviderMapping
    -> {"id", "inferenceProviderMapping": {provider: {"providerId", "status", "task", ...}}}
       (or a list of mappings that each name their "provider")

This is the call huggingface_hub makes to resolve `provider="auto"` and to learn the model's id
on the provider's side. The studio asks it through its own session (`transport`: timeouts, retries,
bounded reads, its error messages), at the Hub the configuration names (`HF_ENDPOINT`), and reads
the answer with huggingface_hub's own `ModelInfo`. Answers are kept for a while per model: the
mapping changes rarely, and a class of fifty should not ask the Hub fifty times.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Any
from urllib.parse import quote

from studio import errors
from studio.backends import transport
from studio.catalog import HUB_SETTING
from studio.endpoint import Endpoint

KEEP_SECONDS = 600.0  # how long a model's mapping is trusted before the Hub is asked again

_kept: dict[tuple[str, str], tuple[float, list]] = {}
_kept_lock = threading.Lock()


def model_info_request(endpoint: Endpoint) -> transport.HttpRequest:
    """The Hub's model info with its provider mapping, asked with the studio's token (the Hub
    orders the mapping by that account's preferences)."""
    model = quote(endpoint.model, safe="/")
    url = f"{endpoint.hub}/api/models/{model}?expand=inferenceProviderMapping"
    return transport.HttpRequest(url=url, headers=transport.auth_headers(endpoint), method="GET")


def provider_mappings(endpoint: Endpoint, *, clock=time.monotonic) -> list:
    """The model's `InferenceProviderMapping`s, in the Hub's order: kept ones while fresh."""
    kept = kept_mappings(endpoint, clock=clock)
    if kept is not None:
        return kept
    request = model_info_request(endpoint)
    # Messages about this call name the Hub and its setting, not the image server's.
    at_hub = dataclasses.replace(endpoint, url=request.url, url_setting=HUB_SETTING)
    try:
        answer = transport.post(request, at_hub)
    except errors.ModelNotFoundError:
        raise errors.ModelNotFoundError(
            f"The Hub at {at_hub.host} has no model {endpoint.model}. Check "
            f"{endpoint.model_setting}: it takes a model id such as black-forest-labs/FLUX.1-dev.",
            status=404,
        ) from None
    mappings = parse_mappings(answer, endpoint.model)
    with _kept_lock:
        _kept[(endpoint.hub, endpoint.model)] = (clock(), mappings)
    return mappings


def kept_mappings(endpoint: Endpoint, *, clock=time.monotonic) -> list | None:
    """The mapping kept from an earlier answer while fresh, else None; never asks the Hub."""
    with _kept_lock:
        kept = _kept.get((endpoint.hub, endpoint.model))
    if kept is None or clock() - kept[0] > KEEP_SECONDS:
        return None
    return kept[1]


def forget() -> None:
    """Drop every kept mapping (a test starts afresh)."""
    with _kept_lock:
        _kept.clear()


def parse_mappings(answer: Any, model: str) -> list:
    """The mappings in a model-info answer, read by huggingface_hub's `ModelInfo`."""
    from huggingface_hub.hf_api import ModelInfo

    if not isinstance(answer, dict):
        raise _unreadable()
    try:
        info = ModelInfo(
            id=answer.get("id") or model,
            inferenceProviderMapping=answer.get("inferenceProviderMapping"),
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        raise _unreadable() from None
    return list(info.inference_provider_mapping or [])


def _unreadable() -> errors.BadResponseError:
    return errors.BadResponseError(
        f"The Hub's model information is not in a shape the studio knows. Check {HUB_SETTING}: "
        "it should be the Hub's address (https://huggingface.co) or a mirror of its API."
    )
