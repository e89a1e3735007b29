"""The package surface: a cheap import, the missing-extra error, unknown tasks, status."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

import studio.local as local
from studio.errors import ConfigurationError


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_import_loads_no_heavy_library(project_env):
    result = run_python(
        """
        import sys
        import studio.local
        heavy = [name for name in ("torch", "transformers", "diffusers") if name in sys.modules]
        print(heavy)
        """,
        project_env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("blocked", ["torch", "transformers", "diffusers"])
def test_missing_extra_is_a_configuration_error(project_env, blocked):
    result = run_python(
        f"""
        import sys, threading
        sys.modules[{blocked!r}] = None  # as if the package were not installed
        import studio.local as local
        from studio.errors import StudioError
        try:
            local.complete("image", "stabilityai/sd-turbo", "a cat")
        except StudioError as error:
            print("complete:", type(error).__name__, error)
        try:
            next(local.stream_chat("Qwen/Qwen2.5-0.5B-Instruct", {{"messages": []}},
                                   threading.Event(), offline=True))
        except StudioError as error:
            print("chat:", type(error).__name__, error)
        print("available:", local.status()["available"])
        """,
        project_env,
    )
    assert result.returncode == 0, result.stderr
    complete, chat, available = result.stdout.splitlines()
    assert complete.startswith("complete: ConfigurationError")
    assert "pip install -r requirements-local.txt" in complete
    # Chat needs no diffusers: without it, chat gets as far as looking for the model.
    expected = "ModelNotDownloadedError" if blocked == "diffusers" else "ConfigurationError"
    assert chat.startswith(f"chat: {expected}")
    assert available == "available: False"


def test_unknown_task_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="summarize"):
        local.complete("translate", "some/model", "text")


@pytest.mark.parametrize("device", ["gpu", "tpu:0"])
def test_unknown_device_is_a_configuration_error(tiny, device):
    with pytest.raises(ConfigurationError, match="STUDIO_DEVICE"):
        local.complete("ner", tiny["ner"], "John", device=device)


def test_forcing_a_missing_gpu_is_a_configuration_error(tiny):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    with pytest.raises(ConfigurationError, match="STUDIO_DEVICE"):
        local.complete("ner", tiny["ner"], "John", device="cuda")


def test_status_is_json_and_lists_loaded_models(tiny):
    local.complete("ner", tiny["ner"], "John lives in Paris", device="cpu")
    status = local.status()
    json.dumps(status)
    assert status["available"] is True
    assert status["loading"] == []
    entry = next(m for m in status["models"] if m["task"] == "ner" and m["model"] == tiny["ner"])
    assert entry["device"] == "cpu"
    assert entry["load_seconds"] > 0
    assert entry["requests"] >= 1
