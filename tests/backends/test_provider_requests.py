"""Text to image through Inference Providers, without a network: the settings, and each
provider's request as huggingface_hub's helper builds it on the studio's router."""

from __future__ import annotations

import dataclasses

import pytest
from huggingface_hub.hf_api import InferenceProviderMapping
from huggingface_hub.inference._providers import PROVIDERS

from studio import errors
from studio.backends import hub
from studio.backends.providers import IGNORED, build_request, choose_mapping
from studio.config import load_config
from studio.services import setup_problem
from studio.tasks.image_settings import make_image_request
from tests.stand_ins.provider_servers import mapping

TOKEN = "hf_test_secret_token_0123456789"
OPTIONS = dict(negative_prompt="fog", steps=20, guidance=3.5, width=768, height=512, seed=1234)
TASK = "text-to-image"


def provider_mapping(provider: str, provider_id: str, model: str = "org/model"):
    return InferenceProviderMapping(
        provider=provider, hf_model_id=model, providerId=provider_id, status="live", task=TASK
    )


# --- configuration -------------------------------------------------------------------------------


def test_the_router_url_governs_every_url_on_the_router():
    config = load_config({"HF_TOKEN": TOKEN, "STUDIO_ROUTER_URL": "http://proxy.test:8080/hf/"})
    urls = {task: endpoint.url for task, endpoint in config.endpoints.items()}
    assert urls == {
        "summarize": "http://proxy.test:8080/hf/hf-inference/models/facebook/bart-large-cnn",
        "ner": "http://proxy.test:8080/hf/hf-inference/models/dslim/bert-base-NER",
        "caption": "http://proxy.test:8080/hf/v1",
        "image": "http://proxy.test:8080/hf",
        "chat": "http://proxy.test:8080/hf/v1",
    }
    assert all(endpoint.on_router for endpoint in config.endpoints.values())
    assert config.endpoint("image").protocol == "providers"
    assert config.endpoint("image").hub == "https://huggingface.co"


def test_hf_inference_keeps_the_task_api_and_a_url_of_ones_own_is_used_as_given():
    own = load_config({"STUDIO_IMAGE_PROVIDER": "HF-Inference"}).endpoint("image")
    assert own.protocol == "task"
    assert own.url == (
        "https://router.huggingface.co/hf-inference/models/stabilityai/stable-diffusion-xl-base-1.0"
    )
    given = load_config(
        {"HF_API_TTI_BASE": "http://127.0.0.1:9/tti", "STUDIO_IMAGE_PROVIDER": "fal-ai"}
    )
    assert given.endpoint("image").protocol == "task"
    assert given.endpoint("image").url == "http://127.0.0.1:9/tti"


def test_a_router_url_that_is_not_a_url_and_an_unknown_provider_say_what_to_set():
    with pytest.raises(errors.ConfigurationError, match="STUDIO_ROUTER_URL"):
        load_config({"STUDIO_ROUTER_URL": "router.example"})
    config = load_config({"HF_TOKEN": TOKEN, "STUDIO_IMAGE_PROVIDER": "fal"})
    problem = setup_problem(config, "image")
    assert "STUDIO_IMAGE_PROVIDER is 'fal'" in problem and "fal-ai" in problem
    assert "HF_TOKEN" in setup_problem(load_config({}), "image")


def test_the_studio_knows_every_text_to_image_provider_huggingface_hub_knows():
    assert set(IGNORED) == {name for name, tasks in PROVIDERS.items() if "text-to-image" in tasks}


# --- requests, built by huggingface_hub's helpers ------------------------------------------------

PARAMETERS = make_image_request("a cat", **OPTIONS).to_parameters()
COMMON = {"negative_prompt": "fog", "guidance_scale": 3.5, "seed": 1234}


@pytest.mark.parametrize(
    ("provider", "provider_id", "path", "body"),
    [
        (
            "fal-ai",
            "fal-ai/flux/dev",
            "/fal-ai/fal-ai/flux/dev",
            {"prompt": "a cat", **COMMON, "num_inference_steps": 20,
             "image_size": {"width": 768, "height": 512}},
        ),
        (
            "replicate",
            "owner/model",
            "/replicate/v1/models/owner/model/predictions",
            {"input": {"prompt": "a cat", **PARAMETERS}},
        ),
        (
            "replicate",
            "owner/model:abc123",
            "/replicate/v1/predictions",
            {"input": {"prompt": "a cat", **PARAMETERS}, "version": "abc123"},
        ),
        (
            "together",
            "org/t",
            "/together/v1/images/generations",
            {"prompt": "a cat", "response_format": "base64", **COMMON, "width": 768,
             "height": 512, "steps": 20, "model": "org/t"},
        ),
        (
            "nscale",
            "org/n",
            "/nscale/v1/images/generations",
            {"prompt": "a cat", "response_format": "b64_json", "model": "org/n", **COMMON,
             "size": "768x512"},
        ),
        (
            "wavespeed",
            "wavespeed-ai/m",
            "/wavespeed/api/v3/wavespeed-ai/m",
            {"prompt": "a cat", **PARAMETERS},
        ),
        (
            "zai-org",
            "cogview-4",
            "/zai-org/api/paas/v4/async/images/generations",
            {"model": "cogview-4", "prompt": "a cat", "size": "768x512", **COMMON,
             "num_inference_steps": 20},
        ),
    ],
)  # fmt: skip
def test_each_provider_s_request_on_the_studio_s_router(provider, provider_id, path, body):
    endpoint = load_config({"HF_TOKEN": TOKEN, "STUDIO_ROUTER_URL": "http://proxy.test"}).endpoint(
        "image"
    )
    request = build_request(endpoint, provider_mapping(provider, provider_id), "a cat", PARAMETERS)
    assert request.url == "http://proxy.test" + path
    assert request.json == body and request.method == "POST" and request.data is None
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Accept"] == "image/png"  # one type, as huggingface_hub sends it
    assert request.headers["content-type"] == "application/json"
    assert ("prefer" in request.headers) == (provider == "replicate")
    assert PARAMETERS == make_image_request("a cat", **OPTIONS).to_parameters()  # not consumed


def test_auto_takes_the_first_text_to_image_provider_the_hub_lists():
    served = mapping("together", "org/chat", task="conversational") | mapping("together", "t")
    served |= mapping("nscale", "n") | mapping("zai-org", "cogview-4")
    listed = hub.parse_mappings({"inferenceProviderMapping": served}, "some/model")
    endpoint = load_config({"STUDIO_IMAGE_MODEL": "some/model"}).endpoint("image")
    assert choose_mapping(endpoint, listed).provider == "together"
    chosen = choose_mapping(dataclasses.replace(endpoint, provider="zai-org"), listed)
    assert chosen.provider_id == "cogview-4"
    with pytest.raises(errors.ModelNotFoundError, match="the Hub lists: together, nscale"):
        choose_mapping(dataclasses.replace(endpoint, provider="fal-ai"), listed)
    with pytest.raises(errors.ModelNotFoundError, match="No Inference Provider serves"):
        choose_mapping(endpoint, hub.parse_mappings({"inferenceProviderMapping": {}}, "x/y"))


def test_the_hub_s_mapping_reads_as_a_dict_or_a_list_and_nothing_else():
    listed = [
        {"provider": "fal-ai", "providerId": "fal-ai/x", "status": "live", "task": "text-to-image"}
    ]
    (entry,) = hub.parse_mappings({"id": "a/b", "inferenceProviderMapping": listed}, "a/b")
    assert (entry.provider, entry.provider_id, entry.hf_model_id) == ("fal-ai", "fal-ai/x", "a/b")
    for broken in (
        [],
        {"inferenceProviderMapping": "fal-ai"},
        {"inferenceProviderMapping": {"x": {}}},
    ):
        with pytest.raises(errors.BadResponseError, match="HF_ENDPOINT"):
            hub.parse_mappings(broken, "a/b")
