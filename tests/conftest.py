"""Shared fixtures: a local task-API server, endpoints that point at it, and the running app."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests

from studio.config import Endpoint
from tests.servers import TaskServer

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def task_server_session():
    server = TaskServer()
    url = server.start()
    server.url = url
    yield server
    server.stop()


@pytest.fixture
def task_server(task_server_session):
    """The session's server, with a clean record and no pending failures for each test."""
    task_server_session.requests.clear()
    task_server_session.failures.clear()
    task_server_session.delay = 0.0
    return task_server_session


def make_endpoint(url: str, task: str = "summarize", **changes) -> Endpoint:
    fields = dict(
        task=task,
        protocol="task",
        url=url,
        model="test/model",
        url_setting="HF_API_SUMMARY_BASE",
        model_setting="STUDIO_SUMMARY_MODEL",
        token="hf_test_secret_token_0123456789",
        timeout=5.0,
    )
    fields.update(changes)
    return Endpoint(**fields)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_studio(env: dict, *args: str, port: int | None = None, cwd: Path | None = None):
    """Run `python -m studio` as a person would, configured only by environment variables."""
    port = port or free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "STUDIO_"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "studio", "--port", str(port), *args],
        env={**clean, "PYTHONPATH": str(ROOT), "GRADIO_ANALYTICS_ENABLED": "False", **env},
        cwd=cwd or tempfile.mkdtemp(),  # no developer's .env leaks into the test
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"studio exited: {process.stdout.read()}")
        try:
            if requests.get(url, timeout=1).ok:
                return process, url
        except requests.RequestException:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("studio did not start within 60 s")


def stop_studio(process) -> str:
    process.terminate()
    try:
        out, _ = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        out, _ = process.communicate()
    return out or ""


@pytest.fixture(scope="session")
def studio_app(task_server_session):
    """The real app in its own process, pointed at the local server through the environment."""
    base = task_server_session.url
    env = {
        "HF_API_SUMMARY_BASE": f"{base}/summarize/models/sshleifer/distilbart-cnn-12-6",
        "HF_API_NER_BASE": f"{base}/ner/models/dslim/bert-base-NER",
        "HF_TOKEN": "hf_test_secret_token_0123456789",
        "STUDIO_TIMEOUT": "5",
    }
    process, url = start_studio(env)
    yield url
    output = stop_studio(process)
    assert "hf_test_secret_token_0123456789" not in output, "the token reached a log line"
