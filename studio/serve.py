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
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

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


def launch_options(config: Config, *, port: int | None = None) -> dict[str, Any]:
    """The keyword arguments of `Blocks.launch` for this configuration (`port`: this app's)."""
    from studio.tasks.uploads import MAX_UPLOAD_BYTES  # Pillow, too, loads only when serving
    from studio.ui.look import CSS

    return {
        "server_name": config.host,
        "server_port": config.port if port is None else port,
        "share": config.share,
        "auth": config.auth,
        "max_threads": thread_pool_size(config.concurrency),
        # Gradio stops an upload at the limit; the image code refuses larger files too.
        "max_file_size": MAX_UPLOAD_BYTES,
        "footer_links": ["api", "gradio"],
        "css": CSS,  # the studio's look, the same in every app
        "prevent_thread_lock": True,  # serve() launches every app, then waits
    }


def serve(config: Config, apps: Sequence[tuple[gr.Blocks, int]]) -> int:
    """Launch each (app, port), serve until interrupted, close them all; the exit status.

    A port in use is one line on stderr and status 1, after closing the apps already launched.
    """
    launched: list[gr.Blocks] = []
    for app, port in apps:
        try:
            app.launch(**launch_options(config, port=port))
        except OSError:
            print(
                f"studio: port {port} on {config.host} is in use; choose another with --port.",
                file=sys.stderr,
            )
            for running in launched:
                running.close()
            return 1
        launched.append(app)
    try:
        launched[0].block_thread()
    except KeyboardInterrupt:
        pass
    finally:
        for app in launched:
            app.close()
    return 0
