"""The page's game with its card and code: the panel empties as a game starts, so that a game
stopped halfway never shows the last one's code, and fills with its last round's two requests
(the caption, then the picture) when it ends."""

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


def play_with_code(
    config: Config,
    folder: str,
    image: dict | None,
    rounds: float,
    seed,
    *,
    caller: Caller | None = None,
):
    """The page's game (the cards as `play_on_cards` fills them), then the card and code of its
    last round: /play_rounds with the same photo, rounds and first seed."""
    calls: list = []
    panel = empty_panel()  # the first update empties the panel; the others leave it
    for step in game.play_on_cards(config, folder, image, rounds, seed, calls, caller):
        if isinstance(step, Doing):
            yield step
            continue
        yield (*step, *panel)
        panel = (gr.skip(),) * len(panel)
    yield *RoundCards.updates({}), *_game_code(config, calls, ROUNDS.read(rounds))


def _game_code(config: Config, calls: list, rounds) -> tuple:
    """The panel of a game made by `calls`: its card (the caption's request and the
    pictures'), and the /play_rounds call that plays it again from the first seed."""
    seeds = [call.seed for call in calls if call.seed is not None]
    last = calls[-2:]  # the last round: its caption, then its picture
    settings = ""
    if last and last[-1].seed is not None:
        settings = describe(game.picture_request(config, last[-1].inputs, last[-1].seed))
    args = [photo(), rounds, seeds[0] if seeds else -1]
    return panel_values(config, TITLE, calls, "/play_rounds", args, settings=settings, stream=True)
