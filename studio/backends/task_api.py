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
from studio.backends.base import Backend, Probe, Progress
from studio.catalog import INSTALL_LOCAL
from studio.config import Endpoint

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


class TaskApiBackend(Backend):
    protocol = "task"
    tasks = frozenset({"summarize", "ner", "caption", "image"})
    speaks = "the task API"

    def complete(
        self,
        endpoint: Endpoint,
        inputs: Any,
        parameters: dict | None = None,
        *,
        content_type: str | None = None,
        progress: Progress | None = None,
    ) -> Any:
        request = self.request_for(endpoint, inputs, parameters, content_type=content_type)
        return transport.post(request, endpoint)

    def request_for(
        self,
        endpoint: Endpoint,
        inputs: Any,
        parameters: dict | None = None,
        *,
        content_type: str | None = None,
    ) -> transport.HttpRequest:
        return build_request(endpoint, inputs, parameters, content_type=content_type)

    def setup_problem(self, endpoint: Endpoint, token: str | None) -> str | None:
        return router_setup_problem(endpoint, token)

    def probe(self, endpoint: Endpoint, token: str | None) -> Probe:
        if problem := self.setup_problem(endpoint, token):
            return Probe(False, "not set up", problem)
        if endpoint.on_router:
            return hub_probe(endpoint, provider="hf-inference")
        return reachable(endpoint, endpoint.url)


def hub_probe(endpoint: Endpoint, *, provider: str | None) -> Probe:
    """Whether the Hub maps the model to a provider (to `provider`, when given), from its model
    info: free, and what the router itself consults."""
    hub_url = endpoint.hub
    url = f"{hub_url.rstrip('/')}/api/models/{endpoint.model}?expand=inferenceProviderMapping"
    looked = transport.look(url, endpoint)
    change = f"Set {endpoint.model_setting} to a model that is served for this task."
    if looked.status is None:
        return Probe(False, "Hub unreachable", f"Could not ask {hub_url} ({looked.failure}).")
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


def router_setup_problem(endpoint: Endpoint, token: str | None) -> str | None:
    """The router needs a token; a server of one's own may not."""
    if not endpoint.on_router or token:
        return None
    return (
        f"No model server is configured for {endpoint.spec.title}. Set HF_TOKEN in a .env file "
        f"(a token from https://huggingface.co/settings/tokens with permission to call "
        f"Inference Providers) to use the Hugging Face router, set "
        f"{endpoint.spec.own_server_setting} to the URL of your own server, or run it on this "
        f"computer: install the local extra ({INSTALL_LOCAL}) and start the studio again."
    )
