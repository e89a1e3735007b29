"""The describe-and-generate game's handlers: the rounds played on the page's cards, and the
API's names (one round, the rounds as a gallery, and, with no Caption or Imagine tab in the
app, a caption and a painting on their own). studio.ui.game builds and wires."""

from __future__ import annotations

import functools
import io
from collections.abc import Iterator
from typing import Any

import gradio as gr
from PIL import Image

from studio.classroom.gradio_internals import save_to_cache
from studio.classroom.usage import Caller
from studio.config import Config
from studio.services import caption_image, paint_picture, require_setup
from studio.tasks.game import ROUNDS, Captioned, Round, play_steps
from studio.tasks.image_settings import RANDOM_SEED, ImageRequest, make_image_request, resolve_seed
from studio.tasks.uploads import prepare_upload
from studio.ui.common import keep_picture, notify_progress, picture_model, prepare, shows_errors
from studio.ui.game_layout import (
    RoundCards,
    captioned_card,
    captioning_card,
    original_card,
    painted_card,
)
from studio.ui.waiting import Doing


def _require_both(config: Config) -> None:
    require_setup(config, "caption")
    require_setup(config, "image")


def _caption(
    config: Config, picture: Image.Image, calls: list | None = None, caller: Caller | None = None
) -> str:
    prepared = prepare_upload(picture, max_side=config.max_image_side)
    endpoint = config.endpoint("caption")
    return caption_image(endpoint, prepared, progress=notify_progress, calls=calls, caller=caller)


def _paint(
    config: Config, prompt: str, seed: int, calls: list | None = None, caller: Caller | None = None
) -> Image.Image:
    request = picture_request(config, prompt, seed)
    endpoint = config.endpoint("image")
    return paint_picture(endpoint, request, progress=notify_progress, calls=calls, caller=caller)


def picture_request(config: Config, prompt: str, seed: float | None) -> ImageRequest:
    """The game's painting: the image model's own steps and guidance, and the round's seed."""
    return make_image_request(prompt, seed=seed, model=picture_model(config))


def _keep(
    config: Config, folder: str, picture: Image.Image, request: ImageRequest
) -> tuple[str, dict[str, Any]]:
    return keep_picture(picture, request, model=config.endpoint("image").model, folder=folder)


@shows_errors
def generate_from_caption(
    config: Config,
    folder: str,
    text: str,
    seed: float | None = RANDOM_SEED,
    *,
    caller: Caller | None = None,
) -> tuple[str, dict[str, Any]]:
    """Make a picture from a text prompt with a text-to-image model, with its own settings.

    As the API's /generate_image (no Imagine tab in the app) it paints the caption and takes
    only (prompt, seed).

    Args:
        text: the prompt: what the picture shows, in English
        seed: the random seed, 0 to 4294967295, for the same picture again; -1: a random one

    Returns:
        the picture, as a PNG with its settings inside
    """
    request = picture_request(config, text, seed)
    require_setup(config, "image")
    picture = _paint(config, request.prompt, request.seed, caller=caller)
    return _keep(config, folder, picture, request)


@shows_errors
def caption_and_generate(
    config: Config,
    folder: str,
    image: dict | None,
    seed: float | None = RANDOM_SEED,
    *,
    caller: Caller | None = None,
) -> Iterator:
    """One round of describe-and-generate: caption a photo, then paint a picture of the caption.

    Args:
        image: an image: an http(s) URL or a data: URL (base64), or a file uploaded to the studio
        seed: the painting's random seed, 0 to 4294967295; -1: a random one

    Returns:
        the caption, then the picture painted from it
    """
    seed = resolve_seed(seed)  # a bad seed is refused before anything else is done
    prepared = prepare(config, image, folder)
    _require_both(config)
    endpoint = config.endpoint("caption")
    text = caption_image(endpoint, prepared, progress=notify_progress, caller=caller)
    yield text, gr.skip(), gr.skip()  # the caption comes while the picture is painted
    request = picture_request(config, text, seed)
    path, record = _keep(config, folder, _paint(config, text, seed, caller=caller), request)
    yield text, path, record


def start_game(
    config: Config,
    folder: str,
    image: dict | None,
    rounds,
    seed,
    calls=None,
    caller: Caller | None = None,
):
    """The upload prepared, the game's steps, and how many rounds: the rounds and seed are
    checked now, before any model is asked."""
    count = ROUNDS.read(rounds)
    prepared = prepare(config, image, folder)
    steps = play_steps(
        Image.open(io.BytesIO(prepared.jpeg)),
        count,
        functools.partial(_caption, config, calls=calls, caller=caller),
        functools.partial(_paint, config, calls=calls, caller=caller),
        seed=seed,
    )
    _require_both(config)
    return prepared, steps, count


def keep_round(config: Config, folder: str, played: Round) -> str:
    request = picture_request(config, played.caption, played.seed)
    return _keep(config, folder, played.image, request)[0]


@shows_errors
def play(
    config: Config,
    folder: str,
    image: dict | None,
    rounds: float = 3,
    seed: float | None = RANDOM_SEED,
    progress: gr.Progress = gr.Progress(),
    *,
    caller: Caller | None = None,
) -> Iterator[list[tuple[str, str]]]:
    """Play describe-and-generate: caption a photo, paint the caption, caption that painting,
    and so on, to see how a picture drifts from round to round.

    The API's /play_rounds (and the MCP tool play_rounds): the gallery of rounds so far, after
    each round.

    Args:
        image: an image: an http(s) URL or a data: URL (base64), or a file uploaded to the studio
        rounds: how many rounds to play, 1 to 5
        seed: the first painting's random seed, 0 to 4294967295 (each round adds 1); -1: random

    Returns:
        each round's painting with its caption
    """
    _, steps, total = start_game(config, folder, image, rounds, seed, caller=caller)
    shown: list[tuple[str, str]] = []
    progress((0, total), desc="Round 1: captioning, then painting", unit="rounds")
    for played in steps:
        if isinstance(played, Round):
            shown.append((keep_round(config, folder, played), played.label))
            if played.number < total:
                progress((played.number, total), desc=f"Round {played.number + 1}", unit="rounds")
            yield shown


def play_on_cards(
    config: Config,
    folder: str,
    image: dict | None,
    rounds: float,
    seed,
    calls=None,
    caller: Caller | None = None,
):
    """The page's game: round 0 (the picture as the captioner sees it) at once, then each
    round's card as its caption and then its picture arrive."""
    prepared, steps, total = start_game(config, folder, image, rounds, seed, calls, caller)
    original = save_to_cache(prepared.jpeg, "round-0.jpg", folder)
    yield RoundCards.updates(original_card(original) | captioning_card(1))
    yield Doing(f"Round 1 of {total}: captioning your picture")
    for step in steps:
        if isinstance(step, Captioned):
            yield RoundCards.updates(captioned_card(step))
            yield Doing(f"Round {step.number} of {total}: painting the caption")
            continue
        painted = painted_card(step, keep_round(config, folder, step))
        if step.number < total:
            yield RoundCards.updates(painted | captioning_card(step.number + 1))
            yield Doing(f"Round {step.number + 1} of {total}: captioning round {step.number}")
        else:
            yield RoundCards.updates(painted)
