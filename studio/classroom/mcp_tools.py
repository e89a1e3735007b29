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
routes. Two changes to Gradio's MCP server, its outputs and its client's login, are made by
studio.classroom.gradio_internals.adapt_mcp_server.
"""

from __future__ import annotations

import functools
import importlib.util
import inspect
import logging
import warnings
from collections.abc import Callable

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
