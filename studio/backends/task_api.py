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

from studio.backends import http
from studio.backends.base import Backend, Progress
from studio.config import Endpoint

# The inference toolkit matches Accept exactly: one type per task, as huggingface_hub sends.
IMAGE_ACCEPT = "image/png"


def build_request(
    endpoint: Endpoint,
    inputs: Any,
    parameters: dict | None = None,
    *,
    content_type: str | None = None,
) -> http.HttpRequest:
    """The task API's request: JSON `{"inputs", "parameters"}`, or raw bytes with their type."""
    accept = IMAGE_ACCEPT if endpoint.task == "image" else http.JSON
    parameters = shape_parameters(endpoint, parameters)
    if isinstance(inputs, bytes | bytearray) and not parameters:
        headers = http.auth_headers(endpoint, accept=accept)
        headers["Content-Type"] = content_type or "application/octet-stream"
        return http.HttpRequest(url=endpoint.url, data=bytes(inputs), headers=headers)
    if isinstance(inputs, bytes | bytearray):
        # Parameters cannot ride along with a raw body: send the bytes as base64 in JSON.
        inputs = base64.b64encode(inputs).decode("ascii")
    body: dict[str, Any] = {"inputs": inputs}
    if parameters:
        body["parameters"] = parameters
    return http.json_request(endpoint, endpoint.url, body, accept=accept)


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
        request = build_request(endpoint, inputs, parameters, content_type=content_type)
        return http.post(request, endpoint)

    def setup_problem(self, endpoint: Endpoint, token: str | None) -> str | None:
        return router_setup_problem(endpoint, token)


def router_setup_problem(endpoint: Endpoint, token: str | None) -> str | None:
    """The router needs a token; a server of one's own may not."""
    if not endpoint.on_router or token:
        return None
    return (
        f"No model server is configured for {endpoint.spec.title}. Set HF_TOKEN in a .env file "
        f"(a token from https://huggingface.co/settings/tokens with permission to call "
        f"Inference Providers) to use the Hugging Face router, set {endpoint.url_setting} to "
        f"the URL of your own server, or run it on this computer with --local {endpoint.task}."
    )
