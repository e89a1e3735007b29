"""Configuration: read once at start from the environment, a `.env` file and flags; then frozen.

Each task resolves to one `Endpoint`: where to send requests, in which protocol, with which model.
Each task's `Endpoint.protocol` names the backend that serves it (see `studio.backends`); this
module imports none of them. Resolution, per task:
  1. the task is chosen to run locally (`--local`, `STUDIO_LOCAL`)   -> protocol "local"
  2. its endpoint URL setting is set (the course's names)            -> that URL, used as given
  3. otherwise the Hugging Face router (`STUDIO_ROUTER_URL`) with the task's model setting; for
     text to image, through the Inference Provider `STUDIO_IMAGE_PROVIDER` names (default: the
     one the Hub maps the model to), HF's own provider through the task API
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from urllib.parse import urlsplit

from studio.catalog import (
    AUTO_PROVIDER,
    HUB,
    HUB_SETTING,
    ROUTER,
    ROUTER_CHAT_PATH,
    ROUTER_SETTING,
    ROUTER_TASK_PATH,
    TASKS,
    TOKEN_SETTINGS,
    TaskSpec,
)
from studio.errors import ConfigurationError
from studio.secrets import keep_secret


@dataclass(frozen=True)
class Endpoint:
    """Where one task's requests go. The token is kept out of repr so it never reaches a log."""

    task: str
    protocol: str  # "task" | "openai" | "tgi" | "providers" | "local"
    url: str  # full URL for "task"; base URL for "openai", "tgi" and "providers"; "" for "local"
    model: str
    url_setting: str
    model_setting: str
    token: str | None = field(default=None, repr=False)
    timeout: float = 60.0
    device: str = "auto"
    template: str = "falcon"  # the prompt format, for servers that continue raw text (TGI)
    router: str = ROUTER  # the router's base URL (STUDIO_ROUTER_URL)
    hub: str = HUB  # the Hub's base URL, asked for model info (HF_ENDPOINT)
    provider: str = ""  # on the router, the Inference Provider: a name, or "auto"

    @property
    def host(self) -> str:
        return _host(self.url) if self.url else "this computer"

    @property
    def spec(self) -> TaskSpec:
        return TASKS[self.task]

    @property
    def on_router(self) -> bool:
        return bool(self.url) and self.host == _host(self.router)

    @property
    def backend(self) -> str:
        """A short name for people: router, endpoint or local."""
        if self.protocol == "local":
            return "local"
        if not self.on_router:
            return "endpoint"
        return f"Hugging Face router ({self.provider})" if self.provider else "Hugging Face router"


@dataclass(frozen=True)
class Config:
    endpoints: Mapping[str, Endpoint]
    token: str | None = field(default=None, repr=False)
    auth: tuple[str, str] | None = field(default=None, repr=False)
    timeout: float = 60.0
    host: str = "127.0.0.1"
    port: int = 7860
    share: bool = False
    tabs: tuple[str, ...] = ()  # empty: every tab
    per_tab_ports: bool = False
    concurrency: int = 64
    max_image_side: int = 1024  # long side of an image sent upstream
    chat_template: str = "falcon"  # prompt format for a TGI server (HF_API_FALCOM_BASE)
    chat_budget_chars: int = 24_000  # conversation kept per request, oldest turns dropped first

    def endpoint(self, task: str) -> Endpoint:
        return self.endpoints[task]


def read_environment(dotenv_path: str | os.PathLike = ".env") -> dict[str, str]:
    """The process environment over the `.env` file: a variable set in the shell wins."""
    from dotenv import dotenv_values

    values = {k: v for k, v in dotenv_values(dotenv_path).items() if v is not None}
    return {**values, **os.environ}


def load_config(env: Mapping[str, str], **flags) -> Config:
    """Build the frozen configuration. `flags` are the command line's values (None when unset)."""
    token = _first(env, TOKEN_SETTINGS)
    keep_secret(token)  # masked in every message and log line from now on
    timeout = _positive_float(env, "STUDIO_TIMEOUT", 60.0)
    local = _task_list(flags.get("local") or env.get("STUDIO_LOCAL", ""), "STUDIO_LOCAL")
    device = env.get("STUDIO_DEVICE", "auto").strip() or "auto"
    template = env.get("STUDIO_CHAT_TEMPLATE", "").strip().lower() or "falcon"
    places = dict(
        router=_base_url(env, ROUTER_SETTING, ROUTER), hub=_base_url(env, HUB_SETTING, HUB)
    )
    endpoints = {
        name: _resolve(
            spec,
            env,
            token,
            timeout,
            local=name in local,
            device=device,
            template=template,
            **places,
        )
        for name, spec in TASKS.items()
    }
    auth_text = flags.get("auth") or env.get("STUDIO_AUTH")
    keep_secret(auth_text.partition(":")[2] if auth_text else None)
    return Config(
        endpoints=MappingProxyType(endpoints),
        token=token,
        auth=_parse_auth(auth_text) if auth_text else None,
        timeout=timeout,
        host=flags.get("host") or env.get("STUDIO_HOST", "127.0.0.1"),
        port=flags.get("port") or _positive_int(env, "STUDIO_PORT", 7860, "a port"),
        share=bool(flags.get("share")),
        tabs=tuple(_names(flags.get("tabs") or "")),  # checked against the app's tabs
        per_tab_ports=bool(flags.get("per_tab_ports")),
        concurrency=flags.get("concurrency")
        or _positive_int(env, "STUDIO_CONCURRENCY", 64, "requests at once"),
        max_image_side=_positive_int(env, "STUDIO_MAX_IMAGE_SIDE", 1024, "pixels"),
        chat_template=template,
        chat_budget_chars=_positive_int(env, "STUDIO_CHAT_BUDGET_CHARS", 24_000, "characters"),
    )


def _resolve(
    spec: TaskSpec, env, token, timeout, *, local: bool, device: str, template: str, **places
) -> Endpoint:
    url = env.get(spec.url_setting, "").strip()
    chat_base = env.get(spec.chat_base_setting, "").strip() if spec.chat_base_setting else ""
    model = env.get(spec.model_setting, "").strip()
    common = dict(
        task=spec.name,
        model_setting=spec.model_setting,
        timeout=timeout,
        device=device,
        template=template,
        **places,
    )
    if local:
        return Endpoint(
            protocol="local",
            url="",
            model=model or spec.local_model,
            url_setting=spec.url_setting,
            **common,
        )
    if chat_base:  # an OpenAI-compatible server chosen for this task wins
        _check_url(chat_base, spec.chat_base_setting)
        return Endpoint(
            protocol="openai",
            url=chat_base,
            model=model or spec.default_model,
            token=token,
            url_setting=spec.chat_base_setting,
            **common,
        )
    if url:
        _check_url(url, spec.url_setting)
        return Endpoint(
            protocol=spec.url_protocol,
            url=url,
            model=model,
            token=token,
            url_setting=spec.url_setting,
            **common,
        )
    model = model or spec.default_model
    provider = _provider(env, spec)
    protocol, router_url = _on_router(spec, places["router"], model, provider)
    return Endpoint(
        protocol=protocol,
        url=router_url,
        model=model,
        token=token,
        url_setting=spec.url_setting,
        provider=provider,
        **common,
    )


def _provider(env: Mapping[str, str], spec: TaskSpec) -> str:
    """The Inference Provider a task asks on the router: HF's own unless the task may choose."""
    if not spec.provider_setting:
        return "hf-inference" if spec.router_protocol == "task" else ""
    return env.get(spec.provider_setting, "").strip().lower() or AUTO_PROVIDER


def _on_router(spec: TaskSpec, router: str, model: str, provider: str) -> tuple[str, str]:
    """The protocol and URL for a task on the router. HF's own provider speaks the task API at
    one URL per model; the others are reached through the providers backend."""
    if spec.router_protocol == "openai":
        return "openai", router + ROUTER_CHAT_PATH
    if provider == "hf-inference":
        return "task", router + ROUTER_TASK_PATH.format(model=model)
    return spec.router_protocol, router


def _first(env: Mapping[str, str], names) -> str | None:
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return value
    return None


def _positive_float(env: Mapping[str, str], name: str, default: float) -> float:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise ConfigurationError(f"{name} must be a number of seconds above 0, not {text!r}.")
    return value


def _positive_int(env: Mapping[str, str], name: str, default: int, unit: str) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise ConfigurationError(f"{name} must be a whole number ({unit}) from 1, not {text!r}.")
    return int(text)


def _names(text: str) -> list[str]:
    return list(dict.fromkeys(part.strip().lower() for part in text.split(",") if part.strip()))


def _task_list(text: str, setting: str) -> list[str]:
    names = _names(text)
    if names == ["all"]:
        return list(TASKS)
    unknown = [name for name in names if name not in TASKS]
    if unknown:
        raise ConfigurationError(
            f"{setting}: unknown tab {', '.join(unknown)}; choose from {', '.join(TASKS)} or all."
        )
    return names


def _parse_auth(text: str) -> tuple[str, str]:
    user, sep, password = text.partition(":")
    if not sep or not user or not password:
        raise ConfigurationError("STUDIO_AUTH and --auth take user:password.")
    return user, password


def _base_url(env: Mapping[str, str], setting: str, default: str) -> str:
    url = env.get(setting, "").strip().rstrip("/")
    if not url:
        return default
    _check_url(url, setting)
    return url


def _host(url: str) -> str:
    # Without any user:password@ a URL may carry: the host is shown to people and logged.
    return urlsplit(url).netloc.rpartition("@")[2]


def _check_url(url: str, setting: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(f"{setting} must be an http(s) URL, not {url!r}.")
