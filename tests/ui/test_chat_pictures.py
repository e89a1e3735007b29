"""A picture in a chat message, end to end: `python -m studio` against the stand-in chat server,
driven through gradio_client as an API user would (/chat_with_image), and through Gradio's queue
as the page drives it (one session: the send, then the turn).

The picture goes through the message box's upload, is checked and downscaled as Caption's
uploads are, reaches the server as an `image_url` data URL, and is sent again on the next turn
from the session's own copy; a history naming any other file reads nothing.
"""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import gradio as gr
import pytest
import requests
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from studio.chat.history import NOT_TEXT
from studio.config import load_config
from studio.ui.app import build_app, select_tabs
from tests.conftest import start_studio, stop_studio
from tests.stand_ins.chat_servers import ChatServer
from tests.stand_ins.servers import router_entry, router_provider, server_fixture

FILE = {"_type": "gradio.FileData"}
SIDE = 256  # STUDIO_MAX_IMAGE_SIDE: what a picture is downscaled to
LISTED = (
    router_entry("stand-in/vision", router_provider("p"), inputs=("text", "image")),
    router_entry("stand-in/text", router_provider("p"), inputs=("text",)),
    router_entry("stand-in/unsaid", router_provider("p"), inputs=None),
)
chat_server = server_fixture(
    ChatServer, token_delay=0.0, listed=LISTED, text_only=("stand-in/unsaid",)
)


@pytest.fixture(scope="module")
def studio(chat_server, tmp_path_factory):
    """(URL, the page's config, the cache folder) of the studio serving the Chat tab."""
    cache = tmp_path_factory.mktemp("cache")
    env = {
        "STUDIO_CHAT_BASE": f"{chat_server.url}/v1",
        "STUDIO_CHAT_MODEL": "stand-in/vision",
        "STUDIO_MAX_IMAGE_SIDE": str(SIDE),
        "STUDIO_TIMEOUT": "10",
        "GRADIO_TEMP_DIR": str(cache),
    }
    process, url = start_studio(env, "--tabs", "chat")
    try:
        yield url, requests.get(f"{url}config", timeout=30).json(), cache
    finally:
        stop_studio(process)


class Page:
    """One page's session: events sent through Gradio's queue as the browser sends them."""

    def __init__(self, url: str, config: dict) -> None:
        self.url, self.config, self.session = url, config, uuid.uuid4().hex
        components = {c["id"]: c for c in config["components"]}
        self.types = {c["id"]: c["type"] for c in config["components"]}
        self.defaults = {i: components[i].get("props", {}).get("value") for i in components}

    def event(self, first_input: str) -> dict:
        """The send: the event whose first input is the message box."""
        for dependency in self.config["dependencies"]:
            inputs = dependency["inputs"]
            if inputs and self.types[inputs[0]] == first_input:
                return dependency
        raise AssertionError(f"no event takes a {first_input} first")

    def then(self, dependency: dict) -> dict:
        """The event the page runs after `dependency` (the turn after the send)."""
        [after] = [
            d for d in self.config["dependencies"] if d.get("trigger_after") == dependency["id"]
        ]
        return after

    def call(self, dependency: dict, given: dict[int, object]) -> dict:
        """The event's last message, and under "seen" every message it sent, as text (a
        streaming turn sends the chat in pieces)."""
        seen = []
        data = [given.get(at, self.defaults[i]) for at, i in enumerate(dependency["inputs"])]
        body = {"data": data, "fn_index": dependency["id"], "session_hash": self.session}
        requests.post(f"{self.url}gradio_api/queue/join", json=body, timeout=30).raise_for_status()
        params = {"session_hash": self.session}
        with requests.get(
            f"{self.url}gradio_api/queue/data", params=params, stream=True, timeout=60
        ) as answer:
            for line in answer.iter_lines():
                message = (
                    json.loads(line.removeprefix(b"data:")) if line.startswith(b"data:") else {}
                )
                seen.append(line.decode())
                if message.get("msg") == "process_completed":
                    return {**message, "seen": "\n".join(seen)}
        raise AssertionError("the event never completed")

    def upload(self, picture: bytes, name: str) -> dict:
        files = {"files": (name, picture)}
        [path] = requests.post(f"{self.url}gradio_api/upload", files=files, timeout=30).json()
        return {"path": path, "orig_name": name, "meta": FILE}

    def send(self, text: str, files: list, chat: list | None = None) -> dict:
        """The send and, when it started a turn, the turn: (the chat the send showed, the
        turn's last message)."""
        ask = self.event("multimodaltextbox")
        started = self.call(ask, {0: {"text": text, "files": files}, 1: chat})
        if not started["success"]:
            return started
        self.call(self.then(ask), {})
        return started


def photo(width: int = 640, height: int = 480) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def pictures_sent(request) -> list[tuple[int, int]]:
    """The sizes of the pictures a request carried, decoded from its data URLs."""
    sizes = []
    for message in request.messages:
        for part in message["content"] if isinstance(message["content"], list) else []:
            if part["type"] == "image_url":
                url = part["image_url"]["url"]
                assert url.startswith("data:image/jpeg;base64,")
                with Image.open(io.BytesIO(base64.b64decode(url.partition(",")[2]))) as image:
                    sizes.append(image.size)
    return sizes


def test_the_api_sends_a_picture_and_sends_it_again_on_the_next_message(
    studio, chat_server, tmp_path
):
    url, _, _ = studio
    client = Client(url, verbose=False)
    picture = tmp_path / "sky.png"
    picture.write_bytes(photo())
    client.predict("What is this?", handle_file(str(picture)), api_name="/chat_with_image")
    first = chat_server.records[-1]
    text, sent = first.messages[-1]["content"]
    assert text == {"type": "text", "text": "What is this?"} and sent["type"] == "image_url"
    assert pictures_sent(first) == [(SIDE, 192)]  # 640x480, long side SIDE, a JPEG data URL
    client.predict("And the colour?", api_name="/chat")  # the same session's conversation
    second = chat_server.records[-1]
    assert second is not first and pictures_sent(second) == [(SIDE, 192)]
    assert second.messages[-1] == {"role": "user", "content": "And the colour?"}


def test_the_api_tells_a_model_that_reads_text_only_apart_before_sending(
    studio, chat_server, tmp_path
):
    url, _, _ = studio
    client = Client(url, verbose=False)
    picture = tmp_path / "p.png"
    picture.write_bytes(photo(32, 32))
    asked = len(chat_server.records)
    with pytest.raises(AppError, match="takes text only"):
        client.predict(
            "Hi", handle_file(str(picture)), model="stand-in/text", api_name="/chat_with_image"
        )
    notes = tmp_path / "notes.png"
    notes.write_bytes(b"not a picture at all")
    with pytest.raises(AppError, match="not an image file"):
        client.predict("Hi", handle_file(str(notes)), api_name="/chat_with_image")
    assert len(chat_server.records) == asked


def test_a_picture_is_sent_downscaled_and_again_on_the_next_turn(studio, chat_server):
    url, config, cache = studio
    page = Page(url, config)
    started = page.send("What is this?", [page.upload(photo(), "sky.png")])
    assert started["success"], started["output"]
    chat = started["output"]["data"][0]
    [question] = chat
    text, shown = question["content"]
    assert text == {"type": "text", "text": "What is this?"}
    assert shown["file"]["path"].startswith(str(cache.resolve())), "shown from Gradio's cache"
    assert "studio_data_url" not in json.dumps(chat), "the data URL never goes to the page"
    first = chat_server.records[-1]
    assert pictures_sent(first) == [(SIDE, 192)]  # 640x480, long side SIDE
    assert first.messages[-1]["content"][0] == {"type": "text", "text": "What is this?"}

    # The page sends the chat back as it showed it, with the reply: the picture goes again.
    reply = {"role": "assistant", "content": [{"type": "text", "text": "A blue sky."}]}
    again = page.send("And the colour?", [], [*chat, reply])
    assert again["success"], again["output"]
    second = chat_server.records[-1]
    assert second is not first and pictures_sent(second) == [(SIDE, 192)]
    assert second.messages[-1] == {"role": "user", "content": "And the colour?"}


def test_a_history_naming_another_file_reads_nothing(studio, chat_server):
    url, config, cache = studio
    page = Page(url, config)
    started = page.send("Look", [page.upload(photo(64, 64), "a.png")])
    [question] = started["output"]["data"][0]
    mine = question["content"][1]
    elsewhere = page.upload(photo(8, 8), "b.png")  # uploaded, but not sent by this chat
    for path in (elsewhere["path"], str(Path(mine["file"]["path"]).with_name("other.jpg"))):
        forged = {**mine, "file": {**mine["file"], "path": path}}
        asked = len(chat_server.records)
        ended = page.send("Again", [], [{**question, "content": [question["content"][0], forged]}])
        assert not ended["success"] and ended["output"]["error"] == NOT_TEXT
        assert len(chat_server.records) == asked
    # Another page's session did not make this chat's picture either.
    other = Page(url, config)
    ended = other.send("Again", [], [question])
    assert not ended["success"] and ended["output"]["error"] == NOT_TEXT


def test_the_box_takes_only_files_uploaded_to_the_studio(studio, chat_server, tmp_path):
    """Gradio refuses a file in the box that is not marked as one, or is marked but was not
    uploaded; the studio's own check (uploaded_path) stands behind it. Nothing is copied or
    sent. An upload that is not a picture is refused in Caption's words."""
    url, config, cache = studio
    page = Page(url, config)
    outside = tmp_path / "secret.png"
    outside.write_bytes(photo(8, 8))
    asked = len(chat_server.records)
    for file in ({"path": str(outside)}, {"path": str(outside), "meta": FILE}):
        before = set(cache.rglob("*"))
        ended = page.send("Look", [{**file, "orig_name": "secret.png"}])
        assert not ended["success"]
        assert set(cache.rglob("*")) == before, "the file was copied"
    notes = page.upload(b"not a picture at all", "notes.png")
    ended = page.send("Look", [notes])
    assert not ended["success"] and "not an image file" in ended["output"]["error"]
    assert len(chat_server.records) == asked


def test_a_camera_photo_joins_the_box_only_if_uploaded_to_the_studio(studio, tmp_path):
    """The camera's event names a file the box then shows: one uploaded joins the box's
    pictures; any other path is refused before the box would copy it into Gradio's cache."""
    url, config, cache = studio
    page = Page(url, config)
    camera = page.event("image")
    shot = page.upload(photo(32, 32), "image.png")
    added = page.call(camera, {0: shot, 1: {"text": "Hi", "files": []}})
    assert added["success"], added["output"]
    box, cleared = added["output"]["data"]
    assert box["text"] == "Hi" and [f["path"] for f in box["files"]] == [shot["path"]]
    assert box["files"][0]["mime_type"] == "image/png" and cleared is None
    outside = tmp_path / "secret.png"
    outside.write_bytes(photo(8, 8))
    for named in ({"path": str(outside)}, {"path": str(outside), "meta": FILE}):
        before = set(cache.rglob("*"))
        ended = page.call(camera, {0: named, 1: {"text": "", "files": []}})
        assert not ended["success"]
        assert set(cache.rglob("*")) == before, "the file was copied"


def test_a_model_that_reads_text_only_is_told_apart_before_sending_or_by_its_refusal(
    studio, chat_server
):
    url, config, _ = studio
    page = Page(url, config)
    ask = page.event("multimodaltextbox")
    turn = page.then(ask)
    model_at = turn["inputs"].index(next(i for i in turn["inputs"] if page.types[i] == "dropdown"))
    for model, said in [
        ("stand-in/text", "takes text only (the server's model list says so)"),
        ("stand-in/unsaid", "The model did not take the picture"),
    ]:
        asked = len(chat_server.records)
        started = page.call(
            ask, {0: {"text": "Hi", "files": [page.upload(photo(32, 32), "p.png")]}}
        )
        assert started["success"]
        ended = page.call(turn, {model_at: model})
        assert said in ended["seen"], ended["seen"]
        sent = chat_server.records[asked:]
        assert len(sent) == (0 if model == "stand-in/text" else 1)
        if model == "stand-in/text":  # the list's models that take images are named
            assert "such as stand-in/vision" in ended["seen"]


def snippet(page: Page, language: str) -> str:
    """The code "Show the code" shows in `language` for the session's latest reply: the
    panel keeps every language in the session's state, and the choice shows one."""
    [choice] = [
        d
        for d in page.config["dependencies"]
        if [page.types[i] for i in d["inputs"]] == ["state", "radio"]
        and any(page.types.get(target) == "radio" for target, _ in d["targets"])
    ]
    shown = page.call(choice, {1: language})
    assert shown["success"], shown["output"]
    [code] = shown["output"]["data"]
    return code["value"] if isinstance(code, dict) else code


def test_the_code_of_a_reply_to_a_picture_sends_photo_jpg_again(studio, chat_server, tmp_path):
    """The gradio_client call and the requests snippet under a reply, copied and run as a person
    would, with their photo.jpg beside them: each sends it as an image_url part."""
    url, config, _ = studio
    page = Page(url, config)
    ask = page.event("multimodaltextbox")
    started = page.call(ask, {0: {"text": "Describe it", "files": [page.upload(photo(), "a.png")]}})
    assert started["success"], started["output"]
    page.call(page.then(ask), {})
    Image.new("RGB", (300, 200), (200, 40, 40)).save(tmp_path / "photo.jpg")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "STUDIO_"))}
    # Through the studio the photo is downscaled; straight to the server it goes as it is.
    for language, size in [("This studio's API", (SIDE, 171)), ("Python (requests)", (300, 200))]:
        code = snippet(page, language)
        asked = len(chat_server.records)
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=tmp_path, env=clean, capture_output=True, timeout=60
        )
        assert done.returncode == 0, done.stderr.decode()
        [request] = chat_server.records[asked:]
        assert pictures_sent(request) == [size], language
        assert request.messages[-1]["content"][0] == {"type": "text", "text": "Describe it"}


@pytest.mark.parametrize(
    ("env", "takes"),
    [
        ({"STUDIO_CHAT_BASE": "http://127.0.0.1:9/v1"}, True),  # chat completions
        ({"HF_API_FALCOM_BASE": "http://127.0.0.1:9"}, False),  # TGI's stream: text alone
    ],
)
def test_pictures_are_offered_only_where_requests_carry_them(env, takes):
    app = build_app(load_config({"STUDIO_LOCAL": "none", **env}), select_tabs(["chat"]))
    [box] = [block for block in app.blocks.values() if isinstance(block, gr.MultimodalTextbox)]
    assert box.sources == (["upload"] if takes else [])
    names = {fn.api_name for fn in app.fns.values()}
    assert "chat" in names and ("chat_with_image" in names) == takes
