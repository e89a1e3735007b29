"""A new session without a copy of every component's settings: the one place the studio changes
how Gradio behaves.

Gradio 6 starts a session for every browser tab, every gradio_client.Client and every REST call
that names none, and keeps it (up to 10,000). Its SessionState builds, as the session starts, the
full settings of every block of the app (get_config, api_info, example_inputs: about 70 µs and
1.1 KiB a block, layout blocks too), only so that a deep link (`/gradio_api/deep_link`, which a
gr.DeepLinkButton calls) can save the page as this person left it. For the studio's ~125 blocks
that is 9 ms of CPU and 186 KiB kept per session, where a bare app of a textbox and a button
pays 0.2 ms and 7 KiB.

LazySessionState gives a deep link the same settings, in the same order, and builds them only
when one asks, without keeping them: a session holds the settings of the blocks an update
replaced (as Gradio's does) and the latest value of each block an event read or wrote.
`use_lazy_session_state()` makes Gradio start these. Per-user values (gr.State, the chat
history) live in `state_data` as before; which sessions Gradio keeps, and for how long, is as it
was.
"""

from __future__ import annotations

from collections.abc import Iterator
from copy import copy
from dataclasses import dataclass
from typing import Any

from gradio import route_utils, state_holder
from gradio.blocks import Blocks
from gradio.state_holder import SessionState


@dataclass(frozen=True)
class LatestValue:
    """Where Gradio would keep a block's settings with this value set: built when asked."""

    value: Any


# How long Gradio keeps the state of a session whose page was closed, so that the person can
# reopen it: an hour, as Gradio's own SessionState does outside Gradio's own browser tests.
KEPT_WHEN_CLOSED = 3600


class LazySessionState(SessionState):
    def __init__(self, blocks: Blocks, kept_when_closed: float = KEPT_WHEN_CLOSED):
        # SessionState.__init__ less its loop over every block (tests check the attributes match).
        self._app = blocks
        self.blocks_config = copy(blocks.default_config)
        # Only what this session changed: settings (Gradio's __setitem__ and _update_config
        # write them) or a LatestValue; the app's blocks otherwise, see `components`.
        self.config_values: dict[int, dict | LatestValue] = {}
        self.state_data = {}
        self._state_ttl = {}
        self.is_closed = False
        self.STATE_TTL_WHEN_CLOSED = kept_when_closed

    def _update_value_in_config(self, key: int, value: Any):
        if isinstance(self.config_values.get(key, LatestValue(None)), LatestValue):
            self.config_values[key] = LatestValue(value)
        else:
            super()._update_value_in_config(key, value)

    def _settings(self, key: int, kept: dict | LatestValue | None) -> dict:
        if isinstance(kept, dict):
            return kept
        if kept is None:  # a block this session never touched: as the app has it
            return self.blocks_config.config_for_block(key, [], self._app.blocks[key])
        config = self.blocks_config.config_for_block(key, [], self.blocks_config.blocks[key])
        if "props" in config:
            config["props"]["value"] = kept.value
        return config

    @property
    def components(self) -> Iterator[dict]:
        """Every block's settings as Gradio's SessionState gives them, in its order: the app's
        blocks, then blocks this session added."""
        for key in self._app.blocks:
            if config := self._settings(key, self.config_values.get(key)):
                yield config
        for key, kept in self.config_values.items():
            if key not in self._app.blocks and (config := self._settings(key, kept)):
                yield config


def use_lazy_session_state() -> None:
    """Make Gradio start LazySessionStates, for every app in this process: its session store,
    and the state it makes and drops for each `POST /gradio_api/run/<api>` that names no
    session (those sessions are not kept)."""
    state_holder.SessionState = LazySessionState
    route_utils.SessionState = LazySessionState
