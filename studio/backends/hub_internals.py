"""Every place the studio reaches below huggingface_hub's public API, in one module.

Written against huggingface_hub 2.4 (HUB_CHECKED). tests/backends/test_hub_internals.py checks
each of these against the huggingface_hub installed and says which one changed when it moves:

    provider_helper     huggingface_hub.inference._providers.PROVIDERS: each provider's
                        text-to-image helper, which knows its payload, route and answer
    routed_helper       a copy of that helper with _prepare_mapping_info and
                        _prepare_base_url replaced, the two steps of its prepare_request
                        that would ask the Hub with huggingface_hub's own client and send to
                        huggingface_hub's router
    picture_in_answer   the helper's get_response, which decodes a picture in an answer

huggingface_hub's InferenceClient does all of this with its own HTTP client, outside the
studio's timeouts, size caps and error messages; the helpers are how it knows each provider.
"""

from __future__ import annotations

import copy
from typing import Any

HUB_CHECKED = "2.4"
TASK = "text-to-image"


def provider_helper(provider: str) -> Any:
    """huggingface_hub's text-to-image helper for a provider."""
    from huggingface_hub.inference._providers import PROVIDERS

    return PROVIDERS[provider][TASK]


def routed_helper(mapping: Any, router: str) -> Any:
    """The provider's helper, on a copy, with the mapping the studio looked up itself and the
    studio's router as its base URL; its `prepare_request` then builds the request only."""
    helper = copy.copy(provider_helper(mapping.provider))
    helper._prepare_mapping_info = lambda model: mapping
    helper._prepare_base_url = lambda api_key: f"{router}/{mapping.provider}"
    return helper


def picture_in_answer(provider: str, answer: Any) -> Any:
    """The picture a provider's answer holds (Together's and Nscale's hold it as base64)."""
    return provider_helper(provider).get_response(answer)
