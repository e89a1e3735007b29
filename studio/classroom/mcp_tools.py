"""MCP tools: with `--mcp` (or STUDIO_MCP=1) each tab's API is a tool an agent can call.

Gradio's MCP server (`launch(mcp_server=True)`) turns every public named API endpoint into a
tool, at /gradio_api/mcp/ (streamable HTTP) and /gradio_api/mcp/sse (SSE):

    tool name          the endpoint function's __name__
    description        its docstring up to "Args:", then what "Returns:" says
    a parameter's      its one line under "Args:" (Google style), matched by name
    description

The page's own events are api_visibility="private": no endpoint, so no tool. The studio's
endpoint functions are partials with the configuration bound in, which have neither a name nor
a docstring of their own; `as_tool` gives them the endpoint's name and the function's docstring.

A tool call runs the endpoint's own handler through Gradio's queue, exactly as a gradio_client
call does (Gradio's MCP server calls the app back over HTTP), so the studio's checks, limits
and time limits apply to it too. With --auth, studio.classroom.middleware.GuardMcp asks every MCP
request for the same user:password, as HTTP Basic auth: Gradio's login does not cover the MCP
routes.
"""

from __future__ import annotations

import functools
import importlib.util
import inspect
import logging
import warnings
from collections.abc import Callable
from typing import Any

from studio.errors import ConfigurationError

MCP_PATH = "/gradio_api/mcp"
EXTRA_MISSING = (
    "--mcp needs Gradio's MCP extra, which is not installed: pip install -r requirements-mcp.txt"
)


def extra_installed() -> bool:
    """Whether the `mcp` package Gradio's MCP server needs is there (looks, imports nothing)."""
    return importlib.util.find_spec("mcp") is not None


def prepare() -> None:
    """Before building the apps for --mcp: the extra must be there, and quiet. Its log says
    INFO for every request; Gradio warns at launch that a tool with a State input (chat's
    history) starts from its first value each call, which chat's docstring tells agents."""
    if not extra_installed():
        raise ConfigurationError(EXTRA_MISSING)
    logging.getLogger("mcp").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message="This MCP server includes a tool that has a gr.State")


def as_tool(fn: Callable, name: str) -> Callable:
    """`fn` named `name`, with the docstring of the function inside it (a partial has none)."""
    if not isinstance(fn, functools.partial):
        return fn
    named = functools.partial(fn.func, *fn.args, **fn.keywords)
    named.__name__ = name  # type: ignore[attr-defined]
    named.__doc__ = inspect.getdoc(fn.func)
    return named


def adapt_server(app: Any, auth: tuple[str, str] | None) -> None:
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
