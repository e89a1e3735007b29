"""What every tab shares: turning our errors into messages, and saying which backend a tab uses."""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable

import gradio as gr

from studio.config import Config, Endpoint
from studio.errors import ConfigurationError, InputError, StudioError
from studio.services import setup_problem

log = logging.getLogger("studio")

UNEXPECTED = (
    "Something went wrong inside the studio: {name}. Your input is kept; try again, and if it "
    "happens again, the terminal that runs the studio shows the details."
)


def shows_errors(fn: Callable) -> Callable:
    """The one place where failures become `gr.Error`, the message a person sees.

    Works for plain functions and for generators (streaming). Inputs stay in their boxes, and
    a stream keeps what it already showed.
    """

    def to_gr_error(exc: Exception) -> gr.Error:
        if isinstance(exc, StudioError):
            return gr.Error(exc.message, title=_title(exc))
        log.exception("unexpected error in %s", fn.__name__)
        return gr.Error(UNEXPECTED.format(name=type(exc).__name__))

    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def stream(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except gr.Error:
                raise
            except Exception as exc:
                raise to_gr_error(exc) from None

        return stream

    @functools.wraps(fn)
    def call(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except Exception as exc:
            raise to_gr_error(exc) from None

    return call


def _title(exc: StudioError) -> str:
    if isinstance(exc, ConfigurationError):
        return "Setup needed"
    if isinstance(exc, InputError):
        return "Cannot do that"
    return f"Model server error {exc.status}" if exc.status else "Error"


def notify_progress(message: str) -> None:
    """Tell the person about a slow step they would otherwise wait through in silence: a model
    loading on this computer. Per-step image progress is left to the spinner, not toasts."""
    if not message.startswith("Step "):
        gr.Info(message, duration=8)


def setup_notice(config: Config, task: str) -> None:
    """A visible note at the top of a tab that cannot run yet, so nobody clicks in vain."""
    problem = setup_problem(config, task)
    if problem:
        gr.Markdown(f"> **Setup needed.** {problem}", elem_classes=["setup-needed"])


def describe_endpoint(endpoint: Endpoint) -> str:
    """Backend, model and host, never the token."""
    model = endpoint.model or "(the endpoint's model)"
    return f"{endpoint.backend} · `{model}` · {endpoint.host}"
