"""The describe-and-generate game: caption a picture, paint the caption, and again, for rounds."""

from __future__ import annotations

import functools
import io
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

import gradio as gr
from PIL import Image

from studio.config import Config
from studio.services import caption_image, paint_picture, require_setup
from studio.tasks.game import MAX_ROUNDS, MIN_ROUNDS, play_rounds
from studio.tasks.image_settings import RANDOM_SEED, ImageRequest, make_image_request, resolve_seed
from studio.tasks.uploads import prepare_upload
from studio.ui.common import (
    EXAMPLES,
    caption_uploaded,
    keep_picture,
    notify_progress,
    prepare,
    setup_notice,
    shows_errors,
    upload_input,
)

RULES = (
    "Upload a picture, **Caption** it (edit the caption if you like), then **Generate image** "
    "from the caption, or do both at once. **Play rounds** goes on: it captions each new picture "
    "and paints that caption again, so you can watch the picture drift from model to model. "
    "The gallery shows each round's picture with its seed and the caption it was painted from."
)


def _require_both(config: Config) -> None:
    require_setup(config, "caption")
    require_setup(config, "image")


def _caption(config: Config, picture: Image.Image) -> str:
    prepared = prepare_upload(picture, max_side=config.max_image_side)
    return caption_image(config.endpoint("caption"), prepared, progress=notify_progress)


def _paint(config: Config, prompt: str, seed: int) -> Image.Image:
    request = make_image_request(prompt, seed=seed)  # the course's defaults, the round's seed
    return paint_picture(config.endpoint("image"), request, progress=notify_progress)


def _keep(
    config: Config, folder: str, picture: Image.Image, request: ImageRequest
) -> tuple[str, dict[str, Any]]:
    return keep_picture(picture, request, model=config.endpoint("image").model, folder=folder)


@shows_errors
def caption_upload(config: Config, folder: str, image: dict | None) -> str:
    return caption_uploaded(config, image, folder)


@shows_errors
def generate_from_caption(
    config: Config, folder: str, text: str, seed: float | None = RANDOM_SEED
) -> tuple[str, dict[str, Any]]:
    """Paint the caption. As the API's /generate_image (no Imagine tab in the app) it takes
    only (prompt, seed), with the default settings for the rest."""
    request = make_image_request(text, seed=seed)
    require_setup(config, "image")
    return _keep(config, folder, _paint(config, request.prompt, request.seed), request)


@shows_errors
def caption_and_generate(
    config: Config, folder: str, image: dict | None, seed: float | None = RANDOM_SEED
) -> Iterator:
    prepared = prepare(config, image, folder)
    seed = resolve_seed(seed)  # a bad seed is refused before any model is asked
    _require_both(config)
    text = caption_image(config.endpoint("caption"), prepared, progress=notify_progress)
    yield text, gr.skip(), gr.skip()  # the caption shows while the picture is painted
    request = make_image_request(text, seed=seed)
    path, record = _keep(config, folder, _paint(config, text, seed), request)
    yield text, path, record


@shows_errors
def play(
    config: Config,
    folder: str,
    image: dict | None,
    rounds: float = 3,
    seed: float | None = RANDOM_SEED,
    progress: gr.Progress = gr.Progress(),
) -> Iterator[list[tuple[str, str]]]:
    prepared = prepare(config, image, folder)
    game = play_rounds(
        Image.open(io.BytesIO(prepared.jpeg)),
        rounds,
        functools.partial(_caption, config),
        functools.partial(_paint, config),
        seed=seed,
    )  # checks the rounds and seed now, before any model is asked
    _require_both(config)
    total = int(rounds)
    shown: list[tuple[str, str]] = []
    progress((0, total), desc="Round 1: captioning, then painting", unit="rounds")
    for played in game:
        request = make_image_request(played.caption, seed=played.seed)
        path, _ = _keep(config, folder, played.image, request)
        shown.append((path, played.label))
        if played.number < total:
            progress((played.number, total), desc=f"Round {played.number + 1}", unit="rounds")
        yield shown


def show_settings(record: dict[str, Any]) -> str:
    return record["settings"]


@dataclass(frozen=True)
class GamePage:
    """The game's components, for the event wiring."""

    upload: Any
    caption: Any
    caption_button: Any
    generate_button: Any
    both_button: Any
    seed: Any
    generated: Any
    settings: Any
    rounds: Any
    play_button: Any
    stop_button: Any
    gallery: Any
    latest: Any


def build(config: Config, served: Collection[str] = ()) -> None:
    """The game's tab; `served` names the tabs in the same app. With the Caption and Imagine
    tabs there, their /caption and /generate_image are the API; without them, the game's are."""
    setup_notice(config, "caption")
    setup_notice(config, "image")
    wire(layout(), config, served)


def layout() -> GamePage:
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
    return GamePage(
        upload=upload,
        caption=caption,
        caption_button=caption_button,
        generate_button=generate_button,
        both_button=both_button,
        seed=seed,
        generated=generated,
        settings=settings,
        rounds=rounds,
        play_button=play_button,
        stop_button=stop_button,
        gallery=gallery,
        latest=latest,
    )


def wire(page: GamePage, config: Config, served: Collection[str]) -> None:
    folder = page.upload.GRADIO_CACHE  # where Gradio keeps uploads, examples and our pictures

    def bound(handler):
        return functools.partial(handler, config, folder)

    def api(name: str, owner: str) -> dict[str, str]:
        # One name per app: the owning tab's event has it when that tab is served too.
        return {"api_visibility": "private"} if owner in served else {"api_name": name}

    # preprocess=False: the upload reaches prepare_upload as a file, whatever it holds, so a
    # file that is not an image or is too large gets our message; numbers are checked by us too.
    captioning = page.caption_button.click(
        bound(caption_upload),
        inputs=page.upload,
        outputs=page.caption,
        preprocess=False,
        **api("caption", "caption"),
    )
    generating = gr.on(
        [page.generate_button.click, page.caption.submit],
        bound(generate_from_caption),
        inputs=[page.caption, page.seed],
        outputs=[page.generated, page.latest],
        preprocess=False,
        **api("generate_image", "imagine"),
    )
    both = page.both_button.click(
        bound(caption_and_generate),
        inputs=[page.upload, page.seed],
        outputs=[page.caption, page.generated, page.latest],
        api_name="caption_and_generate",
        preprocess=False,
    )
    playing = page.play_button.click(
        bound(play),
        inputs=[page.upload, page.rounds, page.seed],
        outputs=page.gallery,
        api_name="play_rounds",
        preprocess=False,
    )
    for event in (generating, both):
        event.success(
            show_settings, inputs=page.latest, outputs=page.settings, api_visibility="private"
        )
    page.stop_button.click(None, cancels=[captioning, generating, both, playing])
