"""What an OpenAI-compatible server says it serves (`GET {base}/models`), asked once per server.

A server of one's own (vLLM, llama.cpp, Ollama) serves models under its own names, which the
router's defaults are not: with no model set, a server that serves one model needs no setting.
`model_choices` is what a model picker offers each person (the router's long list included:
any id typed in is used as is).
"""

from __future__ import annotations

import logging
import threading
from typing import NamedTuple

from studio.backends import transport
from studio.catalog import ROUTER_SETTING
from studio.endpoint import Endpoint
from studio.errors import ConfigurationError

log = logging.getLogger("studio")

_known: dict[str, tuple[str, ...]] = {}
_unreadable: set[str] = set()  # lists that failed, told to the log once
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
    looked = transport.look(url, endpoint, timeout=min(endpoint.timeout, timeout))
    ids = _ids(looked) if looked.status == 200 else None
    if ids is None:
        why = looked.failure or f"it answered {looked.status}"
        where = _check_where(endpoint) if looked.status is None or looked.status == 404 else "Set "
        raise ConfigurationError(
            f"{endpoint.host} did not say which models it serves (GET {url}: {why}). {where}"
            f"{endpoint.model_setting} to the name of the model it serves."
        )
    with _lock:
        _known[url] = ids
    return ids


def _check_where(endpoint: Endpoint) -> str:
    """What to check when the list cannot be had: the router is reached through
    STUDIO_ROUTER_URL (its address, without /v1), a server of one's own through its base URL."""
    if endpoint.on_router:
        return (
            f"Check this computer's internet connection, and {ROUTER_SETTING} if it is set (the "
            "router's address, without /v1), or set "
        )
    return (
        f"Check that the server runs and that {endpoint.url_setting} is its base URL "
        "(ending in /v1), or set "
    )


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


def _ids(looked: transport.Looked) -> tuple[str, ...] | None:
    try:
        data = looked.json().get("data")
    except (ValueError, AttributeError):
        return None
    if not isinstance(data, list):
        return None
    return tuple(str(item["id"]) for item in data if isinstance(item, dict) and item.get("id"))


class ModelChoices(NamedTuple):
    """What a model picker offers: the ids to choose from, the one chosen at first ("" when
    the person must pick), and, when the list could not be read, what the person can do.
    Unpacks as `choices, default, problem = ...`."""

    choices: tuple[str, ...]
    default: str
    problem: str | None = None


COULD_NOT_LIST = (
    "The list of models could not be read from the model server. Type the name of a model, or "
    "try Refresh in a minute. If it keeps happening, tell the teacher."
)
PICK_ONE = "This model server serves {count} models: pick one."
LISTS_NONE = "The model server lists no models. Type the name of one, or tell the teacher."


def model_choices(endpoint: Endpoint, *, refresh: bool = False) -> ModelChoices:
    """The models an OpenAI-compatible server lists, for a picker. A server whose list cannot
    be read offers the configured model alone; the reason is logged (`ConfigurationError.message`
    names the setting) and the person told what to do."""
    configured = (endpoint.model,) if endpoint.model else ()
    try:
        ids = served_models(endpoint, refresh=refresh)
    except ConfigurationError as error:
        with _lock:  # once per server until it answers: every page that opens asks again
            first = models_url(endpoint) not in _unreadable
            _unreadable.add(models_url(endpoint))
        if first:
            log.warning("model list: %s", error.message)
        return ModelChoices(configured, endpoint.model, COULD_NOT_LIST)
    with _lock:
        _unreadable.discard(models_url(endpoint))
    choices = configured + tuple(id_ for id_ in ids if id_ != endpoint.model)
    if endpoint.model or len(ids) == 1:
        return ModelChoices(choices, endpoint.model or ids[0])
    return ModelChoices(choices, "", PICK_ONE.format(count=len(ids)) if ids else LISTS_NONE)
