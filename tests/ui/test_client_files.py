"""The studio reads no file because a client named it: only a file uploaded through Gradio's
upload route can reach it (see studio.ui.chat.turns.received).

The real app, every tab, runs as `python -m studio` in a working folder that holds a file and a
`.env`, with its own temp folder and Gradio cache. Each test posts crafted values to Gradio's
queue, as a page does but with a file's path where a page never puts one, and lists the cache
before and after.
"""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path

import gradio as gr
import pytest
import requests
from PIL import Image

from studio.chat.history import NOT_TEXT
from studio.config import load_config
from studio.ui.app import build_app, select_tabs
from studio.ui.common import NOT_UPLOADED
from tests.conftest import start_studio, stop_studio

FILE = {"_type": "gradio.FileData"}  # the mark of a file in Gradio's payloads
EDITED = {"index": 0, "value": "Look here", "previous_value": "Look at this"}  # an edit's data


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    """(URL, its config, the cache folder, the files a client might name: one in the working
    folder, its .env, and one in the temp folder)."""
    root = tmp_path_factory.mktemp("client-files")
    work, temp, cache = root / "work", root / "temp", root / "cache"
    for folder in (work, temp, cache):
        folder.mkdir()
    names = [work / "notes.png", work / ".env", temp / "picture.png"]
    for path in names:
        path.write_bytes(png())
    names[1].write_text("STUDIO_TIMEOUT=5\n")  # the studio reads it: no token to spend here
    env = {"GRADIO_TEMP_DIR": str(cache), "TMPDIR": str(temp), "STUDIO_LOCAL": "none"}
    # Gradio logs each path it refuses with a traceback: the log goes to a file, never a full pipe.
    process, url = start_studio(env, cwd=work)
    try:
        yield url, requests.get(f"{url}config", timeout=30).json(), cache, names
    finally:
        stop_studio(process)


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, format="PNG")
    return out.getvalue()


def files_in(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*") if path.is_file()}


def queue_call(url: str, fn_index: int, data: list, event_data=None) -> dict:
    """One event through Gradio's queue, as the page sends it: its final message, with every
    output it sent on the way under "shown" (a page event shows a refusal, then greys Stop)."""
    session = uuid.uuid4().hex
    body = {"data": data, "fn_index": fn_index, "session_hash": session, "event_data": event_data}
    requests.post(f"{url}gradio_api/queue/join", json=body, timeout=30).raise_for_status()
    params = {"session_hash": session}
    shown = []
    with requests.get(f"{url}gradio_api/queue/data", params=params, stream=True, timeout=60) as r:
        for line in r.iter_lines():
            message = json.loads(line.removeprefix(b"data:")) if line.startswith(b"data:") else {}
            shown.append(message.get("output"))
            if message.get("msg") == "process_completed":
                return {**message, "shown": shown}
    raise AssertionError("the event never completed")


def events_taking(config: dict, kind: str) -> list[tuple[int, list, int]]:
    """(fn_index, the inputs' default values, which input) for each event that takes a `kind`
    component."""
    components = {c["id"]: c for c in config["components"]}
    found = []
    for index, dependency in enumerate(config["dependencies"]):
        types = [components[i]["type"] for i in dependency["inputs"]]
        if kind in types and dependency.get("backend_fn", True):  # not a browser-only event
            defaults = [components[i].get("props", {}).get("value") for i in dependency["inputs"]]
            found.append((dependency.get("id", index), defaults, types.index(kind)))
    return found


def event_of(config: dict, kind: str, name: str) -> tuple[int, int]:
    """(fn_index, how many inputs) of the event `name` of the `kind` component."""
    components = {c["id"]: c for c in config["components"]}
    [found] = [
        (dependency.get("id", index), len(dependency["inputs"]))
        for index, dependency in enumerate(config["dependencies"])
        for target, event in dependency["targets"]
        if event == name and components.get(target, {}).get("type") == kind
    ]
    return found


def component_part(path: Path) -> dict:
    """A history part that asks Gradio's Chatbot to build a File component of `path`."""
    value = {"path": str(path)}
    return dict(type="component", component="file", value=value, constructor_args={}, props={})


def history(*parts: dict) -> list[dict]:
    return [{"role": "user", "content": [{"type": "text", "text": "Look at this"}, *parts]}]


# --- the Chat tab: a history with a file in it --------------------------------------------------


def test_a_history_naming_a_file_is_refused_before_anything_is_copied(studio):
    url, config, cache, names = studio
    chat_events = events_taking(config, "chatbot")
    assert len(chat_events) == 6  # send, Retry, edit, Continue, Undo and a branch take it
    for fn_index, defaults, at in chat_events:
        for path in names:
            before = files_in(cache)
            data = [*defaults]
            data[at] = history(component_part(path))
            ended = queue_call(url, fn_index, data, EDITED)
            assert files_in(cache) == before, f"{path.name} was copied into Gradio's cache"
            assert not ended["success"] and ended["output"]["error"] == NOT_TEXT


def test_a_file_part_naming_a_file_not_uploaded_is_refused_too(studio):
    """A file part must be marked as one, and Gradio refuses a marked file it did not receive
    through its upload route before copying it; one it did receive the chat refuses."""
    url, config, cache, names = studio
    (fn_index, defaults, at), *_ = events_taking(config, "chatbot")
    uploaded = requests.post(
        f"{url}gradio_api/upload", files={"files": ("mine.png", png())}, timeout=30
    ).json()[0]
    parts = [{"type": "file", "file": {"path": str(path), "meta": FILE}} for path in names]
    parts.append({"type": "file", "file": {"path": str(names[2])}})  # unmarked: not a file
    marked = {**component_part(names[0]), "value": {"path": str(names[0]), "meta": FILE}}
    for part in [*parts, marked, {"type": "file", "file": {"path": uploaded, "meta": FILE}}]:
        before = files_in(cache)
        data = [*defaults]
        data[at] = history(part)
        ended = queue_call(url, fn_index, data)
        assert files_in(cache) == before, f"{part} was copied into Gradio's cache"
        assert not ended["success"]
    assert ended["output"]["error"] == NOT_TEXT


def test_a_history_of_text_is_taken_as_it_always_was(studio):
    url, config, cache, _ = studio
    (fn_index, defaults, at), *_ = events_taking(config, "chatbot")  # Send: message, chat
    assert at == 1
    data = [*defaults]
    data[at] = [
        {"role": "user", "content": [{"type": "text", "text": "Hello"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "Hi! How can I help?"}]},
    ]
    data[0] = {"text": "Tell me a joke", "files": []}  # the message box's value
    ended = queue_call(url, fn_index, data)
    assert ended["success"], ended["output"]
    chat = ended["output"]["data"][0]
    assert [part["text"] for message in chat for part in message["content"]] == [
        "Hello",
        "Hi! How can I help?",
        "Tell me a joke",
    ]


def test_an_example_that_names_a_file_reads_nothing(studio):
    """The example picked comes from the client as event data: Gradio refuses a path in it,
    and of anything else only text starts a chat."""
    url, config, cache, names = studio
    fn_index, inputs = event_of(config, "chatbot", "example_select")
    for value in ({"path": str(names[0])}, {"path": str(names[2])}, component_part(names[2])):
        before = files_in(cache)
        picked = {"index": 0, "value": {"text": value}}
        ended = queue_call(url, fn_index, [None] * inputs, picked)
        assert files_in(cache) == before
        started = ended["success"] and ended["output"]["data"][0] != {"__type__": "update"}
        assert not started, ended["output"]


# --- the picture tabs: an image input given a path ----------------------------------------------


def test_no_image_input_takes_a_path_it_was_not_uploaded_through(studio):
    """Verified, not assumed: Gradio refuses a file marked as one unless it is in its upload
    folder; an unmarked path gets through it (the picture events take their input unprocessed)
    and the studio's own check refuses it (studio.ui.common.uploaded_path)."""
    url, config, cache, names = studio
    image_events = events_taking(config, "image")
    assert len(image_events) >= 8  # Caption, Imagine's PNG drop and the game's pictures
    for fn_index, defaults, at in image_events:
        reached = queue_call(url, fn_index, defaults)  # no picture: the handler answers
        assert reached["success"] or reached["output"]["error"], (fn_index, reached)
        for path in names:
            for value in ({"path": str(path), "meta": FILE}, {"path": str(path)}):
                before = files_in(cache)
                data = [*defaults]
                data[at] = value
                ended = queue_call(url, fn_index, data)
                assert files_in(cache) == before, f"{path.name} was copied by event {fn_index}"
                # Refused by Gradio, or by the studio's own check, which a page shows in the tab.
                said = json.dumps(ended["shown"])
                assert not ended["success"] or NOT_UPLOADED in said, (fn_index, value, said)


# --- the wiring ---------------------------------------------------------------------------------


def test_every_event_that_takes_the_chat_takes_it_as_sent():
    """Gradio's processing of a Chatbot's value reads files it names: each event that takes
    the chat skips it, and checks the chat itself (studio.ui.chat.turns.received)."""
    app = build_app(load_config({"STUDIO_LOCAL": "none"}), select_tabs(["chat"]))
    taking = [fn for fn in app.fns.values() if any(isinstance(b, gr.Chatbot) for b in fn.inputs)]
    assert len(taking) == 6 and not any(fn.preprocess for fn in taking)
