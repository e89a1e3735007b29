"""How the studio launches its apps: the options every launch uses, and the loop that serves them.

Whatever launches the studio (the command line, and through it the tests and the benchmarks)
uses `launch_options(config)`, so what is measured is what a class gets.

Three limits decide how many requests Gradio works on at once:

    queue(default_concurrency_limit=N)   jobs of one event at once; ui/app.py sets it from
                                         --concurrency
    launch(max_threads=M), 40 if unset   jobs of all events together at once (the queue's
                                         worker slots, async handlers included), and the size
                                         of the thread pool that runs sync handlers, each step
                                         of a sync generator, and the pre- and postprocessing
                                         of every input and output (events that skip the
                                         queue take threads from it too)

The chat's handler is an async generator that reads the stream in a thread of its own, so it
takes no thread from the pool while it waits for tokens, but each reply holds a worker slot
from the moment it starts until its last token. Without `max_threads`, then, --concurrency
above 40 never took effect, for the Summarize tab's sync handler and the chat alike.

What else every launch sets, for a studio shared with a class (docs/security.md):

    run_history=False           Gradio's run-history routes answer without a login and, for a
                                request from this machine, call the Hub with the machine's
                                HF_TOKEN (GET /gradio_api/run-history/buckets); off, they are gone
    ssr_mode=False              whatever GRADIO_SSR_MODE says: see requirements.txt
    state_session_capacity      Gradio keeps every session's state, 10,000 by default, and each
                                REST call is a session of its own: the studio keeps
                                STUDIO_MAX_SESSIONS (1000), the least recently used dropped first
    auth                        studio.classroom.login's check: wrong passwords ever slower
    app_kwargs middleware       studio.classroom.middleware: the Host check, the client's
                                address for the login, no API description on the login page;
                                with --mcp and --auth, the same login asked of every MCP
                                request; and the teacher's usage view at /usage, handed the
                                app's meter (studio.classroom.usage_page), and the class
                                wall at /wall beside it (studio.classroom.wall_page)
    mcp_server                  --mcp: the tabs' API as MCP tools too (studio.classroom.mcp_tools)
    root_path                   --root-path: the path prefix a reverse proxy serves it under
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from studio.classroom.hosts import served_hosts
from studio.classroom.login import LOGIN_MESSAGE, LoginThrottle, PasswordCheck, password_check
from studio.classroom.usage import Meter
from studio.config import Config

if TYPE_CHECKING:
    import gradio as gr

# Threads and worker slots beyond --concurrency: Gradio's own default for a whole app. One event
# at its limit holds --concurrency slots (and as many threads, if its handler is sync); these 40
# stay for everything else meanwhile: other tabs' events, the page's quick steps that skip the
# queue, the postprocessing of each streamed piece, uploads. It also keeps the pool off exactly
# 40, where Gradio would use anyio's process-wide pool, shared with the web server's own threads.
HEADROOM = 40


def thread_pool_size(concurrency: int) -> int:
    """Gradio's `max_threads` for `concurrency` requests at once per event."""
    return concurrency + HEADROOM


@dataclass(frozen=True)
class Served:
    """One app to serve: its Blocks, its port, its tabs' names and the meter its events count
    with (the usage view shows it)."""

    app: gr.Blocks
    port: int
    tabs: Sequence[str]
    meter: Meter | None = None


def launch_options(
    config: Config, *, port: int | None = None, meter: Meter | None = None
) -> dict[str, Any]:
    """The keyword arguments of `Blocks.launch` for this configuration (`port`: this app's;
    `meter`: the one the app was built with, for the usage view)."""
    from studio.tasks.uploads import MAX_UPLOAD_BYTES  # Pillow, too, loads only when serving
    from studio.ui.look import CSS

    store = meter.store if meter is not None else None  # shared by replicas, with a Redis
    check = password_check(config.auth, LoginThrottle(store)) if config.auth else None
    return {
        "server_name": config.host,
        "server_port": config.port if port is None else port,
        "share": config.share,
        "auth": check,
        "auth_message": LOGIN_MESSAGE if config.auth else None,
        "max_threads": thread_pool_size(config.concurrency),
        # Gradio stops an upload at the limit; the image code refuses larger files too.
        "max_file_size": MAX_UPLOAD_BYTES,
        "footer_links": ["api", "gradio"],
        "run_history": False,
        "ssr_mode": False,
        "state_session_capacity": config.max_sessions,
        "app_kwargs": {"middleware": middleware(config, check, meter)},
        "mcp_server": config.mcp,
        "root_path": config.root_path,  # behind a proxy's path prefix (docs/deploy.md)
        "css": CSS,  # the studio's look, the same in every app
        "prevent_thread_lock": True,  # serve() launches every app, then waits
        "quiet": True,  # the studio's own banner says where it runs (Gradio's gives CLI advice)
    }


def middleware(
    config: Config, check: PasswordCheck | None = None, meter: Meter | None = None
) -> list:
    """The studio's ASGI layers for this configuration (see studio.classroom.middleware),
    outermost first; `check`: the login's, which the MCP routes ask too; `meter`: the app's."""
    from starlette.middleware import Middleware

    from studio.classroom.middleware import (
        CheckHost,
        GuardMcp,
        HideApiBeforeLogin,
        RememberClient,
        SayLoginLost,
    )
    from studio.classroom.usage_page import UsageView
    from studio.classroom.wall_page import WallView
    from studio.ui.wall import ask_model

    layers = [
        Middleware(CheckHost, allowed=served_hosts(config.host, config.allowed_hosts)),
        Middleware(RememberClient),
        Middleware(UsageView, admin=config.admin, meter=meter),
        Middleware(WallView, admin=config.admin, meter=meter, ask=partial(ask_model, config)),
    ]
    if config.auth:
        layers += [Middleware(HideApiBeforeLogin), Middleware(SayLoginLost)]
    if config.auth and config.mcp:
        check = check or password_check(config.auth, LoginThrottle(meter and meter.store))
        layers.append(Middleware(GuardMcp, check=check))
    return layers


def startup_banner(config: Config, apps: Sequence[Served], launched: Sequence) -> str:
    from studio.doctor import banner
    from studio.services import setup_problem

    names_and_ports = [(served.tabs, served.port) for served in apps]
    shares = [getattr(app, "share_url", None) for app in launched]
    return banner(
        config, names_and_ports, lambda task: setup_problem(config, task), share_urls=shares
    )


def serve(config: Config, apps: Sequence[Served]) -> int:
    """Launch each app on its port, say where they run, serve until interrupted, close them
    all; the exit status.

    A port in use is one line on stderr and status 1, after closing the apps already launched.
    """
    launched: list[gr.Blocks] = []
    for served in apps:
        app, port = served.app, served.port
        try:
            app.launch(**launch_options(config, port=port, meter=served.meter))
        except OSError:
            print(
                f"studio: port {port} on {config.host} is in use; choose another with --port.",
                file=sys.stderr,
            )
            for running in launched:
                running.close()
            return 1
        launched.append(app)
        if config.mcp:
            from studio.classroom.gradio_internals import adapt_mcp_server

            adapt_mcp_server(app, config.auth)
    print(startup_banner(config, apps, launched), flush=True)
    try:
        launched[0].block_thread()
    except KeyboardInterrupt:
        pass
    finally:
        for app in launched:
            app.close()
    return 0
