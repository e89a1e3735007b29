"""Where a model in this process runs (STUDIO_DEVICE) and in which precision. torch is imported
only when asked, so `studio.local` imports fast without the extra."""

from __future__ import annotations

from typing import Any

from studio.errors import ConfigurationError


def resolve_device(device: str) -> str:
    """Turn "auto" into cuda, mps or cpu; check that a forced device exists."""
    import torch

    wanted = (device or "auto").strip().lower()
    cuda_ok = torch.cuda.is_available()
    mps_ok = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    if wanted == "auto":
        return "cuda" if cuda_ok else "mps" if mps_ok else "cpu"
    if wanted == "cpu":
        return "cpu"
    if wanted.startswith("cuda"):
        if not cuda_ok:
            raise ConfigurationError(
                f"STUDIO_DEVICE is {device!r} but torch sees no CUDA GPU (no driver, or a "
                "CPU-only torch build). Set STUDIO_DEVICE to auto or cpu."
            )
        return wanted
    if wanted == "mps":
        if not mps_ok:
            raise ConfigurationError(
                "STUDIO_DEVICE is 'mps' but this machine has no Apple GPU that torch can use. "
                "Set STUDIO_DEVICE to auto or cpu."
            )
        return "mps"
    raise ConfigurationError(
        f"STUDIO_DEVICE is {device!r}; use auto, cpu, cuda (or cuda:N) or mps."
    )


def model_dtype(device: str, *, half_on_gpu: bool = False) -> Any:
    """float32 on CPU (half precision is slow or unsupported there); on a GPU the checkpoint's
    own dtype, or float16 where asked (diffusion pipelines)."""
    import torch

    if device == "cpu":
        return torch.float32
    return torch.float16 if half_on_gpu else "auto"
