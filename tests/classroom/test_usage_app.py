"""Limits per person and the usage view, through the real app launched in this process as
serve() launches it: many gradio_client sessions and REST calls at once against the local task
server, one person over the limit, everyone else unaffected."""

from __future__ import annotations

import contextlib
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from gradio_client import Client

from studio.classroom.usage import meter_for
from studio.config import load_config
from studio.serve import launch_options
from studio.ui.app import build_app, select_tabs
from tests.conftest import free_port
from tests.stand_ins.chat_servers import ChatServer
from tests.stand_ins.servers import server_fixture

TOKEN = "hf_test_secret_token_0123456789"
TEXT = "The tower is 324 metres tall, about the same height as an 81-storey building."


def server_env(task_server, **settings: str) -> dict:
    base = task_server.url
    return {
        "HF_API_SUMMARY_BASE": f"{base}/summarize/models/sshleifer/distilbart-cnn-12-6",
        "HF_API_NER_BASE": f"{base}/ner/models/dslim/bert-base-NER",
        "HF_TOKEN": TOKEN,
        "STUDIO_TIMEOUT": "5",
        **settings,
    }


@contextlib.contextmanager
def launched(env: dict, tabs: str = "summarize,ner", **flags):
    """The app and its meter, launched as serve() launches them."""
    config = load_config(env, tabs=tabs, **flags)
    meter = meter_for(config)
    app = build_app(config, select_tabs(config.tabs), meter)
    app.launch(**{**launch_options(config, port=free_port(), meter=meter), "quiet": True})
    try:
        yield app, meter
    finally:
        app.close()


def refused(client: Client, *args, api_name: str = "/summarize") -> str:
    with pytest.raises(Exception) as caught:
        client.predict(*args, api_name=api_name)
    return str(caught.value)


def rest_call(url: str, api_name: str, data: list) -> tuple[str, str]:
    """The REST API as curl uses it: POST the call, then read its event stream to the end."""
    posted = requests.post(f"{url}gradio_api/call/{api_name}", json={"data": data}, timeout=30)
    posted.raise_for_status()
    event_id = posted.json()["event_id"]
    stream = requests.get(f"{url}gradio_api/call/{api_name}/{event_id}", timeout=30)
    events = [line for line in stream.text.splitlines() if line.startswith("event:")]
    data_lines = [line for line in stream.text.splitlines() if line.startswith("data:")]
    return events[-1].removeprefix("event:").strip(), data_lines[-1].removeprefix("data:")


def test_one_person_over_the_limit_waits_and_twenty_others_are_not_slowed(task_server):
    with launched(server_env(task_server, STUDIO_LIMIT="3/minute,50/hour")) as (app, meter):
        greedy = Client(app.local_url, verbose=False)
        for _ in range(3):
            assert greedy.predict(TEXT, api_name="/summarize")
        message = refused(greedy, TEXT)
        assert "as many requests as each person may: 3 per minute" in message
        assert "Try again in about" in message and "seconds" in message
        assert "as many requests" in refused(greedy, "Ada Lovelace", api_name="/ner")

        def someone_else(_: int) -> list:
            client = Client(app.local_url, verbose=False)
            return [client.predict(TEXT, api_name="/summarize") for _ in range(3)]

        with ThreadPoolExecutor(20) as pool:
            answers = list(pool.map(someone_else, range(20)))
        assert all(len(runs) == 3 and all(runs) for runs in answers)
        report = meter.report()
        assert report["refused"] == 2
        assert report["tabs"]["Summarize"]["requests"] == 3 + 20 * 3
        assert len(report["people"]) == 21


def test_limits_are_off_by_default(task_server):
    with launched(server_env(task_server)) as (app, meter):
        client = Client(app.local_url, verbose=False)
        for _ in range(12):
            assert client.predict(TEXT, api_name="/summarize")
        assert meter.report()["refused"] == 0


def test_a_script_making_a_client_per_call_meets_the_flood_guard(task_server):
    env = server_env(task_server, STUDIO_LIMIT="5/minute", STUDIO_NEW_SESSION_LIMIT="4/minute")
    with launched(env) as (app, _):
        url = app.local_url
        student = Client(url, verbose=False)  # a person with the page open, before the script
        assert student.predict(TEXT, api_name="/summarize")
        outcomes = [rest_call(url, "summarize", [TEXT, None, None]) for _ in range(5)]
        assert [kind for kind, _ in outcomes] == ["complete"] * 3 + ["error"] * 2
        assert "Too many new sessions have started from your network" in outcomes[-1][1]
        assert "as many requests" not in outcomes[-1][1]
        assert student.predict(TEXT, api_name="/summarize")  # not slowed by the script
        newcomer = Client(url, verbose=False)
        with pytest.raises(Exception, match="Too many new sessions"):
            newcomer.predict(TEXT, api_name="/summarize")


def test_with_logins_the_limit_follows_the_name_across_clients(task_server):
    env = server_env(task_server, STUDIO_LIMIT="2/minute")
    with launched(env, auth="ada:a-long-password") as (app, meter):
        first = Client(app.local_url, auth=("ada", "a-long-password"), verbose=False)
        second = Client(app.local_url, auth=("ada", "a-long-password"), verbose=False)
        assert first.predict(TEXT, api_name="/summarize")
        assert second.predict(TEXT, api_name="/summarize")
        assert "as many requests" in refused(first, TEXT)
        assert [row["person"] for row in meter.report()["people"]] == ["ada"]


def test_the_whole_studio_has_a_ceiling(task_server):
    with launched(server_env(task_server, STUDIO_TOTAL_LIMIT="4/hour")) as (app, _):
        for _ in range(4):
            assert Client(app.local_url, verbose=False).predict(TEXT, api_name="/summarize")
        message = refused(Client(app.local_url, verbose=False), TEXT)
        assert "as the teacher allows for everyone: 4 per hour" in message


# --- the usage view ----------------------------------------------------------------------------


def test_the_usage_view_shows_counts_on_this_computer_without_prompts(task_server):
    with launched(server_env(task_server, STUDIO_LIMIT="2/minute")) as (app, _):
        client = Client(app.local_url, verbose=False)
        client.predict(TEXT, api_name="/summarize")
        client.predict("Ada Lovelace lived in London.", api_name="/ner")
        refused(client, TEXT)
        report = requests.get(f"{app.local_url}usage.json", timeout=10).json()
        assert report["tabs"]["Summarize"] == {
            "requests": 1,
            "errors": 0,
            "refused": 1,
            "images": 0,
            "tokens": 0,
        }
        assert report["tabs"]["Entities"]["requests"] == 1
        (person,) = report["people"]
        assert person["requests"] == 2 and person["refused"] == 1
        assert report["slowest_backend"]["host"].startswith("127.0.0.1")
        page = requests.get(f"{app.local_url}usage", timeout=10)
        assert page.ok and "Per person" in page.text and person["person"] in page.text
        assert "tower" not in page.text and "Lovelace" not in json.dumps(report)


def test_the_usage_view_shows_prompts_when_the_teacher_asks(task_server):
    with launched(server_env(task_server), usage_prompts=True) as (app, _):
        Client(app.local_url, verbose=False).predict(TEXT, api_name="/summarize")
        page = requests.get(f"{app.local_url}usage", timeout=10).text
        assert "The tower is 324 metres tall" in page


def test_the_usage_view_needs_the_teachers_login_not_the_students(task_server):
    env = server_env(task_server, STUDIO_ADMIN="teacher:usage-password")
    with launched(env, auth="student:class-password") as (app, _):
        url = f"{app.local_url}usage.json"
        assert requests.get(url, timeout=10).status_code == 401
        student = requests.get(url, auth=("student", "class-password"), timeout=10)
        assert student.status_code == 401
        teacher = requests.get(url, auth=("teacher", "usage-password"), timeout=10)
        assert teacher.status_code == 200 and "people" in teacher.json()
        # through a tunnel (a share link), the peer is local but the client is not
        tunnel = requests.get(
            f"{app.local_url}usage", headers={"X-Forwarded-For": "203.0.113.9"}, timeout=10
        )
        assert tunnel.status_code == 401


def test_without_a_teachers_login_the_usage_view_refuses_a_tunnelled_client(task_server):
    with launched(server_env(task_server)) as (app, _):
        forwarded = {"X-Forwarded-For": "203.0.113.9"}
        answer = requests.get(f"{app.local_url}usage", headers=forwarded, timeout=10)
        assert answer.status_code == 403 and "--admin" in answer.text


# --- chat tokens, through the real Chat tab and a streaming server ----------------------------


chat_server = server_fixture(ChatServer)


def test_chat_tokens_are_counted_after_each_reply_and_then_wait(chat_server):
    env = {
        "STUDIO_CHAT_BASE": f"{chat_server.url}/v1",
        "STUDIO_CHAT_MODEL": "stand-in/chat",
        "HF_TOKEN": TOKEN,
        "STUDIO_TIMEOUT": "5",
        "STUDIO_CHAT_TOKEN_LIMIT": "12/hour",
    }
    with launched(env, tabs="chat") as (app, meter):
        talker, other = Client(app.local_url, verbose=False), Client(app.local_url, verbose=False)
        words = "one two three four five six seven eight"  # echoed back: 8 tokens, and the end
        assert talker.predict(words, api_name="/chat").split() == words.split()
        assert talker.predict(words, api_name="/chat")  # 8 of 12 used: this one may start
        message = refused(talker, words, api_name="/chat")
        assert "as many chat tokens as each person may: 12 per hour" in message
        assert other.predict(words, api_name="/chat")  # someone else is not slowed
        chat = meter.report()["tabs"]["Chat"]
        assert chat["requests"] == 3 and chat["refused"] == 1 and chat["tokens"] >= 24
