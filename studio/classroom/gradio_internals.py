"""Every place the studio reaches below Gradio's public API, in one module.

Written against Gradio 6.31 (GRADIO_CHECKED). tests/classroom/test_gradio_internals.py checks
each of these against the Gradio installed and says which one changed when Gradio moves:

    LazySessionState     subclasses gradio.state_holder.SessionState (its __init__'s
                         attributes, _update_value_in_config, components), reading the app's
                         default_config and blocks and BlocksConfig.config_for_block
    use_lazy_session_state   replaces state_holder.SessionState and route_utils.SessionState
    adapt_mcp_server     replaces _execute_tool_without_progress and _get_or_create_client on
                         the app's mcp_server_obj (a GradioMCPServer), and sets its
                         _client_instance
    share_url_of         the share link, through the ASGI app's get_blocks() (gradio.routes.App)
    save_to_cache        gradio.processing_utils.save_bytes_to_cache: a file where Gradio
                         serves files from
    enclosing_tab        gradio.context.Context.block: the gr.Tab a tab's build runs inside

Nothing else in studio/ imports a Gradio submodule or reads a Gradio attribute that starts with
an underscore.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from copy import copy
from dataclasses import dataclass
from typing import Any

from gradio import context, processing_utils, route_utils, state_holder
from gradio.blocks import Blocks
from gradio.state_holder import SessionState

GRADIO_CHECKED = "6.31"

# --- A new session without a copy of every component's settings ----------------------------


@dataclass(frozen=True)
class LatestValue:
    """Where Gradio would keep a block's settings with this value set: built when asked."""

    value: Any


# How long Gradio keeps the state of a session whose page was closed, so that the person can
# reopen it: an hour, as Gradio's own SessionState does outside Gradio's own browser tests.
KEPT_WHEN_CLOSED = 3600


class LazySessionState(SessionState):
    """Gradio's SessionState, without building every block's settings as a session starts.

    Gradio 6 starts a session for every browser tab, every gradio_client.Client and every REST
    call that names none, and keeps it (up to 10,000). Its SessionState builds, as the session
    starts, the full settings of every block of the app (get_config, api_info, example_inputs:
    about 70 µs and 1.1 KiB a block, layout blocks too), only so that a deep link
    (`/gradio_api/deep_link`, which a gr.DeepLinkButton calls) can save the page as this person
    left it. For the studio's ~125 blocks that is 9 ms of CPU and 186 KiB kept per session,
    where a bare app of a textbox and a button pays 0.2 ms and 7 KiB.

    This one gives a deep link the same settings, in the same order, and builds them only when
    one asks, without keeping them: a session holds the settings of the blocks an update
    replaced (as Gradio's does) and the latest value of each block an event read or wrote.
    Per-user values (gr.State, the chat history) live in `state_data` as before; which sessions
    Gradio keeps, and for how long, is as it was.
    """

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


# --- Gradio's MCP server (--mcp) -------------------------------------------------------------


def adapt_mcp_server(app: Any, auth: tuple[str, str] | None) -> None:
    """Two changes to the MCP server Gradio made for `app` at launch (`app.mcp_server_obj`):

    - A call without a progress token got one value for an endpoint's several outputs (the
      tuple gradio_client answers), so tools with two outputs or a State output failed
      ("pop index out of range"): each output is its own value again, as with a token.
    - With a login, the server's own gradio_client (which calls the endpoint) logs in, as
      Gradio's does not: otherwise every call fails with "credentials were not provided".
    """
    server = getattr(app, "mcp_server_obj", None)
    if server is None:
        return
    server._execute_tool_without_progress = functools.partial(_every_output, server)
    if auth is not None:
        server._get_or_create_client = functools.partial(_logged_in_client, server, auth)


async def _every_output(server: Any, job: Any) -> list[Any]:
    from anyio.to_thread import run_sync

    result = await run_sync(job.result)
    return list(result) if isinstance(result, tuple) else [result]


def _logged_in_client(server: Any, auth: tuple[str, str]) -> Any:
    """Gradio's own client for its MCP server, as `GradioMCPServer._get_or_create_client` makes
    it, but logged in. Each MCP call then runs as that one API session."""
    if server._client_instance is None:
        from gradio_client import Client

        server._client_instance = Client(
            server.local_url,
            auth=auth,
            download_files=False,
            verbose=False,
            analytics_enabled=False,
            ssl_verify=False,
            _skip_components=False,
            headers={"x-gradio-user": "mcp"},
        )
    return server._client_instance


# --- Reading and writing what Gradio serves --------------------------------------------------


def share_url_of(asgi_app: Any) -> str | None:
    """The app's public link (`--share`) once Gradio has made one, from the FastAPI app Gradio
    built (a request's `scope["app"]`); None before, or for any other app."""
    try:
        return asgi_app.get_blocks().share_url
    except (AttributeError, ValueError):
        return None


def save_to_cache(data: bytes, file_name: str, folder: str) -> str:
    """Write `data` inside `folder` (a component's GRADIO_CACHE), where Gradio serves files
    from as they are, and return the path."""
    return processing_utils.save_bytes_to_cache(data, file_name, folder)


# --- Where a block is being built --------------------------------------------------------------


def enclosing_tab() -> Any:
    """The gr.Tab whose `with` block is being built now; None outside one (an app of one tab)."""
    from gradio.layouts import Tab

    block = context.Context.block
    return block if isinstance(block, Tab) else None
