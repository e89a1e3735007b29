"""`python -m studio --prepare` and `--check` for models that run on this computer: before class
the models come from a stand-in for the Hub (HF_ENDPOINT) into an empty HF_HOME; afterwards,
with no network at all, the check says they are there and a tab answers from them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port
from tests.stand_ins.hub_server import HubServer
from tests.stand_ins.servers import running

SUMMARIZER = "studio-test/tiny-summarizer"
TAGGER = "studio-test/tiny-tagger"


def studio(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "studio", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT / "tests",  # no .env here
    )


@pytest.fixture
def room(project_env, tmp_path) -> dict[str, str]:
    """A studio that runs Summarize and Entities here, with an empty model cache."""
    return {
        **project_env,
        "STUDIO_LOCAL": "summarize,ner",
        "STUDIO_SUMMARY_MODEL": SUMMARIZER,
        "STUDIO_NER_MODEL": TAGGER,
        "HF_HOME": str(tmp_path / "hf-home"),
        "HF_HUB_OFFLINE": "0",
    }


def said(done: subprocess.CompletedProcess) -> str:
    """The output with wrapped paragraphs joined again."""
    return done.stdout.replace("\n  ", " ")


def fits_a_terminal(output: str) -> None:
    assert max(len(line) for line in output.splitlines()) <= 80, output


def test_prepare_downloads_each_model_then_the_room_works_offline(room, tiny):
    repos = {SUMMARIZER: Path(tiny["summarize"]), TAGGER: Path(tiny["ner"])}
    with running(HubServer(repos=repos)) as hub:
        done = studio("--prepare", "--tabs", "summarize,ner", env={**room, "HF_ENDPOINT": hub.url})
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert f"Summarize: {SUMMARIZER} needs " in out and f"Entities: {TAGGER} needs " in out
    assert "Downloading 2 models, " in out
    assert f"Downloading {SUMMARIZER}: " in out and "(100%)" in out
    assert out.count("ok: downloaded") == 2, out  # then the check's table
    fits_a_terminal(out)

    # In class: no network at all (nothing listens at HF_ENDPOINT), and downloads turned off.
    offline = {**room, "HF_ENDPOINT": f"http://127.0.0.1:{free_port()}", "HF_HUB_OFFLINE": "1"}
    check = studio("--check", "--tabs", "summarize,ner", env=offline)
    assert check.returncode == 0 and check.stdout.count("ok: downloaded") == 2, check.stdout
    answer = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import studio.local as l; print(l.complete('ner', {TAGGER!r}, 'Ann'))",
        ],
        env=offline,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert answer.returncode == 0 and answer.stdout.startswith("["), answer.stderr


def test_check_offline_says_no_with_the_size_and_the_command(room):
    env = {
        **room,
        "STUDIO_SUMMARY_MODEL": "sshleifer/distilbart-cnn-12-6",  # a default: its size is known
        "HF_ENDPOINT": f"http://127.0.0.1:{free_port()}",  # nothing listens: no network
    }
    done = studio("--check", "--tabs", "summarize,ner", env=env)
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert any(line.startswith("Summarize") and "NO: not downloaded" in line for line in lines)
    assert any(line.startswith("Entities") and "NO: not downloaded" in line for line in lines)
    assert "(about 1.2 GB)" in done.stdout and "cannot be reached" in done.stdout
    assert any("python -m studio --prepare" in line for line in lines)  # whole, to copy
    fits_a_terminal(done.stdout)

    downloads_off = studio("--check", "--tabs", "ner", env={**env, "HF_HUB_OFFLINE": "1"})
    assert "NO: not downloaded" in downloads_off.stdout
    assert "Unset HF_HUB_OFFLINE and run python -m studio --prepare" in said(downloads_off)


def test_check_with_the_hub_answering_says_what_the_first_use_downloads(room, tiny):
    with running(HubServer(repos={SUMMARIZER: Path(tiny["summarize"])})) as hub:
        done = studio("--check", "--tabs", "summarize", env={**room, "HF_ENDPOINT": hub.url})
    assert done.returncode == 0, done.stdout
    assert "ok: downloads " in done.stdout and " on first use" in done.stdout
    assert "Download it now, before class: python -m studio --prepare" in said(done)


def test_prepare_names_a_model_the_hub_does_not_have(room, tiny):
    with running(HubServer(repos={SUMMARIZER: Path(tiny["summarize"])})) as hub:
        done = studio("--prepare", "--tabs", "ner", env={**room, "HF_ENDPOINT": hub.url})
    assert done.returncode == 1
    assert f"The Hugging Face Hub has no model {TAGGER}" in said(done)
    assert "STUDIO_NER_MODEL" in said(done)
    assert "Traceback" not in done.stderr


def test_check_finds_a_download_that_was_cut_short(room, tiny, tmp_path):
    with running(HubServer(repos={SUMMARIZER: Path(tiny["summarize"])})) as hub:
        env = {**room, "HF_ENDPOINT": hub.url}
        assert studio("--prepare", "--tabs", "summarize", env=env).returncode == 0
        (weights,) = (tmp_path / "hf-home").rglob("snapshots/*/model.safetensors")
        # As if the laptop was closed during the download: the weights never arrived.
        weights.resolve().unlink()
        weights.unlink()
        done = studio("--check", "--tabs", "summarize", env=env)
    assert "ok: partly downloaded, " in done.stdout and " to go" in done.stdout, done.stdout
    assert "Finish it now, before class: python -m studio --prepare" in said(done)
