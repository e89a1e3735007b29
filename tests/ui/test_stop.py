"""Stop on every tab cuts the model request in flight: the server sees its connection closed at
once, and the thread that waited for the answer ends. Against a stand-in that holds each request
open without a byte of answer (tests/stand_ins/evil_server.py), far longer than the bound here."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from gradio_client import Client, handle_file

from studio.backends.registry import get_completion
from studio.ui.waiting import on_page
from tests.conftest import ROOT, make_endpoint, start_studio, stop_studio
from tests.stand_ins.evil_server import EvilServer
from tests.stand_ins.servers import server_fixture

TIMEOUT = 60  # STUDIO_TIMEOUT: the request's own deadline is far beyond the bound
STOP_BOUND = 5.0  # Stop closes the connection at once; seconds of slack for a loaded machine
TOKEN = "hf_test_secret_token_0123456789"
CHELSEA = ROOT / "assets" / "chelsea.jpg"


evil = server_fixture(EvilServer)


def held_request(evil: EvilServer, before: int, timeout: float = 30.0) -> threading.Event:
    """The hang-up event of the first request the stand-in holds after `before` of them."""
    deadline = time.monotonic() + timeout
    while len(evil.held) <= before:
        assert time.monotonic() < deadline, "the request never reached the server"
        time.sleep(0.01)
    return evil.held[before]


def test_stop_on_the_page_closes_the_connection_and_ends_the_thread(evil):
    ended = threading.Event()

    def summary(text: str):
        try:
            return get_completion(make_endpoint(f"{evil.url}/hold", timeout=TIMEOUT), text)
        finally:
            ended.set()

    handler = on_page(summary, 1, doing="Summarizing", limit=TIMEOUT, where="test")

    async def consume() -> None:
        async for _ in handler("a text"):
            pass

    async def stop_while_held() -> tuple[threading.Event, float]:
        before = len(evil.held)
        task = asyncio.create_task(consume())
        hung_up = await asyncio.to_thread(held_request, evil, before)
        stopped_at = time.monotonic()
        task.cancel()  # what Gradio does when the person presses Stop
        await asyncio.gather(task, return_exceptions=True)
        return hung_up, stopped_at

    hung_up, stopped_at = asyncio.run(stop_while_held())
    assert hung_up.wait(STOP_BOUND), "the server never saw the connection closed"
    assert ended.wait(STOP_BOUND), "the thread went on waiting for the answer"
    assert time.monotonic() - stopped_at < 2 * STOP_BOUND


@pytest.fixture(scope="module")
def client(evil):
    """Every tab, each task's server the stand-in that holds requests open."""
    env = {
        "HF_API_SUMMARY_BASE": f"{evil.url}/summarize/hold",
        "HF_API_NER_BASE": f"{evil.url}/ner/hold",
        "HF_API_ITT_BASE": f"{evil.url}/itt/hold",
        "HF_API_TTI_BASE": f"{evil.url}/tti/hold",
        "STUDIO_IMAGE_MODEL": "stabilityai/sd-turbo",
        "HF_TOKEN": TOKEN,
        "STUDIO_TIMEOUT": str(TIMEOUT),
    }
    process, url = start_studio(env)
    yield Client(url, verbose=False)
    output = stop_studio(process)
    assert TOKEN not in output, "the token reached a log line"
    assert "Traceback" not in output, "a stopped request was reported as a failure"


@pytest.mark.parametrize(
    ("api_name", "inputs"),
    [
        ("/summarize", lambda: ["The tower is 324 metres tall."]),
        ("/ner", lambda: ["Ada Lovelace lived in London."]),
        ("/caption", lambda: [handle_file(str(CHELSEA))]),
        ("/generate_image", lambda: ["a lighthouse"]),
        ("/caption_and_generate", lambda: [handle_file(str(CHELSEA)), 7]),
        ("/compare_pictures", lambda: ["a lighthouse", "", "Seed", "1, 2"]),
    ],
    ids=["summarize", "entities", "caption", "imagine", "game", "picture-grid"],
)
def test_cancelling_a_call_closes_its_connection(evil, client, api_name, inputs):
    before = len(evil.held)
    job = client.submit(*inputs(), api_name=api_name)
    hung_up = held_request(evil, before)
    stopped_at = time.monotonic()
    job.cancel()
    assert hung_up.wait(STOP_BOUND), "the server never saw the connection closed"
    assert time.monotonic() - stopped_at < 2 * STOP_BOUND
