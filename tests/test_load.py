"""A class at once, with a faulty server: 50 users, one in ten of their requests failing. Every
answer reaches the person who asked, every failure says what happened, and nothing leaks: the
studio's threads and open files stop growing once a class is served, its memory stays bounded."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from gradio_client import Client

from tests.conftest import start_studio, stop_studio

USERS = 50
FAULTS = 5  # one request in ten
TOKEN = "hf_test_secret_token_0123456789"


def process_facts(pid: int) -> dict[str, int]:
    """Threads, open file descriptors and resident memory (KiB) of a running process."""
    status = open(f"/proc/{pid}/status").read().splitlines()
    fields = dict(line.split(":", 1) for line in status if ":" in line)
    return {
        "threads": int(fields["Threads"].strip()),
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
        "rss_kib": int(fields["VmRSS"].split()[0]),
    }


def settled(pid: int, ceiling: dict[str, int], timeout: float = 30.0) -> dict[str, int]:
    """The process's facts once its threads and files are at or under `ceiling`, or at the
    timeout: idle worker threads and pooled connections take a moment to be released."""
    deadline = time.monotonic() + timeout
    while True:
        facts = process_facts(pid)
        under = facts["threads"] <= ceiling["threads"] and facts["fds"] <= ceiling["fds"]
        if under or time.monotonic() > deadline:
            return facts
        time.sleep(0.2)


@pytest.fixture
def studio(task_server):
    env = {
        "HF_API_SUMMARY_BASE": f"{task_server.url}/summarize/models/x",
        "HF_TOKEN": TOKEN,
        "STUDIO_TIMEOUT": "20",
    }
    process, url = start_studio(env, "--tabs", "summarize")
    yield process, url
    assert TOKEN not in stop_studio(process), "the token reached a log line"


def one_class(client: Client, task_server) -> tuple[list, list]:
    """Fifty users at once, five of whose requests fail; (answered, failure messages)."""
    task_server.fail_next(
        "/summarize", *[(422, {"error": "Input validation error: bad"}, {})] * FAULTS
    )

    def ask(number: int):
        text = f"user{number} asks for a summary of this text"
        try:
            return number, client.predict(text, api_name="/summarize"), None
        except Exception as error:  # what the person sees
            return number, None, str(error)

    with ThreadPoolExecutor(max_workers=USERS) as pool:
        results = list(pool.map(ask, range(USERS)))
    answered = [(n, answer) for n, answer, error in results if error is None]
    return answered, [error for _, _, error in results if error is not None]


def test_fifty_users_with_faults_get_their_own_answers_and_nothing_leaks(studio, task_server):
    process, url = studio
    client = Client(url, verbose=False)
    task_server.delay = 0.2
    for _ in range(2):  # the thread and connection pools grow to what a class needs
        one_class(client, task_server)
    first = process_facts(process.pid)
    for _ in range(2):
        answered, failed = one_class(client, task_server)
        assert len(failed) == FAULTS and len(answered) == USERS - FAULTS
        assert all("Input validation error" in error for error in failed), failed
        crossed = [n for n, answer in answered if not answer.startswith(f"user{n} ")]
        assert crossed == [], "each answer reaches the person who asked"
    # Two more classes cost no more threads or open files than the first: the pools are bounded
    # and every connection is returned; memory grows by no more than a little.
    # (Margins: on a loaded machine a later class may catch the pools a little wider.)
    ceiling = {"threads": first["threads"] + 16, "fds": first["fds"] + 24}
    after = settled(process.pid, ceiling)
    assert after["threads"] <= ceiling["threads"], (first, after)
    assert after["fds"] <= ceiling["fds"], (first, after)
    assert after["rss_kib"] < first["rss_kib"] + 50 * 1024, (first, after)
