"""A model's first download, as a person follows it: which of a repository's files a local
model needs, and the line that says how far the download is ("Downloading
sshleifer/distilbart-cnn-12-6: 312 MB of 1.2 GB (26%)"). Pure: the hub is asked elsewhere
(`studio.local.download`)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePosixPath

UNITS = ("B", "kB", "MB", "GB", "TB")
WEIGHTS = (".safetensors", ".bin", ".pt", ".pth")
# Files for other libraries and runtimes, and pictures for the model card: never loaded here.
OTHER_FORMATS = (
    ".h5", ".msgpack", ".ot", ".onnx", ".onnx_data", ".tflite", ".gguf", ".pb", ".mlmodel",
    ".ckpt", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".mp4",
)  # fmt: skip
OTHER_FOLDERS = {"onnx", "openvino", "coreml", "tf", "flax", "mlx"}
# Precision variants (unet/diffusion_pytorch_model.fp16.safetensors): loaded only when asked.
VARIANT = re.compile(r"\.(fp16|fp32|bf16|fp8|int8|non_ema|ema)[.-]")


def human_bytes(count: float) -> str:
    """Decimal units as download tools show them: 512 B, 3.4 MB, 312 MB, 1.2 GB."""
    value, unit = float(count), 0
    while unit < len(UNITS) - 1 and round(value, 1 if value < 10 else 0) >= 1000:
        value, unit = value / 1000, unit + 1
    if unit == 0:
        return f"{int(value)} B"
    return f"{value:.1f} {UNITS[unit]}" if round(value, 1) < 10 else f"{value:.0f} {UNITS[unit]}"


def percent(done: int, total: int) -> int:
    """Whole percent, rounded down: 100 only when every byte is there."""
    if total <= 0:
        return 100
    return min(100, done * 100 // total)


def download_line(model: str, done: int, total: int) -> str:
    return (
        f"Downloading {model}: {human_bytes(done)} of {human_bytes(total)} "
        f"({percent(done, total)}%)"
    )


def files_to_fetch(names: Iterable[str]) -> list[str]:
    """The files of a repository that transformers or diffusers load: configs, tokenizers and
    the weights in one format (safetensors where a folder has them), in no precision variant;
    for a diffusers pipeline (model_index.json), only its components' weights, not the single
    checkpoint beside them. What this leaves out and a loader still wants, it downloads itself.
    """
    names = list(names)
    pipeline = "model_index.json" in names
    kept = [name for name in names if _loadable(name, pipeline)]
    with_safetensors = {_folder(n) for n in kept if n.endswith(".safetensors")}
    return [
        name for name in kept if _folder(name) not in with_safetensors or not _pickled_weights(name)
    ]


def _loadable(name: str, pipeline: bool) -> bool:
    path = PurePosixPath(name)
    if path.parts[0] in OTHER_FOLDERS or name.lower().endswith(OTHER_FORMATS):
        return False
    if name.endswith(WEIGHTS) and VARIANT.search(path.name):
        return False
    return not (pipeline and len(path.parts) == 1 and name.endswith(WEIGHTS))


def _pickled_weights(name: str) -> bool:
    return name.endswith((".bin", ".pt", ".pth", ".bin.index.json"))


def _folder(name: str) -> str:
    return str(PurePosixPath(name).parent)
