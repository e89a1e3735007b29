"""Cost of the local backend: load time, request latency and memory, per task.

Builds the tests' tiny random models, sends each task through studio.local as the app would,
and prints per model: the load time, the first request (which loads), the median and fastest
of N more, and the process's peak resident memory once all five are loaded.

--full-size builds random models with the default models' architectures and sizes instead
(distilbart-cnn-12-6, bert-base-NER, blip-image-captioning-base, sd-turbo, Qwen2.5-0.5B):
the answers are noise, but the time and memory are what the real weights would cost. It needs
about 10 GB of disk and memory and a few minutes. --use TASK=MODEL measures a model you have
(a cached hub id or a folder) instead of the built one.

    python -m bench.local_models [--requests 20] [--full-size] [--device cpu] [--use TASK=MODEL]
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import resource
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ARTICLE = (
    "John said the city river report was new today . Mary and Peter were in Paris with the "
    "team from Google , and the game was big news in London this week . "
) * 8


# The default models' architectures (from their published configs), for --full-size.
FULL_SIZE = {
    "summarize": {  # sshleifer/distilbart-cnn-12-6
        "config": dict(
            vocab_size=50264,
            d_model=1024,
            encoder_layers=12,
            decoder_layers=6,
            encoder_attention_heads=16,
            decoder_attention_heads=16,
            encoder_ffn_dim=4096,
            decoder_ffn_dim=4096,
            max_position_embeddings=1024,
        )
    },
    "ner": {  # dslim/bert-base-NER
        "config": dict(
            vocab_size=28996,
            hidden_size=768,
            num_hidden_layers=12,
            num_attention_heads=12,
            intermediate_size=3072,
            max_position_embeddings=512,
        )
    },
    "caption": {  # Salesforce/blip-image-captioning-base
        "text": dict(
            vocab_size=30524,
            hidden_size=768,
            encoder_hidden_size=768,
            intermediate_size=3072,
            num_hidden_layers=12,
            num_attention_heads=12,
            max_position_embeddings=512,
        ),
        "vision": dict(
            hidden_size=768,
            intermediate_size=3072,
            num_hidden_layers=12,
            num_attention_heads=12,
            image_size=384,
            patch_size=16,
        ),
    },
    "image": {  # stabilityai/sd-turbo (the Stable Diffusion 2.1 architecture)
        "unet": dict(
            sample_size=64,
            block_out_channels=(320, 640, 1280, 1280),
            layers_per_block=2,
            down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
            up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
            cross_attention_dim=1024,
            attention_head_dim=(5, 10, 20, 20),
            use_linear_projection=True,
            norm_num_groups=32,
        ),
        "vae": dict(
            block_out_channels=(128, 256, 512, 512),
            layers_per_block=2,
            down_block_types=("DownEncoderBlock2D",) * 4,
            up_block_types=("UpDecoderBlock2D",) * 4,
            norm_num_groups=32,
            sample_size=512,
        ),
        "text_encoder": dict(
            vocab_size=49408,
            hidden_size=1024,
            intermediate_size=4096,
            num_attention_heads=16,
            num_hidden_layers=23,
            projection_dim=1024,
            hidden_act="gelu",
        ),
    },
    "chat": {  # Qwen/Qwen2.5-0.5B-Instruct
        "config": dict(
            vocab_size=151936,
            hidden_size=896,
            intermediate_size=4864,
            num_hidden_layers=24,
            num_attention_heads=14,
            num_key_value_heads=2,
            max_position_embeddings=32768,
            tie_word_embeddings=True,
            rope_theta=1000000.0,
        )
    },
}


def peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes there, KiB here


def png_bytes() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (384, 256), (200, 40, 90)).save(buffer, format="PNG")
    return buffer.getvalue()


def requests_by_task(
    models: dict[str, str], device: str, image_side: int
) -> dict[str, Callable[[], object]]:
    """One representative request per task, as the UI would send it."""
    import studio.local as local

    image = png_bytes()

    def chat() -> str:
        body = {"messages": [{"role": "user", "content": "Hello!"}], "max_tokens": 16}
        chunks = local.stream_chat(models["chat"], body, threading.Event(), device=device)
        return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)

    return {
        "summarize": lambda: local.complete(
            "summarize", models["summarize"], ARTICLE, {"max_length": 40}, device=device
        ),
        "ner": lambda: local.complete("ner", models["ner"], ARTICLE, device=device),
        "caption": lambda: local.complete(
            "caption", models["caption"], image, {"max_new_tokens": 20}, device=device
        ),
        "image": lambda: local.complete(
            "image",
            models["image"],
            "a red cat in the sun",
            {"num_inference_steps": 1, "width": image_side, "height": image_side, "seed": 1},
            device=device,
        ),
        "chat": chat,
    }


def measure(send: Callable[[], object], count: int) -> tuple[float, list[float]]:
    """Seconds for the first request (which loads the model), then each of `count` more."""
    started = time.perf_counter()
    send()
    first = time.perf_counter() - started
    times = []
    for _ in range(count):
        started = time.perf_counter()
        send()
        times.append(time.perf_counter() - started)
    return first, times


def build(root: str, full_size: bool) -> None:
    from tests.local.tiny_models import build_all

    build_all(Path(root), FULL_SIZE if full_size else None)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, help="timed requests per model (20, or 5 full)")
    parser.add_argument("--device", default="cpu", help="auto, cpu, cuda or mps")
    parser.add_argument(
        "--full-size", action="store_true", help="random models as big as the default ones"
    )
    parser.add_argument(
        "--use",
        action="append",
        default=[],
        metavar="TASK=MODEL",
        help="measure this model (a cached hub id or a folder) instead of a built one",
    )
    args = parser.parse_args(argv)
    count = args.requests or (5 if args.full_size else 20)
    chosen = dict(choice.split("=", 1) for choice in args.use)
    kind = "random, full size" if args.full_size else "random, tiny"
    names = {task: chosen.get(task, kind) for task in FULL_SIZE}

    with tempfile.TemporaryDirectory() as scratch:
        # Built in another process, so building's memory does not count as this one's peak.
        builder = multiprocessing.get_context("spawn").Process(
            target=build, args=(scratch, args.full_size)
        )
        builder.start()
        builder.join()
        if builder.exitcode != 0:
            raise SystemExit("building the models failed")
        models = {task: chosen.get(task, str(Path(scratch) / task)) for task in FULL_SIZE}

        import diffusers  # noqa: F401  (imported first so the baseline counts the libraries)
        import torch  # noqa: F401
        import transformers  # noqa: F401

        import studio.local as local

        baseline = peak_rss_mib()
        # The tiny pipeline's VAE scales by 2, not 8: at 512x512 its UNet would work on 256x256
        # latents and take longer than the real model, so the tiny one draws 64x64.
        image_side = 512 if args.full_size or "image" in chosen else 64
        rows = []
        for task, send in requests_by_task(models, args.device, image_side).items():
            first, times = measure(send, count)
            loaded = next(m for m in local.status()["models"] if m["task"] == task)
            rows.append((task, names[task], loaded["load_seconds"], first, times))
        peak = peak_rss_mib()

    print(
        f"{'task':<10} {'model':<28} {'load s':>7} {'first s':>8} "
        f"{'median ms':>10} {'min ms':>8}  (n={count}, device={args.device})"
    )
    for task, name, load_seconds, first, times in rows:
        print(
            f"{task:<10} {name[:28]:<28} {load_seconds:>7.2f} {first:>8.2f} "
            f"{statistics.median(times) * 1000:>10.1f} {min(times) * 1000:>8.1f}"
        )
    print(
        f"peak RSS with all five loaded: {peak:.0f} MiB "
        f"(with the libraries imported, before any model: {baseline:.0f} MiB)"
    )


if __name__ == "__main__":
    main()
