"""Reading one setting: a number, a list of names, an http(s) URL, user:password. Each failure
is a ConfigurationError that names the setting and what it takes."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from studio.catalog import TASKS, tasks_named
from studio.errors import ConfigurationError
from studio.secrets import keep_secret


def first(env: Mapping[str, str], names) -> str | None:
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return value
    return None


def positive_float(env: Mapping[str, str], name: str, default: float) -> float:
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


def positive_int(env: Mapping[str, str], name: str, default: int, unit: str) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise ConfigurationError(f"{name} must be a whole number ({unit}) from 1, not {text!r}.")
    return int(text)


def name_list(text: str) -> list[str]:
    return list(dict.fromkeys(part.strip().lower() for part in text.split(",") if part.strip()))


def task_list(text: str, setting: str) -> list[str]:
    names = name_list(text)
    if names == ["all"]:
        return list(TASKS)
    if names == ["none"]:
        return []
    tasks: list[str] = []
    unknown = []
    for name in names:
        try:
            tasks += tasks_named(name)  # a tab's name means its tasks
        except ValueError:
            unknown.append(name)
    if unknown:
        raise ConfigurationError(
            f"{setting}: unknown tab {', '.join(unknown)}; choose from {', '.join(TASKS)} or all."
        )
    return list(dict.fromkeys(tasks))


def switch(env: Mapping[str, str], name: str) -> bool:
    """An on/off setting: 1, true, yes or on; 0, false, no, off or empty."""
    text = env.get(name, "").strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("", "0", "false", "no", "off"):
        return False
    raise ConfigurationError(f"{name} takes 1 (on) or 0 (off), not {text!r}.")


def parse_auth(text: str, settings: str = "STUDIO_AUTH and --auth") -> tuple[str, str]:
    user, sep, password = text.partition(":")
    if not sep or not user or not password:
        raise ConfigurationError(f"{settings} take user:password.")
    return user, password


def base_url(env: Mapping[str, str], setting: str, default: str) -> str:
    url = env.get(setting, "").strip().rstrip("/")
    if not url:
        return default
    check_url(url, setting)
    return url


def check_url(url: str, setting: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(f"{setting} must be an http(s) URL, not {url!r}.")


def store_url(env: Mapping[str, str], setting: str) -> str:
    """A Redis (or Valkey) URL: redis://host:6379/0, rediss:// with TLS, unix:// a socket. Its
    password, if it has one, is kept out of every message."""
    url = env.get(setting, "").strip()
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss", "unix") or not (parts.netloc or parts.path):
        raise ConfigurationError(
            f"{setting} must be a Redis URL such as redis://host:6379/0, not {parts.scheme!r}."
        )
    keep_secret(parts.password, pieces=False)
    return url


def root_path(text: str) -> str:
    """The path prefix a reverse proxy serves the studio under: "/studio", or a whole URL."""
    text = text.strip().rstrip("/")
    if text and not text.startswith(("/", "http://", "https://")):
        raise ConfigurationError(
            f"--root-path (STUDIO_ROOT_PATH) takes a path such as /studio, not {text!r}."
        )
    return text
