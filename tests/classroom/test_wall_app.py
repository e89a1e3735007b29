"""The class wall through the real app, launched in this process as serve() launches it, with
the stand-in chat server: the teacher opens a round on /wall with the --admin login, students
answer through gradio_client, and /wall/state shows their guesses tallied beside the model's
own top choices."""

from __future__ import annotations

import contextlib
import io
import time

import pytest
import requests
from gradio_client import Client
from PIL import Image

from studio.classroom.usage import meter_for
from studio.config import load_config
from studio.serve import launch_options
from studio.ui.app import build_app, select_tabs
from tests.conftest import free_port
from tests.stand_ins.chat_servers import ChatServer
from tests.stand_ins.image_servers import ImageServer
from tests.stand_ins.reasoning import ALTERNATIVES
from tests.stand_ins.servers import server_fixture

chat_server = server_fixture(ChatServer, token_delay=0.0)
image_server = server_fixture(ImageServer)
TEACHER = ("teacher", "a-long-password")
PROMPT = "The cat sat"


def chat_env(server: ChatServer, **settings: str) -> dict:
    return {
        "STUDIO_CHAT_BASE": f"{server.url}/v1",
        "STUDIO_CHAT_MODEL": "stand-in/chat",
        "STUDIO_TIMEOUT": "5",
        **settings,
    }


@contextlib.contextmanager
def launched(env: dict, **flags):
    """The Class tab's app, its meter, and the teacher's session with the --admin login."""
    config = load_config(env, tabs="wall", admin=":".join(TEACHER), **flags)
    meter = meter_for(config)
    app = build_app(config, select_tabs(config.tabs), meter)
    app.launch(**launch_options(config, port=free_port(), meter=meter))
    teacher = requests.Session()
    teacher.auth = TEACHER
    try:
        yield app.local_url, meter, teacher
    finally:
        teacher.close()
        app.close()


def open_round(teacher: requests.Session, url: str, kind: str, prompt: str) -> None:
    form = {"do": "open", "kind": kind, "prompt": prompt}
    answer = teacher.post(f"{url}wall", data=form, allow_redirects=False, timeout=10)
    assert answer.status_code == 303, answer.text


def wall_state(teacher: requests.Session, url: str, until=lambda state: True) -> dict:
    """The wall's state once `until` holds of it (the model's choices come in a thread)."""
    deadline = time.monotonic() + 30
    while True:
        state = teacher.get(f"{url}wall/state", timeout=10).json()
        if until(state) or time.monotonic() > deadline:
            return state
        time.sleep(0.1)


def test_two_students_guesses_reach_the_wall_beside_the_models_choices(chat_server):
    with launched(chat_env(chat_server)) as (url, meter, teacher):
        ada, bo = Client(url, verbose=False), Client(url, verbose=False)
        assert ada.predict(api_name="/wall_round")["open"] is False
        open_round(teacher, url, "next_word", PROMPT)
        round_ = ada.predict(api_name="/wall_round")
        assert round_["open"] and round_["prompt"] == PROMPT and round_["kind"] == "next_word"

        assert ada.predict("Mat", round_["id"], api_name="/wall_answer")["answer"] == "Mat"
        assert bo.predict("  mat ", None, api_name="/wall_answer")["answers"] == 2
        bo.predict("sofa", None, api_name="/wall_answer")  # bo changes their mind

        state = wall_state(teacher, url, until=lambda state: state["model"])
        assert [(bar["text"], bar["count"]) for bar in state["bars"]] == [("Mat", 1), ("sofa", 1)]
        tokens = [choice["token"] for choice in state["model"]]
        assert tokens[0].strip() == "text" and tokens[1:4] == ALTERNATIVES[:3]
        assert state["names"] == []  # nobody logged in: anonymous
        (asked,) = chat_server.records  # the model was asked once, when the round opened
        assert asked.body["max_tokens"] == 1 and asked.body["top_logprobs"] == 20
        assert meter.report()["tabs"]["wall"]["requests"] == 3  # answers count as requests


def test_without_the_teachers_login_the_wall_is_closed(chat_server):
    with launched(chat_env(chat_server)) as (url, _, _teacher):
        for path in ("wall", "wall/state"):
            refused = requests.get(f"{url}{path}", timeout=10)
            assert refused.status_code == 401 and "teacher's login" in refused.text
            assert "www-authenticate" in refused.headers
        wrong = requests.get(f"{url}wall", auth=("teacher", "guess"), timeout=10)
        assert wrong.status_code == 401
        posted = requests.post(f"{url}wall", data={"do": "open", "kind": "paint", "prompt": "x"})
        assert posted.status_code == 401
        page = requests.get(f"{url}wall", auth=TEACHER, timeout=10)
        assert page.status_code == 200 and "Open a round" in page.text
        assert TEACHER[1] not in page.text


def test_every_page_may_ask_whether_a_round_is_open_but_not_its_prompt(chat_server):
    with launched(chat_env(chat_server)) as (url, _, teacher):
        assert requests.get(f"{url}wall/now", timeout=10).json() == {
            "open": False,
            "id": None,
            "what": None,
        }
        open_round(teacher, url, "paint", "A secret exam question")
        now = requests.get(f"{url}wall/now", timeout=10)  # no login: the notice's question
        assert now.status_code == 200
        assert now.json() == {"open": True, "id": 1, "what": "Paint this prompt"}
        assert "secret" not in now.text


def test_a_logged_in_students_name_is_on_the_wall_and_the_students_login_is_not_the_teachers(
    chat_server,
):
    with launched(chat_env(chat_server), auth="ada:a-student-password") as (url, _, teacher):
        open_round(teacher, url, "next_word", PROMPT)
        ada = Client(url, auth=("ada", "a-student-password"), verbose=False)
        ada.predict("puddles", None, api_name="/wall_answer")
        assert wall_state(teacher, url)["names"] == ["ada"]
        student = requests.get(f"{url}wall/state", auth=("ada", "a-student-password"))
        assert student.status_code == 401


def test_a_form_from_another_site_is_refused(chat_server):
    with launched(chat_env(chat_server)) as (url, _, teacher):
        form = {"do": "open", "kind": "paint", "prompt": "A cat"}
        forged = teacher.post(f"{url}wall", data=form, headers={"Origin": "https://evil.example"})
        assert forged.status_code == 403
        assert wall_state(teacher, url)["round"] is None
        own = url.rstrip("/")  # the wall's own page sends its own origin
        kept = teacher.post(f"{url}wall", data=form, headers={"Origin": own}, allow_redirects=False)
        assert kept.status_code == 303 and wall_state(teacher, url)["prompt"] == "A cat"


def test_a_server_without_probabilities_is_said_in_words_on_the_wall(chat_server):
    chat_server.gives_logprobs = False
    with launched(chat_env(chat_server)) as (url, _, teacher):
        open_round(teacher, url, "next_word", PROMPT)
        state = wall_state(teacher, url, until=lambda s: "could not" in s["model_note"])
        assert "sent no alternatives for the next token" in state["model_note"]
        assert state["model"] == []


def test_answers_count_against_the_persons_limit(chat_server):
    with launched(chat_env(chat_server, STUDIO_LIMIT="2/minute")) as (url, _, teacher):
        open_round(teacher, url, "next_word", PROMPT)
        student = Client(url, verbose=False)
        student.predict("mat", None, api_name="/wall_answer")
        student.predict("rug", None, api_name="/wall_answer")
        with pytest.raises(Exception, match="as many requests as each person may"):
            student.predict("sofa", None, api_name="/wall_answer")
        with pytest.raises(Exception, match="Type a guess"):  # refused input costs nothing
            student.predict("  ", None, api_name="/wall_answer")
        assert [bar["text"] for bar in wall_state(teacher, url)["bars"]] == ["rug"]


def test_an_answer_to_a_closed_round_is_refused(chat_server):
    with launched(chat_env(chat_server)) as (url, _, teacher):
        open_round(teacher, url, "next_word", PROMPT)
        student = Client(url, verbose=False)
        round_id = student.predict(api_name="/wall_round")["id"]
        closed = teacher.post(f"{url}wall", data={"do": "close"}, allow_redirects=False)
        assert closed.status_code == 303
        with pytest.raises(Exception, match="That round has closed"):
            student.predict("mat", round_id, api_name="/wall_answer")
        assert student.predict(api_name="/wall_round")["open"] is False


def test_students_pictures_of_the_prompt_reach_the_wall_with_their_seeds(chat_server, image_server):
    env = chat_env(
        chat_server,
        HF_API_TTI_BASE=f"{image_server.url}/tti/models/stabilityai/sd-turbo",
        HF_TOKEN="hf_test_secret_token_0123456789",
    )
    with launched(env) as (url, meter, teacher):
        student = Client(url, verbose=False)
        with pytest.raises(Exception, match="No round is open"):
            student.predict(7, api_name="/wall_paint")
        open_round(teacher, url, "paint", "A blue lighthouse")
        with pytest.raises(Exception, match="asks for paint this prompt"):
            student.predict("mat", None, api_name="/wall_answer")
        assert student.predict(7, api_name="/wall_paint") == {"round": 1, "seed": 7, "pictures": 1}
        other = Client(url, verbose=False).predict(None, api_name="/wall_paint")
        assert other["pictures"] == 2 and other["seed"] >= 0

        state = wall_state(teacher, url)
        assert [p["seed"] for p in state["pictures"]] == [7, other["seed"]]
        shown = teacher.get(f"{url}wall/picture", params={"round": 1, "n": 0}, timeout=10)
        assert shown.headers["content-type"] == "image/jpeg"
        with Image.open(io.BytesIO(shown.content)) as thumbnail:
            assert max(thumbnail.size) <= 256
        assert requests.get(f"{url}wall/picture?round=1&n=0", timeout=10).status_code == 401
        assert meter.report()["tabs"]["Imagine"]["images"] == 2  # counted per picture
