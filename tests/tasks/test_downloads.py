"""A local model's first download, with its progress in bytes and percent: the line, which
files a loader needs, and a download from a stand-in for the Hub's file routes (no network)."""

from __future__ import annotations

import asyncio
import itertools
import os
import threading

import pytest

from studio.local import download
from studio.tasks.downloads import download_line, files_to_fetch, human_bytes, percent
from studio.ui.common import notify_progress
from studio.ui.waiting import on_page
from tests.stand_ins.hub_server import SHA, HubServer
from tests.stand_ins.servers import running

REPO = "studio-test/some-model"


@pytest.mark.parametrize(
    ("count", "shown"),
    [
        (0, "0 B"),
        (999, "999 B"),
        (1000, "1.0 kB"),
        (3_400_000, "3.4 MB"),
        (9_960_000, "10 MB"),
        (312_000_000, "312 MB"),
        (999_999_999, "1.0 GB"),
        (1_200_000_000, "1.2 GB"),
    ],
)
def test_sizes_are_in_decimal_units_with_three_figures_at_most(count, shown):
    assert human_bytes(count) == shown


def test_the_line_says_the_model_the_bytes_and_the_percent_rounded_down():
    line = download_line("sshleifer/distilbart-cnn-12-6", 312_000_000, 1_200_000_000)
    assert line == "Downloading sshleifer/distilbart-cnn-12-6: 312 MB of 1.2 GB (26%)"
    assert percent(1_199_999_999, 1_200_000_000) == 99  # 100 only when every byte is there
    assert percent(5, 0) == 100


def test_a_loader_gets_configs_tokenizers_and_one_format_of_weights():
    names = [
        "config.json", "tokenizer.json", "vocab.txt", "spiece.model", "README.md",
        "model.safetensors", "pytorch_model.bin", "tf_model.h5", "flax_model.msgpack",
        "rust_model.ot", "onnx/model.onnx", "model.fp16.safetensors", "demo.png",
    ]  # fmt: skip
    assert files_to_fetch(names) == [
        "config.json", "tokenizer.json", "vocab.txt", "spiece.model", "README.md",
        "model.safetensors",
    ]  # fmt: skip
    assert files_to_fetch(["config.json", "pytorch_model.bin"]) == [
        "config.json",
        "pytorch_model.bin",
    ]


def test_a_pipeline_gets_its_components_not_the_checkpoint_beside_them():
    names = [
        "model_index.json", "sd_turbo.safetensors", "unet/config.json",
        "unet/diffusion_pytorch_model.safetensors", "unet/diffusion_pytorch_model.fp16.safetensors",
        "vae/diffusion_pytorch_model.safetensors", "vae/diffusion_pytorch_model.bin",
        "text_encoder/model.safetensors", "tokenizer/vocab.json",
    ]  # fmt: skip
    assert files_to_fetch(names) == [
        "model_index.json", "unet/config.json", "unet/diffusion_pytorch_model.safetensors",
        "vae/diffusion_pytorch_model.safetensors", "text_encoder/model.safetensors",
        "tokenizer/vocab.json",
    ]  # fmt: skip


# --- downloading from a stand-in for the Hub -----------------------------------------------------

SIZES = {
    "config.json": 700,
    "tokenizer.json": 50_000,
    "model.safetensors": 200_000,
    "tf_model.h5": 30_000,  # not for us
    "model.fp16.safetensors": 30_000,  # a variant nobody asked for
}


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """The stand-in at HF_ENDPOINT, with a cache of this test's own."""
    from huggingface_hub import constants

    folder = tmp_path / "repo"
    folder.mkdir()
    for name, size in SIZES.items():
        (folder / name).write_bytes(os.urandom(size))
    with running(HubServer(repos={REPO: folder})) as server:
        monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "cache"))
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
        # huggingface_hub reads 10 MiB at a time, more than these files: read them in pieces
        monkeypatch.setattr(constants, "DOWNLOAD_CHUNK_SIZE", 16_384)
        yield server


def test_a_download_is_told_from_nothing_to_every_byte(hub, tmp_path):
    lines: list[str] = []
    ticks = itertools.count(0, 10.0)  # a clock that lets every change of percent through
    download.fetch(REPO, lines.append, hub=hub.url, clock=lambda: next(ticks))

    total = 700 + 50_000 + 200_000
    assert lines[0] == f"Downloading {REPO}: 0 B of 251 kB (0%)"
    assert lines[-1] == f"Downloading {REPO}: 251 kB of 251 kB (100%)"
    shares = [int(line.rpartition("(")[2].rstrip("%)")) for line in lines]
    assert len(lines) > 3 and shares == sorted(set(shares))  # it moved, never back
    fetched = {path.rpartition("/")[2] for method, path in hub.requests if method == "GET"}
    assert fetched >= {"config.json", "tokenizer.json", "model.safetensors"}
    assert not fetched & {"tf_model.h5", "model.fp16.safetensors"}
    snapshot = tmp_path / "cache" / "models--studio-test--some-model" / "snapshots" / SHA
    assert sum(f.stat().st_size for f in snapshot.iterdir()) == total


def test_lines_come_at_most_once_per_interval_and_a_cached_model_is_silent(hub):
    lines: list[str] = []
    download.fetch(REPO, lines.append, hub=hub.url, clock=lambda: 0.0)  # time stands still
    assert [line.rpartition("(")[2] for line in lines] == ["0%)", "100%)"]
    asked = len(hub.requests)
    again: list[str] = []
    download.fetch(REPO, again.append, hub=hub.url)
    assert again == [] and len(hub.requests) == asked  # from the cache, asking nothing


def test_a_repository_the_hub_does_not_have_is_reported_before_any_download(hub):
    lines: list[str] = []
    with pytest.raises(download.HubFailure) as failure:
        download.fetch("studio-test/not-there", lines.append, hub=hub.url)
    assert failure.value.kind == "missing" and lines == []


def test_the_status_line_shows_the_latest_progress_of_the_work():
    """A page event's work that reports progress: the status line carries it as its note."""
    halfway_shown = threading.Event()

    def work() -> str:
        notify_progress(download_line(REPO, 0, 1_000_000))
        notify_progress(download_line(REPO, 500_000, 1_000_000))
        halfway_shown.wait(30)  # the work goes on waiting until the line has told it
        return "done"

    async def shown() -> list[str]:
        handler = on_page(work, 1, doing="Summarizing", limit=None, where="test", tick=0.01)
        statuses = []
        async for update in handler():
            statuses.append(update[-1])
            if "(50%)" in update[-1]:
                halfway_shown.set()
        return statuses

    statuses = asyncio.run(shown())
    noted = [s for s in statuses if "Downloading" in s]
    assert noted and f"Downloading {REPO}: 500 kB of 1.0 MB (50%)" in noted[-1]
    assert "class='note'" in noted[-1] and "slow to answer" not in noted[-1]
    assert "Done in" in statuses[-1]
