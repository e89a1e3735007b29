"""The backends' registry: which backend a setting selects, and that a server type is one module
and one registry line (nothing outside `studio/backends/` and `studio/local/` names a protocol)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from studio import services
from studio.backends import registry
from studio.backends.base import Backend, Capabilities, via
from studio.catalog import TABS, tab_named, tasks_named
from studio.config import load_config
from studio.errors import ConfigurationError
from studio.snippets import GradioCall, for_calls
from studio.tasks.reproduce import Call
from tests.conftest import make_endpoint

ROOT = Path(__file__).resolve().parents[2]


class EchoBackend(Backend):
    """A server type the studio has never heard of, as a newcomer would add it."""

    caps = Capabilities(
        protocol="echo",
        tasks=frozenset({"chat"}),
        describe=via("the echo API"),
        servers={"chat": "STUDIO_ECHO_BASE"},
        lists_models=True,
    )


@pytest.fixture
def echo():
    registry.register(EchoBackend())
    yield
    del registry.BACKENDS["echo"]


def test_a_new_server_type_is_selected_by_its_own_setting(echo):
    config = load_config({"STUDIO_ECHO_BASE": "http://127.0.0.1:9/echo"}, local_extra=True)
    chat = config.endpoint("chat")
    assert (chat.protocol, chat.url, chat.url_setting) == (
        "echo",
        "http://127.0.0.1:9/echo",
        "STUDIO_ECHO_BASE",
    )
    assert (
        services.describe_backend(chat) == "The server's own model via the echo API at 127.0.0.1:9."
    )
    assert services.with_model(chat, "any/model").model == "any/model"  # it lists its models
    assert config.endpoint("ner").protocol == "local"  # the other tasks, set nowhere, run here


def test_when_two_servers_are_set_the_earlier_backend_wins():
    env = {"STUDIO_CHAT_BASE": "http://127.0.0.1:9/v1", "HF_API_FALCOM_BASE": "http://127.0.0.1:8"}
    assert load_config(env).endpoint("chat").protocol == "openai"
    assert load_config({"HF_API_FALCOM_BASE": "http://127.0.0.1:8"}).endpoint(
        "chat"
    ).url_setting == ("HF_API_FALCOM_BASE")


def test_the_router_route_is_the_backend_s():
    assert registry.on_router("summarize", "hf-inference").caps.protocol == "task"
    assert registry.on_router("image", "hf-inference").caps.protocol == "task"
    assert registry.on_router("image", "fal-ai").caps.protocol == "providers"
    assert registry.on_router("chat", "").caps.protocol == "openai"
    with pytest.raises(ConfigurationError, match="No backend asks the Hugging Face router"):
        registry.on_router("ner", "")


def test_an_unknown_task_is_refused_not_shown_as_another():
    endpoint = make_endpoint("http://127.0.0.1:9/translate", task="translate")
    with pytest.raises(ValueError, match="translate"):
        for_calls("Translation", [Call(endpoint, "Bonjour")], GradioCall("/translate", ["x"]))


def test_an_unknown_tab_is_refused_when_the_settings_are_read():
    with pytest.raises(ConfigurationError, match="^Unknown tab paint; the tabs are summarize"):
        load_config({}, tabs="summarize,paint")
    with pytest.raises(ValueError, match="Unknown tab paint"):
        tab_named("paint")


def test_one_tab_table_names_every_tab_and_its_tasks():
    names = [
        "summarize",
        "ner",
        "caption",
        "imagine",
        "game",
        "chat",
        "next_word",
        "compare",
        "wall",
    ]
    assert list(TABS) == names
    assert tasks_named("game") == ("caption", "image")
    assert tasks_named("entities") == ("ner",) and tasks_named("image") == ("image",)
    assert tab_named("image").name == "imagine"


COMPARED = re.compile(
    r"""protocol\s*[!=]=|[!=]=\s*["'](openai|tgi|task|providers|local)["']"""
    r"""|["'](openai|tgi|task|providers|local)["']\s*[!=]="""
)


def test_no_protocol_name_is_compared_outside_the_backends():
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted((ROOT / "studio").rglob("*.py"))
        if not path.is_relative_to(ROOT / "studio" / "backends")
        and not path.is_relative_to(ROOT / "studio" / "local")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if COMPARED.search(line)
    ]
    assert found == []


def test_hf_hub_offline_is_read_by_the_configuration_and_reaches_the_local_models(monkeypatch):
    import studio.local

    seen = []

    def fake_complete(task, model, inputs, parameters=None, **options):
        seen.append(options)
        return [{"entity_group": "PER", "score": 0.9, "word": "Ada", "start": 0, "end": 3}]

    monkeypatch.setattr(studio.local, "complete", fake_complete)
    for env, offline in (({"HF_HUB_OFFLINE": "1"}, True), ({}, False)):
        endpoint = load_config({**env, "STUDIO_DEVICE": "cpu"}, local="ner").endpoint("ner")
        registry.get_completion(endpoint, "Ada")
        assert seen.pop()["offline"] is offline and endpoint.offline is offline
