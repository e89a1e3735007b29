"""The real app, started as `python -m studio`, driven through gradio_client."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

import pytest
from gradio_client import Client

from tests.conftest import (
    ROOT,
    free_ports,
    start_studio,
    stop_studio,
    wait_until_serving,
)


@pytest.fixture(scope="module")
def client(studio_app):
    return Client(studio_app, verbose=False)


# The API's names and parameters, as clients already call them; the page has events of its own.
API = {
    "/summarize": ["text", "min_length", "max_length"],
    "/ner": ["text"],
    "/caption": ["image"],
    "/caption_with_model": ["image", "model"],  # with a vision chat model (the router's)
    "/generate_image": [
        "prompt",
        "negative_prompt",
        "steps",
        "guidance",
        "width",
        "height",
        "seed",
    ],
    "/caption_and_generate": ["image", "seed"],
    "/play_rounds": ["image", "rounds", "seed"],
    "/wall_round": [],
    "/wall_answer": ["answer", "round_id"],  # the round: empty for the open one
    "/wall_paint": ["seed"],
}


def test_the_api_keeps_its_names_and_parameters(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    names = {name: [p["parameter_name"] for p in endpoints[name]["parameters"]] for name in API}
    assert names == API
    assert set(endpoints) - set(API) == {
        "/chat",
        "/chat_with_model",
        "/chat_with_image",
        "/chat_with_reasoning",
        "/next_words",
        "/compare",
        "/compare_pictures",
    }
    (model,) = [
        p for p in endpoints["/caption_with_model"]["parameters"] if p["parameter_name"] == "model"
    ]
    assert model["parameter_has_default"]  # empty: the configured model


def test_summarize_through_the_api(client, task_server):
    text = "The tower is 324 metres tall, about the same height as an 81-storey building."
    # the toy server's summary is the first 12 words
    assert client.predict(text, api_name="/summarize") == " ".join(text.split()[:12])
    assert task_server.requests[-1].json() == {"inputs": text}


def test_summarize_with_lengths(client, task_server):
    text = "one two three four five six seven"
    assert client.predict(text, 1, 3, api_name="/summarize") == "one two three"
    # a custom endpoint URL gets the lengths where older servers read them
    assert task_server.requests[-1].json()["parameters"] == {"min_length": 1, "max_length": 3}


def test_ner_returns_whole_correctly_spaced_entities(client):
    text = "Angela Merkel met Emmanuel Macron in New York City and Zürich."
    result = client.predict(text, api_name="/ner")
    assert "".join(segment["token"] for segment in result) == text
    found = [(s["class_or_confidence"], s["token"]) for s in result if s["class_or_confidence"]]
    assert found == [
        ("PER", "Angela Merkel"),
        ("PER", "Emmanuel Macron"),
        ("LOC", "New York City"),
        ("LOC", "Zürich"),
    ]


def test_a_backend_failure_is_a_message_not_a_crash(client, task_server):
    task_server.fail_next(
        "/summarize", (402, {"error": "You have exceeded your monthly included credits"}, {})
    )
    with pytest.raises(Exception, match="credits are used up"):
        client.predict("some text", api_name="/summarize")
    # and the app still works afterwards
    assert client.predict("still alive here", api_name="/summarize") == "still alive here"


def test_empty_input_says_what_to_do(client):
    with pytest.raises(Exception, match="Type or paste"):
        client.predict("   ", api_name="/ner")


def test_many_users_at_once(client, task_server):
    task_server.delay = 0.5
    texts = [f"user {i} writes a text" for i in range(16)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda t: client.predict(t, api_name="/summarize"), texts))
    assert answers == texts, "each user gets the answer to their own text"


def test_without_token_or_url_the_app_starts_and_says_what_to_set():
    process, url = start_studio({"STUDIO_LOCAL": "none"})  # not the embedded default either
    try:
        with pytest.raises(Exception, match="HF_TOKEN"):
            Client(url, verbose=False).predict("text", api_name="/summarize")
    finally:
        stop_studio(process)


def test_per_tab_ports_serve_each_tab_as_its_own_app(task_server):
    port = free_ports(2)
    env = {
        "HF_API_NER_BASE": f"{task_server.url}/ner-grouped/models/x",
        "HF_API_SUMMARY_BASE": f"{task_server.url}/summarize/models/x",
    }
    process, url = start_studio(env, "--tabs", "ner,summarize", "--per-tab-ports", port=port)
    try:
        second = f"http://127.0.0.1:{port + 1}/"
        wait_until_serving(process, second)  # the apps start one after the other
        ner = Client(url, verbose=False)
        result = ner.predict("Ada Lovelace", api_name="/ner")
        assert result == [{"token": "Ada Lovelace", "class_or_confidence": "PER"}]
        summary = Client(second, verbose=False)
        assert summary.predict("a b c", api_name="/summarize") == "a b c"
        assert (
            "/ner"
            not in summary.view_api(print_info=False, return_format="dict")["named_endpoints"]
        )
    finally:
        stop_studio(process)


def run_studio(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "studio", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tempfile.mkdtemp(),
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )


def test_a_port_in_use_gives_one_line(studio_app):
    port = studio_app.rstrip("/").rsplit(":", 1)[1]
    result = run_studio("--port", port)
    assert result.returncode == 1
    assert f"port {port}" in result.stderr and "Traceback" not in result.stderr


def test_share_with_a_token_and_no_auth_is_refused():
    result = run_studio("--share", env={"HF_TOKEN": "hf_test_secret_token_0123456789"})
    assert result.returncode == 2
    assert "--auth" in result.stderr and "hf_test_secret" not in result.stderr


def test_an_unknown_tab_is_named():
    result = run_studio("--tabs", "summarise")
    assert (
        result.returncode == 2 and "summarise" in result.stderr and "Traceback" not in result.stderr
    )
