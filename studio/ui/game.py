"""The describe-and-generate game: caption a picture, paint the caption, and again, for rounds."""

from __future__ import annotations

import io
from collections.abc import Collection, Iterator
from typing import Any

import gradio as gr
from PIL import Image

from studio.config import Config
from studio.tasks.game import MAX_ROUNDS, MIN_ROUNDS, play_rounds
from studio.tasks.images import (
    RANDOM_SEED,
    ImageRequest,
    looks_blank,
    make_image_request,
    prepare_upload,
    resolve_seed,
)
from studio.ui.caption import EXAMPLES, caption_image, caption_uploaded, prepare, upload_input
from studio.ui.common import require_setup, setup_notice, shows_errors
from studio.ui.imagine import BLANK_WARNING, generate_picture, save_png, settings_line

RULES = (
    "Upload a picture, **Caption** it (edit the caption if you like), then **Generate image** "
    "from the caption, or do both at once. **Play rounds** goes on: it captions each new picture "
    "and paints that caption again, so you can watch the picture drift from model to model. "
    "The gallery shows each round's picture with its seed and the caption it was painted from."
)


def build(config: Config, served: Collection[str] = ()) -> None:
    """The game's tab; `served` names the tabs in the same app. With the Caption and Imagine
    tabs there, their /caption and /generate_image are the API; without them, the game's are."""
    caption_endpoint = config.endpoint("caption")
    image_endpoint = config.endpoint("image")
    setup_notice(config, "caption")
    setup_notice(config, "image")
    latest = gr.State(None)  # the generated picture's settings, shown under it
    gr.Markdown(RULES)
    with gr.Row():
        with gr.Column():
            upload = upload_input("Your picture", height=320, elem_id="game-image")
            gr.Examples(EXAMPLES, inputs=[upload], label="Example photos", elem_id="game-examples")
        with gr.Column():
            caption = gr.Textbox(
                label="Caption",
                info="Edit it before generating if you like.",
                lines=3,
                elem_id="game-caption",
            )
            with gr.Row():
                caption_button = gr.Button("Caption")
                generate_button = gr.Button("Generate image")
            both_button = gr.Button("Caption and generate", variant="primary")
            seed = gr.Number(
                RANDOM_SEED,
                label="Seed (-1: random); rounds use it, then the next seeds",
                precision=0,
            )
        with gr.Column():
            generated = gr.Image(
                label="Generated image",
                type="filepath",
                format="png",
                interactive=False,
                buttons=["download", "fullscreen"],
                height=320,
                elem_id="game-generated",
            )
            settings = gr.Textbox(
                label="How it was made", interactive=False, elem_id="game-settings"
            )
    with gr.Row(equal_height=True):
        rounds = gr.Slider(MIN_ROUNDS, MAX_ROUNDS, value=3, step=1, label="Rounds", scale=3)
        play_button = gr.Button("Play rounds", variant="primary", scale=1)
        stop_button = gr.Button("Stop", variant="stop", scale=1)
    gallery = gr.Gallery(
        label="Rounds",
        columns=MAX_ROUNDS,
        fit_columns=False,
        height=320,
        object_fit="contain",
        interactive=False,
        elem_id="game-rounds",
    )

    uploads = upload.GRADIO_CACHE  # where Gradio keeps uploads and examples

    def require_both() -> None:
        require_setup(config, "caption")
        require_setup(config, "image")

    def caption_picture(picture: Image.Image) -> str:
        prepared = prepare_upload(picture, max_side=config.max_image_side)
        return caption_image(caption_endpoint, prepared)

    def round_request(prompt: str, seed: int) -> ImageRequest:
        return make_image_request(prompt, seed=seed)  # the course's defaults, the round's seed

    def paint(request: ImageRequest) -> tuple[str, dict[str, Any]]:
        return keep(generate_picture(image_endpoint, request), request)

    def keep(picture: Image.Image, request: ImageRequest) -> tuple[str, dict[str, Any]]:
        if looks_blank(picture):
            gr.Warning(BLANK_WARNING)
        path = save_png(picture, request, model=image_endpoint.model, folder=generated.GRADIO_CACHE)
        return path, {"seed": request.seed, "settings": settings_line(request, picture)}

    @shows_errors
    def caption_upload(image: dict | None) -> str:
        return caption_uploaded(config, image, uploads)

    @shows_errors
    def generate_from_caption(text: str, seed: float | None = RANDOM_SEED):
        """Paint the caption. As the API's /generate_image (no Imagine tab in the app) it takes
        only (prompt, seed), with the default settings for the rest."""
        request = make_image_request(text, seed=seed)
        require_setup(config, "image")
        return paint(request)

    @shows_errors
    def caption_and_generate(image: dict | None, seed: float | None = RANDOM_SEED) -> Iterator:
        prepared = prepare(config, image, uploads)
        seed = resolve_seed(seed)  # a bad seed is refused before any model is asked
        require_both()
        text = caption_image(caption_endpoint, prepared)
        yield text, gr.skip(), gr.skip()  # the caption shows while the picture is painted
        path, record = paint(make_image_request(text, seed=seed))
        yield text, path, record

    @shows_errors
    def play(
        image: dict | None,
        rounds: float = 3,
        seed: float | None = RANDOM_SEED,
        progress: gr.Progress = gr.Progress(),
    ) -> Iterator[list[tuple[str, str]]]:
        prepared = prepare(config, image, uploads)
        start = Image.open(io.BytesIO(prepared.jpeg))
        game = play_rounds(
            start,
            rounds,
            caption_picture,
            lambda prompt, round_seed: generate_picture(
                image_endpoint, round_request(prompt, round_seed)
            ),
            seed=seed,
        )  # checks the rounds and seed now, before any model is asked
        require_both()
        total = int(rounds)
        shown: list[tuple[str, str]] = []
        progress((0, total), desc="Round 1: captioning, then painting", unit="rounds")
        for played in game:
            path, _ = keep(played.image, round_request(played.caption, played.seed))
            shown.append((path, played.label))
            if played.number < total:
                progress((played.number, total), desc=f"Round {played.number + 1}", unit="rounds")
            yield shown

    def show_settings(record: dict[str, Any]) -> str:
        return record["settings"]

    def api(name: str, owner: str) -> dict[str, str]:
        # One name per app: the owning tab's event has it when that tab is served too.
        return {"api_visibility": "private"} if owner in served else {"api_name": name}

    # preprocess=False: the upload reaches prepare_upload as a file, whatever it holds, so a
    # file that is not an image or is too large gets our message; numbers are checked by us too.
    captioning = caption_button.click(
        caption_upload,
        inputs=upload,
        outputs=caption,
        preprocess=False,
        **api("caption", "caption"),
    )
    generating = gr.on(
        [generate_button.click, caption.submit],
        generate_from_caption,
        inputs=[caption, seed],
        outputs=[generated, latest],
        preprocess=False,
        **api("generate_image", "imagine"),
    )
    both = both_button.click(
        caption_and_generate,
        inputs=[upload, seed],
        outputs=[caption, generated, latest],
        api_name="caption_and_generate",
        preprocess=False,
    )
    playing = play_button.click(
        play,
        inputs=[upload, rounds, seed],
        outputs=gallery,
        api_name="play_rounds",
        preprocess=False,
    )
    for event in (generating, both):
        event.success(show_settings, inputs=latest, outputs=settings, api_visibility="private")
    stop_button.click(None, cancels=[captioning, generating, both, playing])
