"""Models found on the server, chosen per person: what a picker offers (`GET /v1/models`: one
model, many, an error, the router) and a chosen model reaching the request, with no restart."""

from __future__ import annotations

import asyncio
import logging

import pytest

from studio import services
from studio.chat.stream import stream_reply
from studio.errors import InputError
from studio.tasks.chat import ChatSettings
from studio.tasks.models import checked_model_id
from studio.ui.model_picker import filled
from tests.conftest import free_port, make_endpoint
from tests.stand_ins.chat_servers import ChatServer
from tests.stand_ins.servers import router_entry, router_provider, running

HELLO = [{"role": "user", "content": "Hello there"}]


def chat_endpoint(base: str, model: str = "", **changes):
    fields = dict(
        task="chat",
        protocol="openai",
        model=model,
        url_setting="STUDIO_CHAT_BASE",
        model_setting="STUDIO_CHAT_MODEL",
    )
    return make_endpoint(base, **{**fields, **changes})


def served(*models: str):
    return running(ChatServer(token_delay=0.0, models=models))


def test_a_server_with_one_model_offers_it_as_the_default():
    with served("llama3.2:1b") as server:
        choices = services.served_model_choices(chat_endpoint(f"{server.url}/v1"), refresh=True)
    assert (choices.choices, choices.default, choices.problem) == (
        ("llama3.2:1b",),
        "llama3.2:1b",
        None,
    )


def test_many_models_put_the_configured_one_first_or_ask_the_person_to_pick():
    with served("a/one", "b/two", "c/three") as server:
        base = f"{server.url}/v1"
        configured = services.served_model_choices(chat_endpoint(base, "b/two"), refresh=True)
        unset = services.served_model_choices(chat_endpoint(base))
    assert configured.choices == ("b/two", "a/one", "c/three")
    assert (configured.default, configured.problem) == ("b/two", None)
    assert unset.choices == ("a/one", "b/two", "c/three")
    assert unset.default == ""
    assert unset.problem == "This model server serves 3 models: pick one."


def test_a_list_that_cannot_be_read_tells_the_person_what_to_do_and_the_log_the_setting(caplog):
    with served("a/one") as server:
        wrong_path = chat_endpoint(f"{server.url}/not-v1", "my/model")
        with caplog.at_level(logging.WARNING, logger="studio"):
            answered = services.served_model_choices(wrong_path, refresh=True)
            again = services.served_model_choices(wrong_path)  # another page opens: no new line
    down = services.served_model_choices(chat_endpoint(f"http://127.0.0.1:{free_port()}/v1"))
    assert answered == again
    choices, default, problem = answered  # unpacks, for callers that want the three
    assert choices == ("my/model",) and default == "my/model" and problem == answered.problem
    assert "Type the name of a model" in answered.problem and "Refresh" in answered.problem
    assert "STUDIO_CHAT_" not in answered.problem  # a setting the person cannot reach
    (line,) = [r.getMessage() for r in caplog.records if "/not-v1/models" in r.getMessage()]
    assert "answered 404" in line and "STUDIO_CHAT_BASE is its base URL" in line
    assert "set STUDIO_CHAT_MODEL" in line
    assert down.choices == () and down.default == "" and "Type the name" in down.problem


def test_other_protocols_offer_their_configured_model_alone():
    endpoint = make_endpoint("http://127.0.0.1:9/ner", task="ner", model="dslim/bert-base-NER")
    choices = services.served_model_choices(endpoint)
    assert (choices.choices, choices.default, choices.problem) == (
        ("dslim/bert-base-NER",),
        "dslim/bert-base-NER",
        None,
    )


def test_a_chosen_model_reaches_the_server_per_request_without_a_restart():
    async def reply(endpoint, model):
        chosen = services.with_model(endpoint, model)
        request = services.chat_request(endpoint, HELLO, ChatSettings(), model=model)
        return [u.text async for u in stream_reply(chosen, request)][-1]

    with served("a/one", "b/two") as server:
        endpoint = chat_endpoint(f"{server.url}/v1", "a/one")
        texts = [asyncio.run(reply(endpoint, model)) for model in ("b/two", None, " any/typed-id ")]
        asked = [record.body["model"] for record in server.records]
    assert asked == ["b/two", "a/one", "any/typed-id"]  # any id typed in is sent as is
    assert all(texts)
    assert endpoint.model == "a/one"  # nobody else's choice changed


def test_only_chat_completions_servers_take_a_model_per_request():
    endpoint = make_endpoint("http://127.0.0.1:9/summarize", model="facebook/bart-large-cnn")
    assert services.with_model(endpoint, "") is endpoint
    assert services.with_model(endpoint, "facebook/bart-large-cnn") is endpoint
    with pytest.raises(InputError, match="STUDIO_SUMMARY_MODEL"):
        services.with_model(endpoint, "someone/else")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [(None, None), ("", None), ("  ", None), (" org/name:fastest ", "org/name:fastest")],
)
def test_a_model_id_is_stripped_and_nothing_means_the_configured_one(typed, expected):
    assert checked_model_id(typed) == expected


@pytest.mark.parametrize("typed", ["two words", "tab\tin", "x" * 201, "bell\x07"])
def test_a_model_id_with_spaces_or_too_long_is_refused_with_words(typed):
    with pytest.raises(InputError, match="model name"):
        checked_model_id(typed)


# --- what the list says of the chosen model ---------------------------------------------------


def test_the_picker_line_reads_the_routers_list_and_nothing_from_a_list_of_ids():
    provider = router_provider(
        "together", context_length=131072, pricing={"input": 0.88, "output": 0.88}
    )
    listed = (router_entry("meta-llama/Llama-3.3-70B-Instruct", provider),)
    with running(ChatServer(token_delay=0.0, listed=listed)) as router, served("a/one") as own:
        endpoint = chat_endpoint(f"{router.url}/v1")
        line = services.model_line(endpoint, "meta-llama/Llama-3.3-70B-Instruct:together")
        unknown = services.model_line(endpoint, "someone/else")
        plain = services.model_line(chat_endpoint(f"{own.url}/v1"), "a/one")
        choices = services.served_model_choices(endpoint, refresh=True)
    assert line == (
        "$0.88 in / $0.88 out per million tokens · 131k context · provider: together · text only"
    )
    assert (unknown, plain) == ("", "")
    assert choices.choices == ("meta-llama/Llama-3.3-70B-Instruct",)


def test_the_picker_fills_its_line_with_the_list_and_says_nothing_when_it_cannot_be_read():
    listed = (router_entry("v/see", router_provider("p", context_length=8192), inputs=["image"]),)
    with running(ChatServer(token_delay=0.0, listed=listed)) as server:
        update, line = filled(chat_endpoint(f"{server.url}/v1"), None, refresh=True)
    assert update["value"] == "v/see"
    assert line == "8k context · provider: p · takes images"
    down = chat_endpoint(f"http://127.0.0.1:{free_port()}/v1", "x/y")
    assert filled(down, None, refresh=True)[1] == ""
