"""Configuration: read once at start from the environment, a `.env` file and flags; then frozen.

Each task resolves to one `Endpoint`: where to send requests, in which protocol, with which model.
Each task's `Endpoint.protocol` names the backend that serves it (see `studio.backends`); this
module imports none of them. Resolution, per task:
  1. the task is chosen to run locally (`--local`, `STUDIO_LOCAL`)   -> protocol "local"
  2. its endpoint URL setting is set (the course's names)            -> that URL, used as given
  3. otherwise the Hugging Face router with the task's model setting
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from urllib.parse import urlsplit

from studio.catalog import (
    HUB,
    ROUTER,
    ROUTER_CHAT_BASE,
    ROUTER_TASK_URL,
    TAB_ALIASES,
    TASK_ALIASES,
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
    protocol: str  # "task" | "openai" | "tgi" | "local"
    url: str  # full URL for "task"; base URL for "openai" and "tgi"; "" for "local"
    model: str
    url_setting: str
    model_setting: str
    token: str | None = field(default=None, repr=False)
    timeout: float = 60.0
    device: str = "auto"
    template: str = "falcon"  # the prompt format, for servers that continue raw text (TGI)

    @property
    def host(self) -> str:
        # Without any user:password@ a URL may carry: the host is shown to people and logged.
        return urlsplit(self.url).netloc.rpartition("@")[2] if self.url else "this computer"

    @property
    def spec(self) -> TaskSpec:
        return TASKS[self.task]

    @property
    def on_router(self) -> bool:
        return self.host == urlsplit(ROUTER).netloc

    @property
    def backend(self) -> str:
        """A short name for people: router, endpoint or local."""
        if self.protocol == "local":
            return "local"
        return "Hugging Face router" if self.on_router else "endpoint"


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
    hub_url: str = HUB  # the Hub's API, for model info (HF_ENDPOINT, as huggingface_hub reads it)
    allowed_hosts: tuple[str, ...] = ()  # names served besides the defaults (studio.hosts)
    max_sessions: int = 1000  # Gradio sessions kept in memory; the oldest unused go first

    def endpoint(self, task: str) -> Endpoint:
        return self.endpoints[task]


def read_environment(dotenv_path: str | os.PathLike = ".env") -> dict[str, str]:
    """The process environment over the `.env` file: a variable set in the shell wins."""
    from dotenv import dotenv_values

    values = {k: v for k, v in dotenv_values(dotenv_path).items() if v is not None}
    return {**values, **os.environ}


def load_config(env: Mapping[str, str], *, local_extra: bool = False, **flags) -> Config:
    """Build the frozen configuration. `flags` are the command line's values (None when unset).

    `local_extra`: whether the local extra is installed (the caller looks). Then a task with no
    token, no server and no choice made runs on this computer: a laptop without credits works
    out of the box. `STUDIO_LOCAL=none` says never.
    """
    token = _first(env, TOKEN_SETTINGS)
    keep_secret(token)  # masked in every message and log line from now on
    timeout = _positive_float(env, "STUDIO_TIMEOUT", 60.0)
    local_setting = "--local" if flags.get("local") else "STUDIO_LOCAL"
    chosen = flags.get("local") or env.get("STUDIO_LOCAL", "")
    local = _task_list(chosen, local_setting)
    if local_extra and not token and not chosen:
        local = [name for name, spec in TASKS.items() if not _server_set(spec, env)]
    device = env.get("STUDIO_DEVICE", "auto").strip() or "auto"
    template = env.get("STUDIO_CHAT_TEMPLATE", "").strip().lower() or "falcon"
    endpoints = {
        name: _resolve(
            spec, env, token, timeout, local=name in local, device=device, template=template
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
        # Checked against the app's tabs when it is built; either spelling is taken.
        tabs=tuple(dict.fromkeys(TAB_ALIASES.get(n, n) for n in _names(flags.get("tabs") or ""))),
        per_tab_ports=bool(flags.get("per_tab_ports")),
        concurrency=flags.get("concurrency")
        or _positive_int(env, "STUDIO_CONCURRENCY", 64, "requests at once"),
        max_image_side=_positive_int(env, "STUDIO_MAX_IMAGE_SIDE", 1024, "pixels"),
        chat_template=template,
        hub_url=env.get("HF_ENDPOINT", "").strip().rstrip("/") or HUB,
        chat_budget_chars=_positive_int(env, "STUDIO_CHAT_BUDGET_CHARS", 24_000, "characters"),
        allowed_hosts=tuple(_names(env.get("STUDIO_ALLOWED_HOSTS", ""))),
        max_sessions=_positive_int(env, "STUDIO_MAX_SESSIONS", 1000, "sessions"),
    )


def _resolve(
    spec: TaskSpec, env, token, timeout, *, local: bool, device: str, template: str
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
            model=model,  # none: the one the server lists (see backends.model_list)
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
    router_url = (
        ROUTER_CHAT_BASE
        if spec.router_protocol == "openai"
        else ROUTER_TASK_URL.format(model=model)
    )
    return Endpoint(
        protocol=spec.router_protocol,
        url=router_url,
        model=model,
        token=token,
        url_setting=spec.url_setting,
        **common,
    )


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


def _server_set(spec: TaskSpec, env: Mapping[str, str]) -> bool:
    settings = [spec.url_setting, spec.chat_base_setting]
    return any(env.get(setting, "").strip() for setting in settings if setting)


def _task_list(text: str, setting: str) -> list[str]:
    names = _names(text)
    if names == ["all"]:
        return list(TASKS)
    if names == ["none"]:
        return []
    names = list(dict.fromkeys(t for name in names for t in TASK_ALIASES.get(name, (name,))))
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


def _check_url(url: str, setting: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(f"{setting} must be an http(s) URL, not {url!r}.")
