"""Fixtures for the local backend: tiny random models built once per session.

Every test here needs the local extra. An autouse fixture skips them all, with the reason, when
torch, transformers or diffusers cannot be imported; the test modules import none of them at
the top (tiny_models is imported inside a fixture), so collection works without the extra.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EXTRA = ("torch", "transformers", "diffusers")


@pytest.fixture(scope="session", autouse=True)
def local_extra() -> None:
    for name in EXTRA:
        if os.environ.get("STUDIO_REQUIRE_LOCAL"):  # CI installs the extra: missing is a failure
            __import__(name)
        else:
            pytest.importorskip(name, reason=f"the local extra is not installed ({name})")


@pytest.fixture(scope="session", autouse=True)
def no_downloads() -> Iterator[None]:
    """Nothing here may reach the hub: a model id that is not a folder must fail fast."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        yield


@pytest.fixture(scope="session")
def tiny(local_extra, tmp_path_factory) -> dict[str, str]:
    """{task: folder} for summarize, ner, caption, chat, image, plus "silent" (a chat model that
    ends its turn at once) and "base" (a causal LM without a chat template)."""
    from tests.local import tiny_models as builders

    root = tmp_path_factory.mktemp("tiny-models")
    folders = {task: str(path) for task, path in builders.build_all(root).items()}
    folders["silent"] = str(builders.build_chat(root / "tiny-silent", silent=True))
    folders["base"] = str(builders.build_chat(root / "tiny-base", chat_template=False))
    return folders


@pytest.fixture
def project_env() -> dict[str, str]:
    """Environment for a subprocess that imports studio from this checkout."""
    path = os.pathsep.join([str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path.rstrip(os.pathsep)}
