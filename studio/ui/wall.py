"""The Class tab: the round the teacher opened on the class wall (studio.classroom.wall_page),
and a student's answer to it: a guess at the next token, or a picture of the prompt.

The page looks for the open round every two seconds once the Class tab has been opened, in an
event that skips the queue and sends nothing when the round shown is still the round open, so a
class polling costs little (bench/class_wall.py), and a class that never opens the tab nothing.
Answers and pictures are requests like any other: they count against the person's limits.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import gradio as gr

from studio.chat.next_word import next_tokens
from studio.classroom.gradio_internals import enclosing_tab
from studio.classroom.usage import Caller, Meter
from studio.classroom.wall import Wall, counted_answer, wall_of, who
from studio.config import Config
from studio.errors import StudioError
from studio.services import paint_picture, require_setup
from studio.tasks.image_settings import make_image_request
from studio.tasks.wall import Picture, model_choices, thumbnail
from studio.ui.common import picture_model, report, shows_errors
from studio.ui.status_line import status_line
from studio.ui.waiting import api_event, page_event, time_limit

POLL_SECONDS = 2.0
PRIVATE = dict(api_visibility="private")
NO_CHOICES = "The model's own choices could not be asked: {why}"


def round_text(view: dict) -> str:
    """The round as the page shows it: what it asks for and the prompt, large."""
    if not view.get("open"):
        return f"### {view['message']}"
    return f"### Round {view['id']}: {view['what']}\n\n## {plain(view['prompt'])}"


def plain(text: str) -> str:
    """`text` shown as typed in Markdown: its marks (a `*`, a `<`) are not read as formatting."""
    return re.sub(r"([\\`*_{}\[\]()<>#+\-.!|~])", r"\\\1", text)


def refreshed(wall: Wall, shown: dict | None) -> tuple:
    """The round again, or nothing sent when the page already shows it; a new round clears
    what the page said of the last answer."""
    view = wall.student_view()
    if shown is not None and view == shown:
        return (gr.skip(),) * 5
    guessing, painting = view.get("kind") == "next_word", view.get("kind") == "paint"
    visible = gr.update(visible=guessing), gr.update(visible=painting)
    return view, round_text(view), *visible, ""


def first_look(wall: Wall, shown: dict | None) -> tuple:
    """The Class tab opened: the round now, and the timer on from here."""
    return gr.Timer(active=True), *refreshed(wall, shown)


def sent(wall: Wall, text: object, shown: dict | None, *, caller: Caller | None = None) -> str:
    """The page's Send: the guess on the wall, for the round the page shows."""
    answer = counted_answer(wall, caller, (shown or {}).get("id"), text)
    guess = plain(answer["answer"])
    return f"Your guess on the wall: **{guess}** (you may change it until the round closes)."


def painted(
    config: Config, wall: Wall, seed: object, shown: dict | None, *, caller: Caller | None = None
) -> tuple[Any, str]:
    """The page's Paint: the picture here, and the line that says it is on the wall."""
    picture, seed_used, _ = paint_on_wall(config, wall, (shown or {}).get("id"), seed, caller)
    return picture, f"On the wall with seed {seed_used}."


def paint_on_wall(
    config: Config, wall: Wall, round_id: int | None, seed: object, caller: Caller | None
) -> tuple[Any, int, int]:
    """The round's prompt painted with the person's seed, its thumbnail on the wall with the
    seed (and their name, if logged in): the picture, its seed, how many the round has."""
    round_ = wall.ready_for(round_id, "paint")  # checked before it costs anything
    request = make_image_request(round_.prompt, seed=seed, model=picture_model(config))
    require_setup(config, "image")
    picture = paint_picture(config.endpoint("image"), request, caller=caller)
    key, name = who(caller)
    seed_used = int(request.seed or 0)
    count = wall.add_picture(round_.id, Picture(key, seed_used, thumbnail(picture), name))
    return picture, seed_used, count


def ask_model(config: Config, prompt: str) -> tuple[tuple, str]:
    """The model's own top next tokens after a round's prompt, for the teacher's wall (which
    asks it once, as the round opens), or in words why there are none."""
    try:
        require_setup(config, "chat")
        tokens = next_tokens(config.endpoint("chat"), prompt)
        return model_choices(tokens.choices), ""
    except StudioError as exc:
        return (), NO_CHOICES.format(why=exc.message)
    except Exception as exc:  # the round stands whatever the model server did
        report(exc, "ask the model for the class wall")
        return (), NO_CHOICES.format(why=f"something went wrong ({type(exc).__name__}).")


@shows_errors
def wall_round(wall: Wall) -> dict:
    """The round open on the class wall, if any.

    The API's /wall_round (and the MCP tool wall_round).

    Returns:
        {"open": true, "id", "kind" ("next_word" or "paint"), "what", "prompt"}, or
        {"open": false, "message"} when no round is open
    """
    return wall.student_view()


@shows_errors
def wall_answer(
    wall: Wall, answer: str, round_id: float | None = None, *, caller: Caller | None = None
) -> dict:
    """Put a guess at the next token on the class wall: one per person, a new one replaces it.

    The API's /wall_answer (and the MCP tool wall_answer).

    Args:
        answer: the guess, at most 40 characters (trimmed; counted without regard to case)
        round_id: the round answered (from /wall_round); empty for the one open now

    Returns:
        {"round", "answer", "answers"}: the round's id, the guess as kept, how many answered
    """
    round_ = None if round_id is None else int(round_id)
    return counted_answer(wall, caller, round_, answer)


@shows_errors
def wall_paint(
    config: Config, wall: Wall, seed: float | None = None, *, caller: Caller | None = None
) -> dict:
    """Paint the prompt of the class wall's open "paint this prompt" round, and put the picture
    on the wall with its seed (counted as one picture against the person's limits).

    The API's /wall_paint (and the MCP tool wall_paint).

    Args:
        seed: the seed to paint with, 0 or more; empty for a random one

    Returns:
        {"round", "seed", "pictures"}: the round's id, the seed used, how many pictures it has
    """
    round_ = wall.ready_for(None, "paint")
    _, seed_used, count = paint_on_wall(config, wall, round_.id, seed, caller)
    return {"round": round_.id, "seed": seed_used, "pictures": count}


def build(config: Config, served: Collection[str] = (), meter: Meter | None = None) -> None:
    wall = wall_of(meter)
    tab = enclosing_tab()  # the Class tab, when the app has several
    page = layout(wall.student_view(), polling=tab is None)
    shows = [page.shown, page.heading, page.guessing, page.painting, page.mine]
    quick = dict(queue=False, show_progress="hidden", **PRIVATE)  # no place in the queue
    page.timer.tick(functools.partial(refreshed, wall), page.shown, shows, **quick)
    if tab is not None:
        # A page looks for rounds once its Class tab has been opened: a class that never
        # opens it costs nothing.
        tab.select(functools.partial(first_look, wall), page.shown, [page.timer, *shows], **quick)
    page_event(
        [page.send.click, page.guess.submit],
        functools.partial(sent, wall),
        [page.guess, page.shown],
        [page.mine],
        page.status,
        doing="Sending your guess",
        limit=None,
        done="On the wall.",
        meter=meter,
    )
    page_event(
        [page.paint.click],
        functools.partial(painted, config, wall),
        [page.seed, page.shown],
        [page.picture, page.mine],
        page.status,
        doing="Painting",
        limit=time_limit(config, "image"),
        meter=meter,
    )
    api_events(config, wall, meter)


@dataclass(frozen=True)
class WallPage:
    shown: gr.State  # the round the page shows (what the timer compares)
    heading: gr.Markdown
    guessing: gr.Group
    guess: gr.Textbox
    send: gr.Button
    painting: gr.Group
    seed: gr.Number
    paint: gr.Button
    picture: gr.Image
    mine: gr.Markdown
    status: gr.HTML
    timer: gr.Timer


def layout(view: dict, *, polling: bool) -> WallPage:
    """The round, the guess box and Send, the seed and Paint, the answer's line and status."""
    shown = gr.State(view)
    heading = gr.Markdown(round_text(view), elem_id="wall-round")
    with gr.Group(visible=view.get("kind") == "next_word") as guessing:
        guess = gr.Textbox(label="Your guess: the next token", max_length=40, elem_id="wall-guess")
        send = gr.Button("Send", variant="primary", elem_id="wall-send")
    with gr.Group(visible=view.get("kind") == "paint") as painting:
        seed = gr.Number(
            label="Your seed", info="Leave it empty for a random one.", precision=0, value=None
        )
        paint = gr.Button("Paint", variant="primary", elem_id="wall-paint")
        picture = gr.Image(label="Your picture", interactive=False, height=256)
    mine = gr.Markdown(elem_id="wall-mine")
    status = status_line("wall")
    timer = gr.Timer(POLL_SECONDS, active=polling)
    return WallPage(
        shown, heading, guessing, guess, send, painting, seed, paint, picture, mine, status, timer
    )


def api_events(config: Config, wall: Wall, meter: Meter | None) -> None:
    """/wall_round, /wall_answer and /wall_paint."""
    api_event(
        functools.partial(wall_round, wall), None, gr.JSON(visible=False), api_name="wall_round"
    )
    api_event(
        functools.partial(wall_answer, wall),
        [gr.Textbox(visible=False), gr.Number(visible=False, value=None)],
        gr.JSON(visible=False),
        api_name="wall_answer",
        meter=meter,
    )
    api_event(
        functools.partial(wall_paint, config, wall),
        gr.Number(visible=False, value=None),
        gr.JSON(visible=False),
        api_name="wall_paint",
        meter=meter,
    )
