"""The Hugging Face task API: `POST {url}` with `{"inputs", "parameters"}`, or raw image bytes.

Spoken by the router's hf-inference provider, dedicated Inference Endpoints, the inference
toolkit and the course's servers. The endpoint's URL is the full URL of one model.

    summarize  text, {min_length, max_length}  -> [{"summary_text"}]
    ner        text                            -> [{"entity" | "entity_group", ...}]
    caption    raw JPEG bytes                  -> [{"generated_text"}]
    image      prompt, {negative_prompt, ...}  -> image bytes (or base64 in JSON)
"""

from __future__ import annotations

import base64
from typing import Any

from studio.backends import transport
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
    via,
)
from studio.catalog import HF_INFERENCE, HUB_SETTING, TASKS
from studio.endpoint import Endpoint
from studio.tasks.progress import Progress

# The inference toolkit matches Accept exactly: one type per task, as huggingface_hub sends.
IMAGE_ACCEPT = "image/png"


def build_request(
    endpoint: Endpoint,
    inputs: Any,
    parameters: dict | None = None,
    *,
    content_type: str | None = None,
) -> transport.HttpRequest:
    """The task API's request: JSON `{"inputs", "parameters"}`, or raw bytes with their type."""
    accept = IMAGE_ACCEPT if endpoint.task == "image" else transport.JSON
    parameters = shape_parameters(endpoint, parameters)
    if isinstance(inputs, bytes | bytearray) and not parameters:
        headers = transport.auth_headers(endpoint, accept=accept)
        headers["Content-Type"] = content_type or "application/octet-stream"
        return transport.HttpRequest(url=endpoint.url, data=bytes(inputs), headers=headers)
    if isinstance(inputs, bytes | bytearray):
        # Parameters cannot ride along with a raw body: send the bytes as base64 in JSON.
        inputs = base64.b64encode(inputs).decode("ascii")
    body: dict[str, Any] = {"inputs": inputs}
    if parameters:
        body["parameters"] = parameters
    return transport.json_request(endpoint, endpoint.url, body, accept=accept)


def shape_parameters(endpoint: Endpoint, parameters: dict | None) -> dict | None:
    """Summary lengths in the shape the server reads: the router takes them inside
    `generate_parameters`; older servers and the inference toolkit at the top of `parameters`."""
    if endpoint.task != "summarize" or not parameters or not endpoint.on_router:
        return parameters
    return {"generate_parameters": dict(parameters)}


TASK_API_TASKS = frozenset({"summarize", "ner", "caption", "image"})


class TaskApiBackend(Backend):
    caps = Capabilities(
        protocol="task",
        tasks=TASK_API_TASKS,
        describe=via("the task API"),
        # The course's settings: a server for the task, at its full URL.
        servers={task: TASKS[task].url_setting for task in TASK_API_TASKS},
        router=Route("/hf-inference/models/{model}", provider=HF_INFERENCE),
    )

    def request(
        self, endpoint: Endpoint, asked: TaskRequest | ChatRequest
    ) -> transport.HttpRequest | None:
        if isinstance(asked, ChatRequest):
            return None
        return build_request(
            endpoint, asked.inputs, asked.parameters, content_type=asked.content_type
        )

    def complete(
        self, endpoint: Endpoint, asked: TaskRequest, *, progress: Progress | None = None
    ) -> Any:
        return transport.post(self.request(endpoint, asked), endpoint)

    def probe(self, endpoint: Endpoint, *, network: bool = True) -> Probe:
        if problem := router_setup_problem(endpoint):
            return not_set_up(problem)
        if not network:
            return CONFIGURED
        if endpoint.on_router:
            return hub_probe(endpoint, provider=HF_INFERENCE)
        return reachable(endpoint, endpoint.url)


def hub_probe(endpoint: Endpoint, *, provider: str | None) -> Probe:
    """Whether the Hub maps the model to a provider (to `provider`, when given), from its model
    info: free, and what the router itself consults."""
    hub_url = endpoint.hub
    url = f"{hub_url.rstrip('/')}/api/models/{endpoint.model}?expand=inferenceProviderMapping"
    looked = transport.look(url, endpoint)
    change = f"Set {endpoint.model_setting} to a model that is served for this task."
    if looked.status is None:
        return Probe(
            False,
            "Hub unreachable",
            f"Could not ask the Hugging Face Hub at {hub_url} ({looked.failure}) which provider "
            f"serves {endpoint.model}. Check this computer's internet connection, and "
            f"{HUB_SETTING} if it is set.",
        )
    if looked.status in (401, 404):
        return Probe(False, "no such model", f"The Hub knows no model {endpoint.model}. {change}")
    try:
        mapping = looked.json().get("inferenceProviderMapping") or {}
    except (ValueError, AttributeError):
        return Probe(False, "unreadable", f"The Hub's answer about {endpoint.model} is unreadable.")
    providers = (
        list(mapping)
        if isinstance(mapping, dict)
        else [str(item.get("provider")) for item in mapping if isinstance(item, dict)]
    )
    if provider and provider not in providers:
        served = f" (served by {', '.join(providers)})" if providers else ""
        return Probe(False, f"not on {provider}", f"{endpoint.model} is not on {provider}{served}.")
    if not providers:
        return Probe(False, "not served", f"No provider serves {endpoint.model}. {change}")
    return Probe(True, "served", "")


def reachable(endpoint: Endpoint, url: str) -> Probe:
    """A server of one's own: that it answers at all, and not with a web page or a 404."""
    looked = transport.look(url, endpoint)
    check = f"Check that the server is running and that {endpoint.url_setting} is right."
    if looked.status is None:
        return Probe(False, "down", f"{endpoint.host}: {looked.failure}. {check}")
    if looked.body.lstrip()[:1] == b"<":
        return Probe(False, "a web page", f"{endpoint.host} answers with a web page. {check}")
    if looked.status == 404:
        return Probe(False, "404", f"{endpoint.host} has no such path. {check}")
    if looked.status >= 500:
        return Probe(False, f"failing ({looked.status})", f"{endpoint.host} is failing.")
    return Probe(True, "answers", "")
