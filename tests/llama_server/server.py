"""llama-cpp-python's server (`python -m llama_cpp.server`) run on a tiny GGUF written here, and
the recording of what it sends that the stand-ins replay (tests/stand_ins/llama_cpp.py).

Record again after upgrading llama-cpp-python, and check the stand-in tests still pass:

    python -m tests.llama_server.server
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.llama_server.tiny_gguf import build_gguf

RECORDING = Path(__file__).parents[1] / "stand_ins" / "recorded" / "llama_cpp_python.json"
INSTALL = "pip install -r requirements-llama.txt (it builds llama.cpp: minutes)"
STARTUP_BOUND = 120.0  # seconds for the server to load the tiny model on a loaded machine
ALIAS = "tiny-llama"
HELLO = [{"role": "user", "content": "hello there"}]


def require_llama_cpp() -> None:
    """Skip without llama-cpp-python, or fail where STUDIO_REQUIRE_LLAMA says it must be there."""
    try:
        import llama_cpp.server.app  # noqa: F401
    except ImportError as missing:
        reason = f"llama-cpp-python's server is not installed ({missing}): {INSTALL}"
        if os.environ.get("STUDIO_REQUIRE_LLAMA"):
            pytest.fail(reason)
        pytest.skip(reason)


@contextlib.contextmanager
def running(folder: Path, port: int, n_ctx: int = 2048) -> Iterator[subprocess.Popen]:
    """The server on 127.0.0.1:`port` serving a tiny model written in `folder`, until it leaves.
    One thread: the machine is shared, and a Stop test wants one busy core, not several."""
    model = build_gguf(folder / "tiny.gguf")
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(n_ctx)]
    command += ["--n_threads", "1", "--n_threads_batch", "1", "--model_alias", ALIAS]
    with open(folder / "server.log", "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=log)
    try:
        wait_until_ready(process, f"http://127.0.0.1:{port}/v1", folder / "server.log")
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_ready(process: subprocess.Popen, base: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_BOUND
    while True:
        if process.poll() is not None:
            raise AssertionError(f"llama_cpp.server exited:\n{log.read_text()[-2000:]}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{base}/models", timeout=2).ok:
                return
        assert time.monotonic() < deadline, f"llama_cpp.server not ready in {STARTUP_BOUND:g} s"
        time.sleep(0.2)


# --- what it sends ---------------------------------------------------------------------------


def raw_stream(base: str, messages: list[dict], **fields) -> requests.Response:
    body = {"model": ALIAS, "messages": messages, "stream": True, "max_tokens": 8, "seed": 1}
    body.update(fields)
    return requests.post(f"{base}/chat/completions", json=body, stream=True, timeout=60)


def events(text: str) -> list[str]:
    """The `data:` payloads of a recorded stream, in order."""
    return [
        line.removeprefix("data:").strip() for line in text.splitlines() if line.startswith("data:")
    ]


def chunks(text: str) -> list[dict]:
    return [json.loads(data) for data in events(text) if data != "[DONE]"]


def reply_of(text: str) -> str:
    return "".join(
        c["choices"][0]["delta"].get("content") or "" for c in chunks(text) if c["choices"]
    )


def interrupted_stream(base: str) -> str:
    """A long reply's stream, as it ends when another request arrives while it runs."""
    first = raw_stream(base, HELLO, max_tokens=1000)
    received: list[bytes] = []
    reading = threading.Thread(target=lambda: received.extend(first.iter_content(None)))
    reading.start()
    deadline = time.monotonic() + 60
    while b'"content"' not in b"".join(received):  # replying: now another request arrives
        assert time.monotonic() < deadline, "the long reply never started"
        time.sleep(0.05)
    requests.post(
        f"{base}/chat/completions",
        json={"model": ALIAS, "messages": HELLO, "max_tokens": 1},
        timeout=60,
    )
    reading.join(timeout=60)
    return b"".join(received).decode()


def too_long(base: str, n_ctx: int, *, stream: bool) -> dict:
    """What it answers a prompt longer than its context (`n_ctx` tokens)."""
    messages = [{"role": "user", "content": " ".join(["hello"] * (n_ctx + 10))}]
    body = {"model": ALIAS, "messages": messages, "max_tokens": 16, "stream": stream}
    answer = requests.post(f"{base}/chat/completions", json=body, timeout=60)
    try:
        return {"status": answer.status_code, "body": answer.json()}
    except ValueError:
        return {"status": answer.status_code, "text": answer.text}


def record(base: str, n_ctx: int) -> dict:
    """What the server at `base` sends, in the shape the stand-ins replay."""
    stream = raw_stream(base, HELLO).text
    first = events(stream)[0]
    start = stream.index(first)
    framing = stream[:start] + "{json}" + stream[start + len(first) : stream.index("data:", start)]
    with_logprobs = raw_stream(base, HELLO, max_tokens=3, logprobs=True, top_logprobs=2).text
    interrupted = interrupted_stream(base)
    root = base.removesuffix("/v1")
    reply = reply_of(stream)
    return {
        "framing": framing,
        "chunk": chunks(stream)[0],
        "openapi_info": requests.get(f"{root}/openapi.json", timeout=10).json()["info"],
        "models": requests.get(f"{base}/models", timeout=10).json(),
        "leading": reply[: len(reply) - len(reply.lstrip())],
        "stream": {
            "body": stream,
            "reply": reply,
            "finish_reason": chunks(stream)[-1]["choices"][0]["finish_reason"],
        },
        "logprobs": {"body": with_logprobs, "top_logprobs": 2},
        "interrupted": {"body": interrupted, "reply": reply_of(interrupted)},
        "too_long": too_long(base, n_ctx, stream=False),
        "too_long_streamed": too_long(base, n_ctx, stream=True),
    }


def main() -> None:
    import tempfile

    from tests.conftest import free_port

    port, n_ctx = free_port(), 256
    with tempfile.TemporaryDirectory() as folder, running(Path(folder), port, n_ctx):
        recorded = record(f"http://127.0.0.1:{port}/v1", n_ctx)
    RECORDING.write_text(json.dumps(recorded, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {RECORDING}")


if __name__ == "__main__":
    main()
