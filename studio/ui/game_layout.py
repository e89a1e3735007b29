"""The game's layout: the picture, its caption and the painting of it in three columns, then
the rounds, each on a card of its own: its picture, its seed and the whole caption it was
painted from, round 0 being the person's own picture."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from studio.tasks.game import ROUNDS, Captioned, Round
from studio.tasks.image_settings import RANDOM_SEED
from studio.ui.code_panel import code_panel
from studio.ui.common import EXAMPLES, made_picture, slider, upload_input
from studio.ui.status_line import status_line
from studio.ui.stop import stop_control

RULES = (
    "Upload a picture, **Caption** it (edit the caption if you like), then **Generate image** "
    "from the caption, or do both at once. **Play rounds** goes on: it captions each new picture "
    "and paints that caption again, so you can watch the picture drift from model to model. "
    "Each round gets a card with its picture, its seed and the caption it was painted from."
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
    caption: Any
    caption_button: Any
    generate_button: Any
    both_button: Any
    stop_button: Any
    clear_button: Any
    status: Any
    seed: Any
    generated: Any
    settings: Any
    rounds: Any
    play_button: Any
    rounds_stop: Any
    rounds_status: Any
    cards: RoundCards
    gallery: Any  # the API's /play_rounds answers a gallery; the page shows the cards
    latest: Any
    panel: Any  # the latest answer's card and code (studio.ui.code_panel)


def layout() -> GamePage:
    parts: dict[str, Any] = {"latest": gr.State(None)}  # the generated picture's record
    gr.Markdown(RULES)
    with gr.Row():
        with gr.Column(min_width=260):
            parts["upload"] = upload_input("Your picture", height=320, elem_id="game-image")
            gr.Examples(
                EXAMPLES, inputs=[parts["upload"]], label="Example photos", elem_id="game-examples"
            )
        with gr.Column(min_width=260):
            parts |= caption_controls()
        with gr.Column(min_width=260):
            parts["generated"], parts["settings"] = made_picture(
                "Generated image", "game", elem_id="game-generated", height=320
            )
    with gr.Row(equal_height=True):
        parts["rounds"] = slider(ROUNDS, 1, label="Rounds", scale=3)
        parts["play_button"] = gr.Button("Play rounds", variant="primary", scale=1)
        parts["rounds_stop"] = stop_control(scale=1, elem_id="rounds-stop")
    parts["rounds_status"] = status_line("rounds")
    parts["cards"] = round_cards()
    parts["gallery"] = gr.Gallery(label="Rounds", visible=False)
    # Under everything, at full width: open, it would push the rounds far down in a column.
    parts["panel"] = code_panel("game")
    return GamePage(**parts)


def caption_controls() -> dict[str, Any]:
    parts: dict[str, Any] = {}
    parts["caption"] = gr.Textbox(
        label="Caption",
        info="Edit it before generating if you like.",
        lines=3,
        elem_id="game-caption",
    )
    with gr.Row():
        parts["caption_button"] = gr.Button("Caption")
        parts["generate_button"] = gr.Button("Generate image")
    with gr.Row():
        parts["both_button"] = gr.Button("Caption and generate", variant="primary", scale=2)
        parts["stop_button"] = stop_control(scale=1, elem_id="game-stop")
        parts["clear_button"] = gr.Button("Clear", scale=1, elem_id="game-clear")
    parts["status"] = status_line("game")
    parts["seed"] = gr.Number(
        RANDOM_SEED,
        label="Seed (-1: random); rounds use it, then the next seeds",
        precision=0,
    )
    return parts


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
