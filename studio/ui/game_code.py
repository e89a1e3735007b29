"""The game's answers with their card and code: Caption and generate shows both requests, Play
rounds the last round's two."""

from __future__ import annotations

import gradio as gr

from studio.classroom.usage import Caller
from studio.config import Config
from studio.snippets import photo
from studio.tasks.game import ROUNDS
from studio.tasks.image_settings import describe
from studio.ui import game_play as game
from studio.ui.code_panel import empty_panel, panel_values
from studio.ui.game_layout import RoundCards
from studio.ui.waiting import Doing

TITLE = "Describe and generate"


def both_with_code(
    config: Config,
    folder: str,
    image: dict | None,
    seed: float | None,
    *,
    caller: Caller | None = None,
):
    """The page's Caption and generate, then the card and code of both requests."""
    calls: list = []
    skip = (gr.skip(),) * len(empty_panel())
    for step in game.caption_then_paint(config, folder, image, seed, calls, caller):
        if isinstance(step, Doing):
            yield step
            continue
        painted = isinstance(step[1], str)  # the picture's path, not gr.skip() (a dict)
        code = _game_code(config, calls, "/caption_and_generate", step[3]) if painted else skip
        yield *step, *code


def _game_code(config: Config, calls: list, api_name: str, record: dict, *extra) -> tuple:
    seeds = [call.seed for call in calls if call.seed is not None]
    args = [photo(), *extra, seeds[0] if seeds else record["seed"]]
    stream = api_name == "/play_rounds"
    settings = record["settings"] if record else ""
    return panel_values(config, TITLE, calls, api_name, args, settings=settings, stream=stream)


def play_with_code(
    config: Config,
    folder: str,
    image: dict | None,
    rounds: float,
    seed,
    *,
    caller: Caller | None = None,
):
    """The page's game, then the card and code of its last round."""
    calls: list = []
    skip = (gr.skip(),) * len(empty_panel())
    for step in game.play_on_cards(config, folder, image, rounds, seed, calls, caller):
        yield step if isinstance(step, Doing) else (*step, *skip)
    last = calls[-2:]  # the last round: its caption, then its picture
    record = {"settings": "", "seed": None}
    if last and last[-1].seed is not None:
        record["settings"] = describe(game.picture_request(config, last[-1].inputs, last[-1].seed))
    played = ROUNDS.read(rounds)  # read as the game read it: text or a number, or the default
    yield *RoundCards.updates({}), *_game_code(config, calls, "/play_rounds", record, played)
