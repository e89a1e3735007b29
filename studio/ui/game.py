"""The describe-and-generate game: caption a picture, paint the caption, and again, for rounds."""

from __future__ import annotations

import functools
from collections.abc import Collection

from studio.classroom.usage import Meter
from studio.config import Config
from studio.ui import game_code
from studio.ui.code_panel import empty_panel
from studio.ui.common import caption_upload, setup_notice
from studio.ui.game_layout import GamePage, layout, no_cards
from studio.ui.game_play import caption_and_generate, generate_from_caption, play
from studio.ui.look import in_view_on_phone
from studio.ui.stop import idle, stop_button
from studio.ui.waiting import api_event, page_event, time_limit


def build(config: Config, served: Collection[str] = (), meter: Meter | None = None) -> None:
    """The game's tab; `served` names the tabs in the same app. With the Caption and Imagine
    tabs there, their /caption and /generate_image are the API; without them, the game's are."""
    setup_notice(config, "caption")
    setup_notice(config, "image")
    page = layout()
    wire_page(page, config, meter)
    wire_api(page, config, served, meter)


def wire_page(page: GamePage, config: Config, meter: Meter | None = None) -> None:
    """One flow: Play captions and paints for the rounds asked, one Stop ends it, Clear
    empties the tab."""
    folder = page.upload.GRADIO_CACHE  # where Gradio keeps uploads, examples and our pictures
    # preprocess=False: the upload reaches prepare_upload as a file, whatever it holds, so a
    # file that is not an image or is too large gets our message; numbers are checked by us too.
    playing = page_event(
        [page.play_button.click],
        functools.partial(game_code.play_with_code, config, folder),
        [page.upload, page.rounds, page.seed],
        [*page.cards.outputs, *page.panel.outputs],
        page.status,
        doing="Starting the game",
        limit=time_limit(config, "caption", "image"),
        preprocess=False,
        meter=meter,
        stop=page.stop_button,
    )
    stop_button(page.stop_button, [playing], page.status)
    for text in page.cards.texts:  # on a phone the rounds land below the buttons: follow them
        in_view_on_phone(text)
    page.clear_button.click(  # nothing runs after Clear: Stop goes grey
        lambda: (None, "", *empty_panel(), *no_cards(), idle()),
        None,
        [page.upload, page.status, *page.panel.outputs, *page.cards.outputs, page.stop_button],
        cancels=[playing],
        queue=False,
        api_visibility="private",
    )


def wire_api(
    page: GamePage, config: Config, served: Collection[str], meter: Meter | None = None
) -> None:
    folder = page.upload.GRADIO_CACHE
    painted = [page.generated, page.latest]
    common = dict(preprocess=False, meter=meter)
    # One name per app: the owning tab's event has it when that tab is served too.
    if "caption" not in served:
        api_event(
            functools.partial(caption_upload, config, folder),
            page.upload,
            page.caption,
            api_name="caption",
            **common,
        )
    if "imagine" not in served:
        api_event(
            functools.partial(generate_from_caption, config, folder),
            [page.caption, page.seed],
            painted,
            api_name="generate_image",
            **common,
        )
    api_event(
        functools.partial(caption_and_generate, config, folder),
        [page.upload, page.seed],
        [page.caption, *painted],
        api_name="caption_and_generate",
        **common,
    )
    api_event(
        functools.partial(play, config, folder),
        [page.upload, page.rounds, page.seed],
        page.gallery,
        api_name="play_rounds",
        **common,
    )
