"""Shared fixtures: a local task-API server, endpoints that point at it, the running app, and
a headless Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests

from studio.endpoint import Endpoint
from tests.stand_ins.servers import TaskServer, reset_serving, server_fixture

ROOT = Path(__file__).resolve().parent.parent

CHROMIUM = os.environ.get("STUDIO_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# Without these, Chromium keeps trying to reach Google's hosts from a closed network.
QUIET_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# The task-API stand-in, one for the whole run: the shared app (`studio_app`) points at it.
task_server = server_fixture(TaskServer, scope="session")


@pytest.fixture(autouse=True)
def clean_servers():
    """Each test finds every stand-in server clean: no records, no queued failures, no delay."""
    reset_serving()


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


def free_ports(count: int) -> int:
    """The first of `count` consecutive free ports (--per-tab-ports serves on port, port + 1...):
    a free first port alone says nothing of the next, and a taken one stops the studio."""
    for _ in range(100):
        first = free_port()
        if first + count > 65536:
            continue
        socks = []
        try:
            for port in range(first, first + count):
                sock = socket.socket()
                socks.append(sock)
                sock.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise RuntimeError(f"no {count} consecutive free ports")


def start_studio(env: dict, *args: str, port: int | None = None, cwd: Path | None = None):
    """Run `python -m studio` as a person would, configured only by environment variables.
    Its output goes to a file (`studio_output`): a pipe nobody read would fill, and a studio
    that logs a lot would then stop mid-test."""
    port = port or free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "STUDIO_"))}
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [sys.executable, "-m", "studio", "--port", str(port), *args],
        env={**clean, "PYTHONPATH": str(ROOT), "GRADIO_ANALYTICS_ENABLED": "False", **env},
        cwd=cwd or tempfile.mkdtemp(),  # no developer's .env leaks into the test
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    process.log = log
    url = f"http://127.0.0.1:{port}/"
    wait_until_serving(process, url)
    return process, url


def wait_until_serving(process, url: str) -> None:
    """Wait until the studio `process` answers at `url` (up to 60 s); stop it if it exits or
    never answers."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"studio exited: {stop_studio(process)}")
        try:
            if requests.get(url, timeout=1).ok:
                return
        except requests.RequestException:
            time.sleep(0.2)
    output = stop_studio(process)
    raise RuntimeError(f"studio did not start within 60 s: {output[-3000:]}")


def studio_output(process) -> str:
    """What the studio started by `start_studio` has written so far (stdout and stderr)."""
    process.log.seek(0)
    return process.log.read().decode("utf-8", errors="replace")


def stop_studio(process) -> str:
    """Stop the studio; everything it wrote."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    output = studio_output(process)
    process.log.close()
    return output


@pytest.fixture(scope="session")
def studio_app(task_server):
    """The real app in its own process, pointed at the local server through the environment."""
    base = task_server.url
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


# --- the browser -------------------------------------------------------------------------------
#
# Playwright's sync API keeps its asyncio loop marked as the thread's running loop for as long as
# it is started, which would break any later code on this thread that runs a loop of its own. So
# each browser test gets its own Playwright and Chromium (about a second), stopped when it ends.


@pytest.fixture
def browser():
    """A headless Chromium from Debian's package, for one test."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        message = "Chromium is missing: install Debian's package (apt-get install chromium)"
        if os.environ.get("STUDIO_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    with sync_api.sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=QUIET_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A page in a fresh browser context, closed after the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


def screenshot(page, name: str, *, full_page: bool = False) -> None:
    """Save a screenshot as `name` in the folder STUDIO_SCREENSHOTS names; without it, nothing."""
    if os.environ.get("STUDIO_SCREENSHOTS"):
        path = os.path.join(os.environ["STUDIO_SCREENSHOTS"], name)
        page.screenshot(path=path, full_page=full_page)


@pytest.fixture
def patient_expect():
    """Playwright's `expect` waits 20 s instead of 5 for one test: each wait in a browser test
    is for the app or a server, on a machine that may be busy."""
    expect = pytest.importorskip("playwright.sync_api").expect
    expect.set_options(timeout=20_000)
    yield
    expect.set_options(timeout=5_000)  # Playwright's default, for the other tests


@pytest.fixture
def fake_backend():
    """The fake backend, registered for the test (see tests/stand_ins/fake_backend.py)."""
    from studio.backends import registry as backends
    from tests.stand_ins.fake_backend import FakeBackend

    backend = FakeBackend()
    previous = backends.register(backend)
    yield backend
    if previous is None:
        del backends.BACKENDS[backend.caps.protocol]
    else:
        backends.register(previous)
