"""The class wall of two replicas sharing one real Redis (STUDIO_REDIS_URL): two apps launched in
this process as serve() launches them, each with its own store, as two studio processes would
have. The teacher opens a round on A's /wall, students answer through B, A's wall tallies
them; B's /wall/now sees A's round; the bounds hold in Redis; and a Redis that stops is said in
plain words to the student and to the teacher."""

from __future__ import annotations

import contextlib
import io
import threading

import pytest
import requests
from gradio_client import Client
from PIL import Image

from studio.classroom.shared import open_store
from studio.classroom.shared_wall import AWAY, DAY_MS, SharedWall
from studio.classroom.usage import meter_for
from studio.classroom.wall import wall_for
from studio.config import load_config
from studio.errors import InputError
from studio.serve import launch_options
from studio.tasks import wall as task
from studio.ui.app import build_app, select_tabs
from tests.classroom.real_servers import RedisServer, wait_for
from tests.classroom.test_wall_app import PROMPT, TEACHER, chat_env, open_round, wall_state
from tests.conftest import free_port
from tests.stand_ins.chat_servers import ChatServer
from tests.stand_ins.image_servers import ImageServer
from tests.stand_ins.servers import server_fixture

chat_server = server_fixture(ChatServer, token_delay=0.0)
image_server = server_fixture(ImageServer)


@pytest.fixture(scope="module")
def redis_server():
    server = RedisServer().start()
    yield server
    server.stop()


@contextlib.contextmanager
def replica(env: dict):
    """One replica's Class tab app, with a store of its own on the shared Redis."""
    config = load_config(env, tabs="wall", admin=":".join(TEACHER))
    meter = meter_for(config, open_store(config.redis_url))
    app = build_app(config, select_tabs(config.tabs), meter)
    app.launch(**launch_options(config, port=free_port(), meter=meter))
    try:
        yield app.local_url
    finally:
        app.close()


@pytest.fixture(scope="module")
def replicas(redis_server, chat_server, image_server):
    """Replicas A and B, and the teacher's session (the --admin login)."""
    env = chat_env(
        chat_server,
        STUDIO_REDIS_URL=redis_server.url,
        HF_API_TTI_BASE=f"{image_server.url}/tti/models/stabilityai/sd-turbo",
        HF_TOKEN="hf_test_secret_token_0123456789",
    )
    with replica(env) as a, replica(env) as b, requests.Session() as teacher:
        teacher.auth = TEACHER
        yield a, b, teacher


@pytest.fixture
def walls(redis_server) -> tuple[SharedWall, SharedWall]:
    """Two replicas' walls on the shared Redis, emptied first."""
    import redis

    redis.Redis.from_url(redis_server.url).flushdb()
    return wall_for(open_store(redis_server.url)), wall_for(open_store(redis_server.url))


def test_a_round_opened_on_one_replica_is_answered_through_the_other_and_tallied(replicas, walls):
    a, b, teacher = replicas
    open_round(teacher, a, "next_word", PROMPT)
    now = requests.get(f"{b}wall/now", timeout=10).json()
    assert now == {"open": True, "id": 1, "what": "Guess the next token"}
    ada, bo = Client(b, verbose=False), Client(b, verbose=False)
    round_ = ada.predict(api_name="/wall_round")
    assert round_["open"] and round_["prompt"] == PROMPT
    assert ada.predict("Mat", round_["id"], api_name="/wall_answer")["answers"] == 1
    assert bo.predict(" mat ", None, api_name="/wall_answer")["answers"] == 2
    bo.predict("sofa", None, api_name="/wall_answer")  # bo changes their mind: still two

    state = wall_state(teacher, a, until=lambda state: state["model"])  # asked by A's thread
    assert [(bar["text"], bar["count"]) for bar in state["bars"]] == [("Mat", 1), ("sofa", 1)]
    assert state["answers"] == 2 and state["model"][0]["token"].strip() == "text"
    assert wall_state(teacher, b) == state  # either replica's wall is the same wall

    teacher.post(f"{b}wall", data={"do": "close"}, allow_redirects=False)
    with pytest.raises(Exception, match="That round has closed"):
        ada.predict("rug", round_["id"], api_name="/wall_answer")
    assert requests.get(f"{a}wall/now", timeout=10).json()["open"] is False


def test_a_picture_painted_through_one_replica_is_served_by_the_other(replicas, walls):
    a, b, teacher = replicas
    open_round(teacher, a, "paint", "A blue lighthouse")
    student = Client(b, verbose=False)
    assert student.predict(7, api_name="/wall_paint") == {"round": 1, "seed": 7, "pictures": 1}
    assert student.predict(8, api_name="/wall_paint")["pictures"] == 1  # theirs, replaced

    (picture,) = wall_state(teacher, a)["pictures"]
    assert picture == {"n": 1, "seed": 8, "name": ""}
    shown = teacher.get(f"{a}wall/picture", params={"round": 1, "n": 1}, timeout=10)
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(shown.content)) as thumbnail:
        assert max(thumbnail.size) <= task.THUMBNAIL
    gone = teacher.get(f"{a}wall/picture", params={"round": 1, "n": 0}, timeout=10)
    assert gone.status_code == 404  # the one replaced went with it
    wall = walls[0]
    ttl = wall.redis.pttl(f"{wall.prefix}j:1:1")
    assert 0 < ttl <= DAY_MS


def test_the_bounds_hold_in_redis(walls):
    wall, other = walls
    first = wall.open("next_word", "The cat sat")
    for n in range(task.MAX_ANSWERS):
        (wall if n % 2 else other).answer(None, f"p{n}", f"w{n % 7}")
    wall.answer(None, "p0", "changed")  # a changed mind still fits a full round
    with pytest.raises(InputError, match="as many answers as the wall holds"):
        other.answer(None, "late", "mat")
    with pytest.raises(InputError, match="at most 40"):
        other.answer(None, "p1", "x" * 41)
    assert wall.teacher_view()["answers"] == task.MAX_ANSWERS

    paint = other.open("paint", "A lighthouse")
    for n in range(task.MAX_PICTURES):
        wall.add_picture(paint.id, task.Picture(f"p{n}", n, b"jpeg"))
    with pytest.raises(InputError, match="as many answers as the wall holds"):
        other.add_picture(paint.id, task.Picture("late", 1, b"jpeg"))
    for n in range(task.MAX_ROUNDS):
        other.open("next_word", f"round {n}")
    with pytest.raises(InputError, match="No round is open"):
        wall.answer(first.id, "p0", "x")  # forgotten, with its answers and pictures
    kept = {key.decode() for key in wall.redis.keys(f"{wall.prefix}*")}
    assert sum(key.startswith(f"{wall.prefix}r:") for key in kept) == task.MAX_ROUNDS
    assert not any(key.startswith((f"{wall.prefix}j:", f"{wall.prefix}p:")) for key in kept)


def test_one_open_round_and_one_answer_each_while_replicas_race(walls):
    wall, other = walls
    ids: list[int] = []
    threads = [
        threading.Thread(target=lambda w=w: ids.append(w.open("next_word", "x").id))
        for w in (wall, other) * 5
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(ids) == list(range(1, 11))  # every id once
    assert wall.current().id == other.current().id == max(ids)

    def answer(n: int) -> None:
        for i in range(10):
            (wall, other)[i % 2].answer(None, f"p{n}", "mat" if i % 2 else "Mat")

    threads = [threading.Thread(target=answer, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    (bar,) = other.teacher_view()["bars"]
    assert bar["count"] == 20


def test_a_redis_that_stopped_is_said_in_plain_words(redis_server, replicas, walls):
    a, b, teacher = replicas
    open_round(teacher, a, "next_word", PROMPT)
    student = Client(b, verbose=False)
    redis_server.stop()
    try:
        with pytest.raises(Exception, match="The class wall cannot be reached just now"):
            student.predict("mat", None, api_name="/wall_answer")
        assert student.predict(api_name="/wall_round") == {"open": False, "message": AWAY}
        state = teacher.get(f"{a}wall/state", timeout=10)
        assert state.status_code == 503 and state.json() == {"message": AWAY}
        form = {"do": "open", "kind": "paint", "prompt": "A cat"}
        opened = teacher.post(f"{a}wall", data=form, allow_redirects=False, timeout=10)
        assert opened.status_code == 503 and opened.text.strip() == AWAY
        assert requests.get(f"{b}wall/now", timeout=10).json()["open"] is False
    finally:
        redis_server.start()  # the same port, empty: the wall is back within a few seconds
    wait_for(lambda: teacher.get(f"{a}wall/state", timeout=10).status_code == 200, "the wall back")
    assert student.predict(api_name="/wall_round")["message"] == task.NO_ROUND
