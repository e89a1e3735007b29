"""The describe-and-generate game: caption a picture, paint the caption, and again, for rounds."""

from __future__ import annotations

import functools
from collections.abc import Collection

from studio.classroom.usage import Meter
from studio.config import Config
from studio.ui import game_code
from studio.ui.code_panel import empty_panel
from studio.ui.common import caption_upload, caption_uploaded, setup_notice
from studio.ui.game_layout import GamePage, layout, no_cards
from studio.ui.game_play import (
    caption_and_generate,
    generate_from_caption,
    paint_caption,
    play,
)
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
    folder = page.upload.GRADIO_CACHE  # where Gradio keeps uploads, examples and our pictures
    limit = time_limit(config, "caption", "image")
    # preprocess=False: the upload reaches prepare_upload as a file, whatever it holds, so a
    # file that is not an image or is too large gets our message; numbers are checked by us too.
    common = dict(limit=limit, preprocess=False, meter=meter)
    captioning = page_event(
        [page.caption_button.click],
        functools.partial(caption_uploaded, config, folder=folder),
        [page.upload],
        [page.caption],
        page.status,
        doing="Captioning",
        stop=page.stop_button,
        **common,
    )
    painted = [page.generated, page.settings, page.latest]
    generating = page_event(
        [page.generate_button.click, page.caption.submit],
        functools.partial(paint_caption, config, folder),
        [page.caption, page.seed],
        painted,
        page.status,
        doing="Painting the caption",
        stop=page.stop_button,
        **common,
    )
    both = page_event(
        [page.both_button.click],
        functools.partial(game_code.both_with_code, config, folder),
        [page.upload, page.seed],
        [page.caption, *painted, *page.panel.outputs],
        page.status,
        doing="Captioning",
        stop=page.stop_button,
        **common,
    )
    stop_button(page.stop_button, [captioning, generating, both], page.status)
    in_view_on_phone(page.generated)
    playing = page_event(
        [page.play_button.click],
        functools.partial(game_code.play_with_code, config, folder),
        [page.upload, page.rounds, page.seed],
        [*page.cards.outputs, *page.panel.outputs],
        page.rounds_status,
        doing="Starting the game",
        stop=page.rounds_stop,
        **common,
    )
    stop_button(page.rounds_stop, [playing], page.rounds_status)
    clear(page, [captioning, generating, both, playing])


def clear(page: GamePage, events: list) -> None:
    """Clear stops whatever runs and empties the tab: the picture, the caption, the painting,
    the status lines and the cards."""
    cleared = [page.upload, page.caption, page.generated, page.settings, page.latest]
    cleared += [page.status, page.rounds_status, *page.panel.outputs]
    stops = [page.stop_button, page.rounds_stop]  # nothing runs after Clear: both go grey
    greyed = [idle() for _ in stops]
    page.clear_button.click(
        lambda: (None, "", None, "", None, "", "", *empty_panel(), *no_cards(), *greyed),
        None,
        [*cleared, *page.cards.outputs, *stops],
        cancels=events,
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
