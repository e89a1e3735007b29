"""The game's layout: the photo beside the few controls a game needs (how many rounds, Play,
Stop, Clear; the seed folded away), then the rounds, each on a card of its own: its picture,
its seed and the whole caption it was painted from, round 0 being the person's own picture."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from studio.tasks.game import ROUNDS, Captioned, Round
from studio.tasks.image_settings import RANDOM_SEED
from studio.ui.code_panel import code_panel
from studio.ui.common import EXAMPLES, slider, upload_input
from studio.ui.status_line import status_line
from studio.ui.stop import stop_control

RULES = (
    "Choose a photo and press **Play**. In each round one model describes the picture in words "
    "and another paints those words; the next round describes that painting. Watch the picture "
    "drift from round to round: each gets a card with its picture and the words it was painted "
    "from."
)
SEED_INFO = (
    "The same seed paints the same picture again; -1 picks one at random. "
    "Round 2 uses the next number, and so on."
)
CARDS = int(ROUNDS.high) + 1  # round 0, the person's picture, and a card for each round
CARD = ["round-card"]


@dataclass(frozen=True)
class RoundCards:
    """A card per round, hidden until its round starts: a box, its picture and its text."""

    boxes: list
    pictures: list
    texts: list

    @property
    def outputs(self) -> list:
        cards = zip(self.boxes, self.pictures, self.texts, strict=True)
        return [part for card in cards for part in card]

    @staticmethod
    def updates(cards: dict[int, tuple[Any, Any, Any]]) -> tuple:
        """Updates for every card's (box, picture, text); cards not named stay as they are."""
        skip = (gr.skip(),) * 3
        return tuple(part for number in range(CARDS) for part in cards.get(number, skip))


def card(number: int, picture: str | None, text: str, *, visible: bool = True) -> tuple:
    label = "Your picture" if number == 0 else f"Round {number}"
    # A class hides an unused card, not `visible`: a card that is there all along gets its
    # picture however soon after its caption it arrives.
    classes = CARD if visible else [*CARD, "unused"]
    return (gr.Column(elem_classes=classes), gr.Image(picture, label=label), text)


def no_cards() -> tuple:
    """Every card hidden and empty, as before a game."""
    return RoundCards.updates(
        {number: card(number, None, "", visible=False) for number in range(CARDS)}
    )


def original_card(picture: str) -> dict[int, tuple]:
    """A new game: the person's picture as round 0, the other cards hidden."""
    cards = {number: card(number, None, "", visible=False) for number in range(1, CARDS)}
    return {0: card(0, picture, "**Round 0** · the picture you chose")} | cards


def captioning_card(number: int) -> dict[int, tuple]:
    before = "your picture" if number == 1 else f"round {number - 1}'s picture"
    return {number: card(number, None, f"**Round {number}**\n\n*Captioning {before}…*")}


def captioned_card(step: Captioned) -> dict[int, tuple]:
    text = f"**Round {step.number}** · seed {step.seed}\n\n{step.caption}\n\n*Painting…*"
    return {step.number: card(step.number, None, text)}


def painted_card(step: Round, picture: str) -> dict[int, tuple]:
    text = f"**Round {step.number}** · seed {step.seed}\n\n{step.caption}"
    return {step.number: card(step.number, picture, text)}


@dataclass(frozen=True)
class GamePage:
    """The game's components, for the event wiring."""

    upload: Any
    rounds: Any
    seed: Any
    play_button: Any
    stop_button: Any
    clear_button: Any
    status: Any
    cards: RoundCards
    panel: Any  # the game's card and code (studio.ui.code_panel)
    # Never shown: what the API's names take and answer (/caption, /generate_image,
    # /caption_and_generate, /play_rounds), the page shows the cards instead.
    caption: Any
    generated: Any
    gallery: Any
    latest: Any


def layout() -> GamePage:
    """The photo beside the game's few controls, then the round cards, then the panel."""
    parts: dict[str, Any] = {}
    gr.Markdown(RULES)
    with gr.Row():
        with gr.Column(min_width=260):
            parts["upload"] = upload_input("Your picture", height=320, elem_id="game-image")
            gr.Examples(
                EXAMPLES, inputs=[parts["upload"]], label="Example photos", elem_id="game-examples"
            )
        with gr.Column(min_width=260):
            parts |= game_controls()
    parts["cards"] = round_cards()
    # Under everything, at full width: open, it would push the rounds far down in a column.
    parts["panel"] = code_panel("game")
    parts |= api_components()
    return GamePage(**parts)


def game_controls() -> dict[str, Any]:
    """How many rounds, Play, Stop and Clear, the status line, and the seed, folded away."""
    parts: dict[str, Any] = {}
    parts["rounds"] = slider(
        ROUNDS, 1, label="Rounds", info="How many times the picture is described and painted."
    )
    with gr.Row():
        parts["play_button"] = gr.Button("Play", variant="primary", scale=2, elem_id="game-play")
        parts["stop_button"] = stop_control(scale=1, elem_id="game-stop")
        parts["clear_button"] = gr.Button("Clear", scale=1, elem_id="game-clear")
    parts["status"] = status_line("game")
    with gr.Accordion("Picture settings", open=False, elem_id="game-picture-settings"):
        parts["seed"] = gr.Number(
            RANDOM_SEED,
            label="Seed",
            info=SEED_INFO,
            precision=0,
            elem_id="game-seed",
        )
    return parts


def api_components() -> dict[str, Any]:
    """The inputs and outputs of the API's names that the page does not show."""
    return {
        "caption": gr.Textbox(label="Caption", visible=False),
        "generated": gr.Image(
            label="Generated image", type="filepath", format="png", visible=False
        ),
        "gallery": gr.Gallery(label="Rounds", visible=False),
        "latest": gr.State(None),  # the generated picture's record
    }


def round_cards() -> RoundCards:
    boxes, pictures, texts = [], [], []
    with gr.Row(elem_id="game-rounds"):
        for number in range(CARDS):
            with gr.Column(min_width=180, elem_classes=[*CARD, "unused"]) as box:
                pictures.append(
                    gr.Image(
                        type="filepath",
                        interactive=False,
                        buttons=["download", "fullscreen"],
                        height=200,
                        elem_id=f"round-{number}-picture",
                    )
                )
                texts.append(gr.Markdown(elem_classes=["round-text"], elem_id=f"round-{number}"))
            boxes.append(box)
    return RoundCards(boxes, pictures, texts)
