"""Server CPU per caption of a 12-megapixel photo: the studio against a bare Gradio app that
forwards the uploaded bytes as they are.

Starts the local image server (tests/stand_ins/image_servers.py), then, one after the other:

    studio     `python -m studio --tabs caption`, as a teacher starts it: the upload is opened
               safely, turned upright, decoded at a JPEG scale and sent as a small JPEG
    bare       a Gradio app with one gr.Image(type="filepath") whose handler posts the file's
               bytes to the same server with requests (no studio code)

both running at once, and captions the same 4000x3000 JPEG N times through gradio_client on
each (after one untimed call), taking turns, so that a machine busy with other work slows both
alike; it reads each app process's CPU time from /proc around its own captions. Prints CPU ms
per caption, the ratio, and the bytes each sent upstream.

    python -m bench.caption_cpu [--runs 10]
"""

from __future__ import annotations

import argparse
import io
import os
import tempfile

import requests
from gradio_client import Client, handle_file
from PIL import Image, ImageDraw, ImageFilter

from bench.common import start_app, stop_app
from tests.conftest import start_studio, stop_studio
from tests.stand_ins.image_servers import ImageServer
from tests.stand_ins.servers import running

ROUTE = "/itt/models/bench"
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def photo(path: str) -> int:
    """A 4000x3000 JPEG with a photo's texture (3-4 MB), written to `path`; its size."""
    image = Image.effect_noise((4000, 3000), 40).convert("RGB")
    draw = ImageDraw.Draw(image)
    for i in range(0, 4000, 250):
        draw.ellipse((i, i % 3000, i + 600, (i % 3000) + 400), fill=(i % 255, 90, 160))
    image = image.filter(ImageFilter.GaussianBlur(1.2))
    image.save(path, "JPEG", quality=92)
    return os.path.getsize(path)


def serve_bare(port: int, target: str) -> None:
    import gradio as gr

    def caption(path: str) -> str:
        with open(path, "rb") as file:
            data = file.read()
        answer = requests.post(target, data=data, headers={"Content-Type": "image/jpeg"})
        return answer.json()[0]["generated_text"]

    with gr.Blocks() as app:
        image = gr.Image(type="filepath")
        text = gr.Textbox()
        gr.Button().click(caption, image, text, api_name="caption")
    app.launch(server_port=port, prevent_thread_lock=False, quiet=True)


def measure(apps: dict[str, tuple[int, str]], path: str, runs: int) -> dict[str, float]:
    """CPU ms of each app's process per caption, after one untimed caption; the apps take turns
    caption by caption, each timed around its own."""
    clients = {name: Client(url, verbose=False) for name, (_, url) in apps.items()}
    spent = dict.fromkeys(apps, 0.0)
    for client in clients.values():
        client.predict(handle_file(path), api_name="/caption")
    for _ in range(runs):
        for name, client in clients.items():
            before = cpu_seconds(apps[name][0])
            client.predict(handle_file(path), api_name="/caption")
            spent[name] += cpu_seconds(apps[name][0]) - before
    return {name: seconds * 1000 / runs for name, seconds in spent.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--serve-bare", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--target", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        return serve_bare(args.serve_bare, args.target)
    path = os.path.join(tempfile.mkdtemp(), "photo.jpg")
    size = photo(path)
    with running(ImageServer()) as server:
        target = server.url + ROUTE
        env = {"HF_API_ITT_BASE": target, "STUDIO_TIMEOUT": "60"}
        process, url = start_studio(env, "--tabs", "caption")
        try:
            bare_process, bare_url = start_app("bench.caption_cpu", "--target", target)
            try:
                apps = {"studio": (process.pid, url), "bare": (bare_process.pid, bare_url)}
                cpu = measure(apps, path, args.runs)
            finally:
                stop_app(bare_process)
        finally:
            stop_studio(process)
        studio, bare = cpu["studio"], cpu["bare"]
        studio_bytes, bare_bytes = (len(server.requests[i].body) for i in (-2, -1))
    sent = Image.open(io.BytesIO(server.requests[0].body)).size
    print(f"4000x3000 JPEG of {size / 1e6:.1f} MB, {args.runs} captions each, server CPU:")
    print(f"  studio  {studio:6.1f} ms per caption, sends {studio_bytes / 1000:7.1f} KB {sent}")
    print(f"  bare    {bare:6.1f} ms per caption, sends {bare_bytes / 1000:7.1f} KB (as uploaded)")
    print(f"  studio / bare = {studio / bare:.2f}x CPU, {studio_bytes / bare_bytes:.3f}x bytes")


if __name__ == "__main__":
    main()
