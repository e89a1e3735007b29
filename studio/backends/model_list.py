"""What an OpenAI-compatible server says it serves (`GET {base}/models`), asked once per server.

A server of one's own (vLLM, llama.cpp, Ollama) serves models under its own names, which the
router's defaults are not: with no model set, a server that serves one model needs no setting.
"""

from __future__ import annotations

import threading

from studio.backends import http
from studio.config import Endpoint
from studio.errors import ConfigurationError

_known: dict[str, tuple[str, ...]] = {}
_lock = threading.Lock()


def models_url(endpoint: Endpoint) -> str:
    return endpoint.url.rstrip("/") + "/models"


def served_models(
    endpoint: Endpoint, *, refresh: bool = False, timeout: float = 10.0
) -> tuple[str, ...]:
    """The ids the server lists; ConfigurationError, saying what to set, when it cannot say."""
    url = models_url(endpoint)
    with _lock:
        if url in _known and not refresh:
            return _known[url]
    looked = http.look(url, endpoint, timeout=min(endpoint.timeout, timeout))
    ids = _ids(looked) if looked.status == 200 else None
    if ids is None:
        why = looked.failure or f"it answered {looked.status}"
        raise ConfigurationError(
            f"{endpoint.host} did not say which models it serves (GET {url}: {why}). Set "
            f"{endpoint.model_setting} to the name of the model it serves."
        )
    with _lock:
        _known[url] = ids
    return ids


def model_for(endpoint: Endpoint) -> str:
    """The endpoint's model, or the only one its server serves."""
    if endpoint.model:
        return endpoint.model
    ids = served_models(endpoint)
    if len(ids) == 1:
        return ids[0]
    listed = ", ".join(ids[:10]) + (" …" if len(ids) > 10 else "") if ids else "none"
    raise ConfigurationError(
        f"{endpoint.host} serves {len(ids)} models ({listed}); set {endpoint.model_setting} to "
        "the one to use."
    )


def _ids(looked: http.Looked) -> tuple[str, ...] | None:
    try:
        data = looked.json().get("data")
    except (ValueError, AttributeError):
        return None
    if not isinstance(data, list):
        return None
    return tuple(str(item["id"]) for item in data if isinstance(item, dict) and item.get("id"))
