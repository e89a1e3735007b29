"""Configuration: read once at start from the environment, a `.env` file and flags; then frozen.

Each task resolves to one `Endpoint`: where to send requests, in which protocol, with which model.
Resolution, per task:
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

from studio.errors import ConfigurationError

ROUTER = "https://router.huggingface.co"
ROUTER_TASK_URL = ROUTER + "/hf-inference/models/{model}"
ROUTER_CHAT_BASE = ROUTER + "/v1"
TOKEN_SETTINGS = ("HF_TOKEN", "HF_API_KEY")
LOCAL_EXTRA_MISSING = (
    "Running models on this computer needs the local extra: pip install -r "
    "requirements-local.txt (for a CPU-only machine, install a CPU build of torch first)."
)


@dataclass(frozen=True)
class TaskSpec:
    """What the studio knows about one task: its settings' names and default models."""

    name: str
    title: str
    url_setting: str  # the course's name: a server for this task, used as given
    model_setting: str
    default_model: str  # served on the router today
    local_model: str  # the course's model, for the in-process backend
    url_protocol: str = "task"  # what a server in `url_setting` speaks: "task" or "tgi"
    router_protocol: str = "task"  # "task" (hf-inference task API) or "openai" (chat API)
    chat_base_setting: str | None = None  # an OpenAI-compatible server for this task


TASKS: Mapping[str, TaskSpec] = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            TaskSpec(
                "summarize",
                "Summarize",
                "HF_API_SUMMARY_BASE",
                "STUDIO_SUMMARY_MODEL",
                default_model="facebook/bart-large-cnn",
                local_model="sshleifer/distilbart-cnn-12-6",
            ),
            TaskSpec(
                "ner",
                "Entities",
                "HF_API_NER_BASE",
                "STUDIO_NER_MODEL",
                default_model="dslim/bert-base-NER",
                local_model="dslim/bert-base-NER",
            ),
            TaskSpec(
                # Which BLIP models the router still serves is unconfirmed; vision chat models
                # are served by many providers, so the default asks one for a caption.
                "caption",
                "Caption",
                "HF_API_ITT_BASE",
                "STUDIO_CAPTION_MODEL",
                default_model="Qwen/Qwen2.5-VL-7B-Instruct",
                local_model="Salesforce/blip-image-captioning-base",
                router_protocol="openai",
                chat_base_setting="STUDIO_CAPTION_CHAT_BASE",
            ),
            TaskSpec(
                "image",
                "Imagine",
                "HF_API_TTI_BASE",
                "STUDIO_IMAGE_MODEL",
                default_model="stabilityai/stable-diffusion-xl-base-1.0",
                local_model="stabilityai/sd-turbo",
            ),
            TaskSpec(
                "chat",
                "Chat",
                "HF_API_FALCOM_BASE",
                "STUDIO_CHAT_MODEL",
                default_model="Qwen/Qwen2.5-7B-Instruct",
                local_model="Qwen/Qwen2.5-0.5B-Instruct",
                url_protocol="tgi",
                router_protocol="openai",
                chat_base_setting="STUDIO_CHAT_BASE",
            ),
        )
    }
)


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

    @property
    def host(self) -> str:
        # Without any user:password@ a URL may carry: the host is shown to people and logged.
        return urlsplit(self.url).netloc.rpartition("@")[2] if self.url else "this computer"

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

    def endpoint(self, task: str) -> Endpoint:
        return self.endpoints[task]

    def missing_setup(self, task: str) -> str | None:
        """Why this task cannot run yet, in words that say what to set; None when it can."""
        endpoint = self.endpoints[task]
        if endpoint.protocol == "local":
            from studio.local import is_available  # light: looks for the extra, imports none

            return None if is_available() else LOCAL_EXTRA_MISSING
        if not endpoint.on_router or self.token:
            return None
        return (
            f"No model server is configured for {TASKS[task].title}. Set HF_TOKEN in a .env file "
            f"(a token from https://huggingface.co/settings/tokens with permission to call "
            f"Inference Providers) to use the Hugging Face router, set {endpoint.url_setting} to "
            f"the URL of your own server, or run it on this computer with --local {task}."
        )


def read_environment(dotenv_path: str | os.PathLike = ".env") -> dict[str, str]:
    """The process environment over the `.env` file: a variable set in the shell wins."""
    from dotenv import dotenv_values

    values = {k: v for k, v in dotenv_values(dotenv_path).items() if v is not None}
    return {**values, **os.environ}


def load_config(env: Mapping[str, str], **flags) -> Config:
    """Build the frozen configuration. `flags` are the command line's values (None when unset)."""
    token = _first(env, TOKEN_SETTINGS)
    timeout = _positive_float(env, "STUDIO_TIMEOUT", 60.0)
    local = _task_list(flags.get("local") or env.get("STUDIO_LOCAL", ""), "STUDIO_LOCAL")
    device = env.get("STUDIO_DEVICE", "auto").strip() or "auto"
    endpoints = {
        name: _resolve(spec, env, token, timeout, local=name in local, device=device)
        for name, spec in TASKS.items()
    }
    auth_text = flags.get("auth") or env.get("STUDIO_AUTH")
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
        chat_template=env.get("STUDIO_CHAT_TEMPLATE", "").strip().lower() or "falcon",
        chat_budget_chars=_positive_int(env, "STUDIO_CHAT_BUDGET_CHARS", 24_000, "characters"),
    )


def _resolve(spec: TaskSpec, env, token, timeout, *, local: bool, device: str) -> Endpoint:
    url = env.get(spec.url_setting, "").strip()
    chat_base = env.get(spec.chat_base_setting, "").strip() if spec.chat_base_setting else ""
    model = env.get(spec.model_setting, "").strip()
    common = dict(task=spec.name, model_setting=spec.model_setting, timeout=timeout, device=device)
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


def _check_url(url: str, setting: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(f"{setting} must be an http(s) URL, not {url!r}.")
