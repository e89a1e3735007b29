"""Text to image through the Inference Providers the Hugging Face router reaches.

    provider      request, on the router                              answer
    hf-inference  /hf-inference/models/{model}, the task API          the picture's bytes
    fal-ai        /fal-ai/{id}  {"prompt", "image_size", ...}         {"images": [{"url"}]}
    replicate     /replicate/v1/models/{id}/predictions {"input"}     {"output": url}
    together      /together/v1/images/generations {"steps", ...}      {"data": [{"b64_json"}]}
    nscale        /nscale/v1/images/generations {"size", ...}         {"data": [{"b64_json"}]}
    wavespeed     /wavespeed/api/v3/{id}                              a task to poll
    zai-org       /zai-org/api/paas/v4/async/images/generations       a task to poll

Which provider: the one `STUDIO_IMAGE_PROVIDER` names, or with `auto` the first the Hub maps the
model to, as huggingface_hub resolves it; the Hub also gives the model's id on the provider's
side (`hub`). huggingface_hub knows each provider's payload and route: its provider helper builds
the request (`prepare_request`), given that mapping and the studio's router. The studio sends it,
and whatever the answer asks for next (`provider_answers`), through its own `http`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from studio import errors
from studio.backends import hub, transport
from studio.backends.base import (
    CONFIGURED,
    Backend,
    Capabilities,
    ChatRequest,
    Probe,
    Route,
    TaskRequest,
    not_set_up,
    router_setup_problem,
)
from studio.backends.hub_internals import TASK, routed_helper
from studio.backends.provider_answers import picture
from studio.backends.task_api import IMAGE_ACCEPT, TaskApiBackend, hub_probe
from studio.catalog import AUTO_PROVIDER, HF_INFERENCE
from studio.endpoint import Endpoint
from studio.tasks.progress import Progress

# The tab's options each provider does not use, in the tab's words. huggingface_hub sends them
# all, under each provider's names (fal-ai's image_size, Together's steps, Nscale's size), except
# Nscale's steps, which it leaves out; Z.ai's image API takes a prompt and a size only.
IGNORED: dict[str, tuple[str, ...]] = {
    "hf-inference": (),
    "fal-ai": (),
    "nscale": ("inference steps",),
    "replicate": (),
    "together": (),
    "wavespeed": (),
    "zai-org": ("negative prompt", "inference steps", "guidance scale", "seed"),
}
# What a provider does with the options depends on the model it runs.
CAVEATS = {
    "replicate": (
        "Each Replicate model names its own inputs and ignores the rest: its FLUX models take an "
        "aspect ratio rather than width and height, and a guidance of their own."
    ),
}
NO_NEGATIVE_PROMPT = ("flux",)  # model families that have no negative prompt on any provider

TASK_API = TaskApiBackend()  # HF's own provider

# The headers the studio sets itself: its token, and one Accept as huggingface_hub sends it.
OWN_HEADERS = ("authorization", "accept", "user-agent")


def build_request(endpoint: Endpoint, mapping: Any, prompt: str, parameters: dict | None):
    """The provider's request, built by huggingface_hub's helper, for the studio to send.

    The helper is `routed_helper`'s: the mapping is the one the studio looked up itself
    (huggingface_hub would ask the Hub with its own client), and the base URL is the studio's
    router (huggingface_hub's is a module constant).
    """
    prepared = routed_helper(mapping, endpoint.router).prepare_request(
        inputs=prompt,
        parameters=dict(parameters or {}),  # some helpers pop from it
        headers={},
        model=mapping.hf_model_id,
        api_key=endpoint.token or "",
    )
    headers = {k: v for k, v in prepared.headers.items() if k.lower() not in OWN_HEADERS}
    headers |= transport.auth_headers(endpoint, accept=IMAGE_ACCEPT)
    return transport.HttpRequest(url=prepared.url, json=prepared.json, headers=headers)


def choose_mapping(endpoint: Endpoint, mappings: list) -> Any:
    """The provider to ask: the named one, or with auto the first the Hub lists for the task."""
    usable = [m for m in mappings if m.task == TASK and m.provider in IGNORED]
    if endpoint.provider == AUTO_PROVIDER:
        if usable:
            return usable[0]
        raise errors.ModelNotFoundError(
            f"No Inference Provider serves {endpoint.model} for text to image. Set "
            f"{endpoint.model_setting} to a model that one serves (a model's page on "
            f"huggingface.co lists its providers), or {endpoint.url_setting} to your own server.",
            status=404,
        )
    for mapping in usable:
        if mapping.provider == endpoint.provider:
            return mapping
    others = ", ".join(m.provider for m in usable) or "none"
    raise errors.ModelNotFoundError(
        f"{endpoint.provider} does not serve {endpoint.model} for text to image (the Hub lists: "
        f"{others}). Set {endpoint.spec.provider_setting} to one of those or to auto, or "
        f"{endpoint.model_setting} to a model that {endpoint.provider} serves.",
        status=404,
    )


def hf_inference(endpoint: Endpoint, mapping: Any) -> Endpoint:
    """HF's own provider, reached through the task API as the studio always has."""
    caps = TASK_API.caps
    url = endpoint.router + caps.router.path.format(model=mapping.provider_id)
    return dataclasses.replace(endpoint, protocol=caps.protocol, url=url, provider=HF_INFERENCE)


def ignored_options(provider: str, model: str) -> str:
    """Which of the tab's options `provider` does not use for `model`, in a sentence."""
    ignored = list(IGNORED.get(provider, ()))
    if any(family in model.lower() for family in NO_NEGATIVE_PROMPT):
        if "negative prompt" not in ignored:
            ignored.insert(0, "negative prompt")
    said = (
        f"{provider} ignores: {', '.join(ignored)}."
        if ignored
        else f"{provider} uses every option."
    )
    return " ".join(filter(None, [said, CAVEATS.get(provider)]))


def describe(endpoint: Endpoint) -> str:
    who = (
        "the provider the Hub maps it to"
        if endpoint.provider == AUTO_PROVIDER
        else endpoint.provider
    )
    return f"Model `{endpoint.model}` via {who}, through the router at {endpoint.host}."


def kept_mapping(endpoint: Endpoint) -> Any | None:
    """The provider the Hub said serves the model, when it has been asked (no request is made
    here: the page asks as it loads); None before that, or when none serves it."""
    mappings = hub.kept_mappings(endpoint)
    try:
        return choose_mapping(endpoint, mappings) if mappings else None
    except errors.ModelNotFoundError:
        return None


def serving_provider(endpoint: Endpoint) -> str | None:
    """The provider that paints for this endpoint, once known."""
    if endpoint.provider != AUTO_PROVIDER:
        return endpoint.provider
    mapping = kept_mapping(endpoint)
    return mapping.provider if mapping else None


def ignored_by(endpoint: Endpoint) -> str | None:
    """Which options the provider ignores; with auto, once the Hub has said which it is."""
    if endpoint.provider != AUTO_PROVIDER:
        return ignored_options(endpoint.provider, endpoint.model)
    if hub.kept_mappings(endpoint) is None:
        return (
            f"The provider is the one the Hub maps {endpoint.model} to; which options it "
            "ignores shows here once it has made a picture."
        )
    mapping = kept_mapping(endpoint)
    if mapping is None:
        return None
    return f"Served by {mapping.provider}. " + ignored_options(mapping.provider, endpoint.model)


class ProvidersBackend(Backend):
    caps = Capabilities(
        protocol="providers",
        tasks=frozenset({"image"}),
        describe=describe,
        router=Route("", provider=None),  # each provider at its own route, as huggingface_hub's
        unshown="The request is shown once the Hub has said which provider serves the model.",
        ignored=ignored_by,
        provider_of=serving_provider,
    )

    def request(
        self, endpoint: Endpoint, asked: TaskRequest | ChatRequest
    ) -> transport.HttpRequest | None:
        """The provider's first request, once the Hub has said which provider it is (no lookup
        is made here); None before that."""
        mapping = None if isinstance(asked, ChatRequest) else kept_mapping(endpoint)
        if mapping is None:
            return None
        if mapping.provider == HF_INFERENCE:
            return TASK_API.request(hf_inference(endpoint, mapping), asked)
        return build_request(endpoint, mapping, asked.inputs, asked.parameters)

    def complete(
        self, endpoint: Endpoint, asked: TaskRequest, *, progress: Progress | None = None
    ) -> Any:
        mapping = choose_mapping(endpoint, hub.provider_mappings(endpoint))
        if mapping.provider == HF_INFERENCE:
            return TASK_API.complete(hf_inference(endpoint, mapping), asked, progress=progress)
        request = build_request(endpoint, mapping, asked.inputs, asked.parameters)
        answer = transport.post(request, endpoint)
        return picture(answer, mapping.provider, request, endpoint, progress=progress)

    def probe(self, endpoint: Endpoint, *, network: bool = True) -> Probe:
        if endpoint.provider != AUTO_PROVIDER and endpoint.provider not in IGNORED:
            return not_set_up(
                f"{endpoint.spec.provider_setting} is {endpoint.provider!r}, which is not an "
                f"Inference Provider for text to image. Set it to auto (the provider the Hub maps "
                f"the model to) or to one of: {', '.join(IGNORED)}."
            )
        if problem := router_setup_problem(endpoint):
            return not_set_up(problem)
        if not network:
            return CONFIGURED
        # The Hub's model info says which providers serve the model: free, and offline it
        # says the Hub cannot be reached rather than "configured".
        auto = endpoint.provider in (AUTO_PROVIDER, "")
        return hub_probe(endpoint, provider=None if auto else endpoint.provider)
