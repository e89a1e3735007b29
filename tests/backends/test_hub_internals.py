"""Each use of huggingface_hub below its public API (studio/backends/hub_internals.py), checked
against the huggingface_hub installed. A failure names what changed and the version the module
was written against: read hub_internals.py beside huggingface_hub's new source.

What the requests and answers hold is tested in test_provider_requests and test_providers;
these only pin what huggingface_hub must still have for them to be built and read.
"""

from __future__ import annotations

import inspect
from types import SimpleNamespace

import huggingface_hub
import pytest

from studio.backends import hub_internals
from studio.backends.hub_internals import HUB_CHECKED
from studio.backends.providers import IGNORED


def pinned(holds: bool, what: str) -> None:
    assert holds, (
        f"huggingface_hub {huggingface_hub.__version__} changed {what}. "
        f"studio/backends/hub_internals.py was written against huggingface_hub {HUB_CHECKED}: "
        "check it against the new huggingface_hub's source."
    )


def parameters(fn) -> list[str]:
    return list(inspect.signature(fn).parameters)


@pytest.mark.parametrize("provider", sorted(IGNORED))
def test_every_provider_the_studio_names_has_a_text_to_image_helper(provider):
    try:
        helper = hub_internals.provider_helper(provider)
    except (ImportError, KeyError):
        helper = None
    pinned(
        helper is not None,
        f"inference._providers.PROVIDERS[{provider!r}][{hub_internals.TASK!r}] (provider_helper "
        "reads the provider's helper there)",
    )
    pinned(
        callable(getattr(helper, "prepare_request", None))
        and callable(getattr(helper, "get_response", None)),
        f"the {provider} helper's prepare_request or get_response",
    )


def test_prepare_request_still_asks_the_two_steps_routed_helper_replaces():
    helper_class = type(hub_internals.provider_helper("fal-ai"))
    prepare = helper_class.prepare_request
    pinned(
        {"inputs", "parameters", "headers", "model", "api_key"} <= set(parameters(prepare)),
        "TaskProviderHelper.prepare_request's parameters (providers.build_request passes these)",
    )
    pinned(
        parameters(helper_class._prepare_mapping_info) == ["self", "model"]
        and parameters(helper_class._prepare_base_url) == ["self", "api_key"],
        "TaskProviderHelper._prepare_mapping_info or _prepare_base_url (routed_helper replaces "
        "both on a copy of the helper)",
    )
    source = inspect.getsource(inspect.getmodule(helper_class.prepare_request))
    pinned(
        "self._prepare_mapping_info(model)" in source
        and "self._prepare_base_url(api_key)" in source,
        "how prepare_request calls _prepare_mapping_info and _prepare_base_url (looked up on the "
        "instance, where routed_helper puts its own)",
    )


def test_a_routed_helper_sends_to_the_studios_router_with_its_mapping():
    mapping = SimpleNamespace(
        provider="fal-ai",
        provider_id="fal-ai/flux/dev",
        hf_model_id="black-forest-labs/FLUX.1-dev",
        task="text-to-image",
        status="live",
        adapter=None,
        adapter_weights_path=None,
    )
    helper = hub_internals.routed_helper(mapping, "http://proxy.test/hf")
    prepared = helper.prepare_request(
        inputs="a cat", parameters={}, headers={}, model=mapping.hf_model_id, api_key="hf_x"
    )
    pinned(
        prepared.url.startswith("http://proxy.test/hf/fal-ai/")
        and "fal-ai/flux/dev" in prepared.url,
        "what prepare_request makes of the mapping and the base URL (the request's URL)",
    )
    original = hub_internals.provider_helper("fal-ai")
    assert "_prepare_base_url" not in vars(original)  # the shared helper stays as it was


def test_get_response_still_decodes_a_picture_in_an_answer():
    answer = {"data": [{"b64_json": "aGVsbG8="}]}  # what Together and Nscale answer
    for provider in ("together", "nscale"):
        pinned(
            hub_internals.picture_in_answer(provider, answer) == b"hello",
            f"the {provider} helper's get_response (picture_in_answer decodes answers with it)",
        )
