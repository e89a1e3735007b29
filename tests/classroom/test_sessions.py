"""LazySessionState: what Gradio's SessionState answers, without building it for every session."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import gradio as gr
import pytest
import requests
from gradio import route_utils, state_holder
from gradio.state_holder import SessionState

from studio.classroom.gradio_internals import LatestValue, LazySessionState
from studio.config import load_config
from studio.ui.app import build_app

UNREACHABLE = {  # building the app needs no backend
    setting: "http://127.0.0.1:9/never"
    for setting in (
        "HF_API_SUMMARY_BASE",
        "HF_API_NER_BASE",
        "HF_API_ITT_BASE",
        "HF_API_TTI_BASE",
        "HF_API_FALCOM_BASE",
    )
}


@pytest.fixture(scope="module")
def studio():
    return build_app(load_config(UNREACHABLE))


@pytest.fixture(scope="module")
def small():
    """An app with each way an event changes a session: values, a State, a property update."""
    with gr.Blocks() as app:
        with gr.Row():
            text = gr.Textbox(label="Text")
            echo = gr.Textbox(label="Echo")
        count = gr.State(0)
        relabel = gr.Button("Relabel")
        text.submit(lambda value, n: (value.upper(), n + 1), [text, count], [echo, count])
        relabel.click(lambda value: gr.update(label=f"Echo of {value}", value=value), text, echo)
    return app


def fn(app: gr.Blocks, name: str):
    return next(f for f in app.fns.values() if f.api_name == name)


def run(app: gr.Blocks, state: SessionState, name: str, *inputs) -> list:
    return asyncio.run(app.process_api(block_fn=fn(app, name), inputs=list(inputs), state=state))[
        "data"
    ]


def settings(app: gr.Blocks, state: SessionState) -> list[dict]:
    """What a deep link saves. A property update's new block has an id of its own, which
    differs between two sessions of one process: those ids are left out."""
    return [
        config if config["id"] in app.blocks else {**config, "id": "new"}
        for config in state.components
    ]


def test_a_new_session_builds_no_settings(studio):
    state = LazySessionState(studio)
    assert state.config_values == {}
    assert len(SessionState(studio).config_values) == len(studio.blocks) > 100


@pytest.mark.parametrize("gradios_own_tests", [False, True])
def test_it_sets_what_gradios_session_state_sets(studio, monkeypatch, gradios_own_tests):
    # Gradio keeps a closed session's state an hour, or a second in its own browser tests,
    # which it tells by an environment variable: the studio is told by a parameter.
    if gradios_own_tests:
        monkeypatch.setenv("GRADIO_IS_E2E_TEST", "1")
    else:
        monkeypatch.delenv("GRADIO_IS_E2E_TEST", raising=False)
    kept = {"kept_when_closed": 1} if gradios_own_tests else {}
    ours, gradios = vars(LazySessionState(studio, **kept)), vars(SessionState(studio))
    assert set(ours) - {"_app"} == set(gradios)
    built = ("_app", "config_values", "blocks_config")
    assert {k: v for k, v in ours.items() if k not in built} == {
        k: v for k, v in gradios.items() if k not in built
    }


def test_a_deep_link_gets_the_same_settings_untouched(studio, small):
    for app in (studio, small):
        assert list(LazySessionState(app).components) == list(SessionState(app).components)


def test_a_deep_link_gets_the_same_settings_after_events(small):
    lazy, eager = LazySessionState(small), SessionState(small)
    for state in (lazy, eager):
        assert run(small, state, "lambda", "hello", None)[0] == "HELLO"
        assert run(small, state, "lambda", "again", None)[0] == "AGAIN"
    assert list(lazy.state_data.values()) == list(eager.state_data.values()) == [2]  # the State
    # values only: kept as values, the settings built when a deep link asks
    assert all(isinstance(kept, (LatestValue, dict)) for kept in lazy.config_values.values())
    assert any(isinstance(kept, LatestValue) for kept in lazy.config_values.values())
    assert settings(small, lazy) == settings(small, eager)
    for state in (lazy, eager):
        run(small, state, "lambda_1", "again")  # a property update replaces the block
        run(small, state, "lambda", "last", None)  # and values after it
    assert settings(small, lazy) == settings(small, eager)
    assert "Echo of again" in [config["props"].get("label") for config in lazy.components]


def test_the_studio_chat_steps_give_the_same_deep_link(studio):
    lazy, eager = LazySessionState(studio), SessionState(studio)
    for state in (lazy, eager):
        asked = {"text": "Hello there", "files": []}  # the message box takes pictures too
        history, message, *_ = run(studio, state, "ask", asked, [], None)
        assert message["value"] == {"text": "", "files": []}
        assert history[0]["content"] == [{"type": "text", "text": "Hello there"}]
        run(studio, state, "undo", history, None)
    assert settings(studio, lazy) == settings(studio, eager)


def test_the_running_studio_starts_lazy_sessions_and_deep_links_still_work(studio):
    # build_app installed it, for kept sessions and a call's that is not kept
    assert state_holder.SessionState is route_utils.SessionState is LazySessionState
    studio.launch(prevent_thread_lock=True, quiet=True)
    try:
        base = studio.local_url.rstrip("/")
        body = {"data": ["Ada in Paris"], "session_hash": "person"}
        posted = requests.post(f"{base}/gradio_api/call/ner", json=body, timeout=10)
        requests.get(f"{base}/gradio_api/call/ner/{posted.json()['event_id']}", timeout=10)
        session = studio.server_app.state_holder.session_data["person"]
        assert isinstance(session, LazySessionState)
        link = requests.get(
            f"{base}/gradio_api/deep_link", params={"session_hash": "person"}, timeout=10
        ).json()
        saved = Path(studio.server_app.uploaded_file_dir) / "deep_links" / link / "state.json"
        components = json.loads(saved.read_text())
        assert len(components) == len(list(SessionState(studio).components))
        # what the person typed, though the backend is unreachable
        assert "Ada in Paris" in [config["props"].get("value") for config in components]
    finally:
        studio.close()
