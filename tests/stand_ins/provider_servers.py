"""A local stand-in for the Hugging Face router's Inference Providers and the Hub's model info.

Each route takes the payload huggingface_hub's provider helper sends, as the provider documents
it, refuses anything else (422), and paints the picture from the prompt, the seed and the size
it read under that provider's names, so a test sees every mapped option in the result.

  GET  /api/models/{model}?expand=inferenceProviderMapping   the Hub: {"id", mapping by provider}
  POST /hf-inference/models/{model}            {"inputs", "parameters"} -> raw JPEG
  POST /fal-ai/{id}                            {"prompt", "image_size"} -> {"images": [{"url"}]}
  POST /replicate/v1/models/{id}/predictions   {"input"}, Prefer: wait -> {"output": [url]}
  POST /together/v1/images/generations         {"model", "steps"} -> {"data": [{"b64_json"}]}
  POST /nscale/v1/images/generations           {"model", "size"} -> {"data": [{"b64_json"}]}
  POST /wavespeed/api/v3/{id}                  -> a task; GET its result URL until completed
  POST /zai-org/api/paas/v4/async/images/generations   -> a task; GET .../async-result/{id}
  GET  /files/{name}                           a picture a provider links to (no token needed)

Router routes want `Authorization: Bearer`; `/files/` is the providers' storage, another host in
real life. `server.mappings` says which providers serve which model; `server.pending` how many
polls a task answers "still working" before it is done.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
from dataclasses import dataclass, field
from typing import ClassVar

from tests.stand_ins.image_servers import Raw, _ImageHandler, encode, paint
from tests.stand_ins.servers import Recorded, TaskServer, _Invalid


def mapping(provider: str, provider_id: str, task: str = "text-to-image") -> dict:
    """One entry of the Hub's inferenceProviderMapping (the dict form model info answers)."""
    return {provider: {"providerId": provider_id, "status": "live", "task": task}}


@dataclass
class ProviderServer(TaskServer):
    mappings: dict[str, dict] = field(default_factory=dict)  # model -> {provider: mapping}
    pending: int = 1  # polls answered "still working" before a task is done
    files: dict[str, bytes] = field(default_factory=dict)
    tasks: dict[str, list] = field(default_factory=dict)  # task id -> [polls left, picture url]
    ids: itertools.count = field(default_factory=itertools.count)
    kept: ClassVar[tuple[str, ...]] = ("lock", "ids")  # names stay unique across tests

    def handler_class(self) -> type:
        return type("Handler", (_ProviderHandler,), {"server_state": self})

    def keep(self, picture) -> str:
        """Store a painted picture as PNG; answer the URL a provider would link to."""
        name = f"{next(self.ids)}.png"
        self.files[name] = encode(picture, "PNG")
        return f"{self.url}/files/{name}"

    def task(self, link: str) -> str:
        task_id = f"task-{next(self.ids)}"
        self.tasks[task_id] = [self.pending, link]
        return task_id


class _ProviderHandler(_ImageHandler):
    server_state: ProviderServer

    def do_GET(self) -> None:
        self.server_state.requests.append(Recorded(self.path, dict(self.headers), b""))
        self._respond(b"")

    def _answer(self, body: bytes):
        path, state = self.path, self.server_state
        if path.startswith("/files/"):
            data = state.files.get(path.removeprefix("/files/"))
            return Raw(data, "image/png") if data else None
        if path.startswith("/api/models/"):
            return self._model_info(path)
        if not self.headers.get("Authorization", "").startswith("Bearer "):
            return _Refused(401, {"error": "Invalid username or password."})
        provider, _, route = path.lstrip("/").partition("/")
        request = json.loads(body) if body else {}
        answer = getattr(self, "_" + provider.replace("-", "_"), None)
        return answer(route, request) if answer else None

    def _model_info(self, path: str):
        model, _, query = path.removeprefix("/api/models/").partition("?")
        if query != "expand=inferenceProviderMapping" or model not in self.server_state.mappings:
            return _Refused(404, {"error": "Repository not found"})
        providers = self.server_state.mappings[model]
        return {"_id": "0123", "id": model, "inferenceProviderMapping": providers}

    # --- one method per provider: route (after the provider's name) and JSON body ---------------

    def _hf_inference(self, route: str, request: dict):
        picture = paint(request.get("inputs"), request.get("parameters") or {})
        return Raw(encode(picture, "JPEG"), "image/jpeg")

    def _fal_ai(self, route: str, request: dict):
        size = _required(request, "image_size")
        _forbid(request, "width", "height", "inputs", "parameters")
        options = {**size, **_only(request, "seed")}
        link = self.server_state.keep(paint(request.get("prompt"), options))
        image = {"url": link, "width": size["width"], "height": size["height"]}
        return {"images": [image | {"content_type": "image/png"}], "seed": request.get("seed")}

    def _replicate(self, route: str, request: dict):
        if not re.fullmatch(r"v1/models/[^/]+/[^/]+/predictions", route):
            return None
        if self.headers.get("Prefer") != "wait":
            raise _Invalid("expected Prefer: wait")
        inputs = _required(request, "input")
        link = self.server_state.keep(paint(inputs.get("prompt"), inputs))
        return {"id": "p1", "status": "succeeded", "output": [link]}

    def _together(self, route: str, request: dict):
        if route != "v1/images/generations" or request.get("response_format") != "base64":
            raise _Invalid("expected /v1/images/generations with response_format base64")
        _required(request, "model")
        _forbid(request, "num_inference_steps")
        return _b64_json(paint(request.get("prompt"), request))

    def _nscale(self, route: str, request: dict):
        if route != "v1/images/generations" or request.get("response_format") != "b64_json":
            raise _Invalid("expected /v1/images/generations with response_format b64_json")
        width, height = (int(side) for side in _required(request, "size").split("x"))
        options = {"width": width, "height": height, **_only(request, "seed")}
        return _b64_json(paint(request.get("prompt"), options))

    def _wavespeed(self, route: str, request: dict):
        if match := re.fullmatch(r"api/v3/predictions/([^/]+)/result", route):
            status, outputs = self._poll(match[1], "processing", "completed")
            return {"code": 200, "data": {"status": status, "outputs": outputs}}
        link = self.server_state.keep(paint(request.get("prompt"), request))
        task_id = self.server_state.task(link)
        result = f"https://api.wavespeed.ai/api/v3/predictions/{task_id}/result"
        data = {"id": task_id, "status": "created", "outputs": [], "urls": {"get": result}}
        return {"code": 200, "message": "success", "data": data}

    def _zai_org(self, route: str, request: dict):
        if match := re.fullmatch(r"api/paas/v4/async-result/([^/]+)", route):
            status, outputs = self._poll(match[1], "PROCESSING", "SUCCESS")
            return {"task_status": status, "image_result": [{"url": url} for url in outputs]}
        if route != "api/paas/v4/async/images/generations":
            return None
        width, height = (int(side) for side in _required(request, "size").split("x"))
        picture = paint(request.get("prompt"), {"width": width, "height": height})
        link = self.server_state.keep(picture)
        return {"id": self.server_state.task(link), "task_status": "PROCESSING"}

    def _poll(self, task_id: str, working: str, done: str) -> tuple[str, list[str]]:
        task = self.server_state.tasks[task_id]
        if task[0] > 0:
            task[0] -= 1
            return working, []
        return done, [task[1]]

    def _send(self, status: int, payload, headers: dict | None = None) -> None:
        if isinstance(payload, _Refused):
            return super()._send(payload.status, payload.body, headers)
        return super()._send(status, payload, headers)


@dataclass
class _Refused:
    status: int
    body: dict


def _required(request: dict, name: str):
    if name not in request:
        raise _Invalid(f"{name} is required")
    return request[name]


def _forbid(request: dict, *names: str) -> None:
    extra = [name for name in names if name in request]
    if extra:
        raise _Invalid(f"unexpected fields: {', '.join(extra)}")


def _only(request: dict, *names: str) -> dict:
    return {name: request[name] for name in names if name in request}


def _b64_json(picture) -> dict:
    png = base64.b64encode(encode(picture, "PNG")).decode("ascii")
    return {"created": 1, "data": [{"b64_json": png}]}
