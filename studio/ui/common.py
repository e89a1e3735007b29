"""What the tabs share: errors turned into messages, setup notices, which backend a tab uses;
and for the picture tabs, uploads opened by our own code, the example photos, and generated
pictures saved with their settings inside."""

from __future__ import annotations

import contextvars
import dataclasses
import functools
import inspect
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr
from PIL import Image

from studio.classroom.gradio_internals import save_to_cache
from studio.classroom.usage import Caller
from studio.config import Config
from studio.endpoint import Endpoint
from studio.errors import TELL_TEACHER, UNEXPECTED, InputError, StudioError
from studio.secrets import redact
from studio.services import caption_image, require_setup, setup_problem
from studio.tasks.image_settings import ImageRequest, describe, png_with_parameters
from studio.tasks.pixels import looks_blank
from studio.tasks.progress import Progress
from studio.tasks.text import NumberBox
from studio.tasks.uploads import PreparedImage, prepare_upload
from studio.ui.viewer import on_this_computer

log = logging.getLogger("studio")


def slider(box: NumberBox, step: float, value: float | None = None, **options: Any) -> gr.Slider:
    """A slider over a setting's range, at `value` (None: the setting's default). Events that
    take it run with preprocess=False: the setting's own rule (`NumberBox.read`) checks what
    arrives, so a raw API call's NaN or 1e9 gets a message that names the setting, not
    Gradio's."""
    start = box.default if value is None else value
    return gr.Slider(box.low, box.high, value=start, step=step, **options)


def picture_model(config: Config) -> str:
    """What the image model's starting settings are looked up by (studio.tasks.model_settings):
    its id, or the URL that names it (a task-API URL ends in the id)."""
    endpoint = config.endpoint("image")
    return endpoint.model or endpoint.url


def shows_errors(fn: Callable) -> Callable:
    """The one place where failures become `gr.Error`, the message an API caller gets (the page
    shows them in the tab instead: see `studio.ui.waiting`).

    Works for plain functions and for generators (streaming). Inputs stay in their boxes, and
    a stream keeps what it already showed. Each failure is one line in the log, and only an
    unexpected one comes with its traceback.
    """

    def to_gr_error(exc: Exception) -> gr.Error:
        report(exc, fn.__name__)
        if isinstance(exc, StudioError):
            return gr.Error(exc.message, title=exc.title, print_exception=False)
        return gr.Error(UNEXPECTED.format(name=type(exc).__name__), print_exception=False)

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


def report(exc: Exception, where: str) -> None:
    """Tell whoever runs the studio, in one log line: where, what and the full message, with
    the settings to change and the status. An unexpected failure also gets its traceback."""
    if not isinstance(exc, StudioError):
        log.error("%s: unexpected %s", where, type(exc).__name__, exc_info=exc)
        return
    status = f" (status {exc.status})" if exc.status else ""
    level = logging.INFO if isinstance(exc, InputError) else logging.WARNING
    log.log(level, "%s: %s: %s%s", where, type(exc).__name__, exc.message, status)


# Where a page event shows progress: its status line (set by `studio.ui.waiting.on_page` in
# the thread that does the work). Elsewhere (the Chat tab, the API) progress is a toast.
PAGE_NOTES: contextvars.ContextVar[Progress | None] = contextvars.ContextVar(
    "studio_page_notes", default=None
)


def notify_progress(message: str) -> None:
    """Tell the person about a slow step they would otherwise wait through in silence: a model
    downloading (bytes and percent) or loading on this computer. On a page event it is the
    status line's note; as a toast, a download says only when it starts and ends, and per-step
    image progress is left to the spinner."""
    show = PAGE_NOTES.get()
    if show is not None:
        show(message)
        return
    if message.startswith("Step "):
        return
    if message.startswith("Downloading ") and not message.endswith(("(0%)", "(100%)")):
        return
    gr.Info(message, duration=8)


def setup_words(words: str, problem: str, *, here: bool) -> str:
    """The setup notice: on the computer that runs the studio, the fix itself; elsewhere (a
    shared link, another computer) whom to tell."""
    fix = f"To fix it: {redact(problem)}" if here else TELL_TEACHER
    return f"> **Setup needed.** {words} {fix}"


def setup_notice(config: Config, task: str, words: str | None = None) -> None:
    """A visible note at the top of a tab that cannot run yet, so nobody clicks in vain: in
    plain words on the page (`words`, or that the tab has no model yet), and the setting to
    change in the terminal and, on the computer that runs the studio, on the page too."""
    problem = setup_problem(config, task)
    if not problem:
        return
    log.warning("%s: setup needed: %s", task, problem)
    words = words or "This tab has no model to ask yet."
    # What to do follows once the page has loaded and it is known who reads it.
    notice = gr.Markdown(f"> **Setup needed.** {words}", elem_classes=["setup-needed"])

    def for_reader(request: gr.Request) -> str:
        return setup_words(words, problem, here=on_this_computer(request))

    # No trigger: on page load.
    gr.on(
        None,
        for_reader,
        None,
        notice,
        queue=False,
        show_progress="hidden",
        api_visibility="private",
    )


def describe_endpoint(endpoint: Endpoint) -> str:
    """Backend, model and host, never the token."""
    model = endpoint.model or "(the endpoint's model)"
    return f"{endpoint.where} · `{model}` · {endpoint.host}"


# --- pictures ---------------------------------------------------------------------------------

ASSETS = Path(__file__).resolve().parents[2] / "assets"
EXAMPLES = [[str(path)] for path in sorted(ASSETS.glob("*.jpg"))]
NOT_UPLOADED = "Upload the image again: only an image uploaded to the studio can be used."
BLANK_WARNING = (
    "The image came back all black. That is most likely the model's safety filter: try "
    "another prompt or another seed."
)


def upload_input(label: str, **options: Any) -> gr.Image:
    """An image upload that our code opens itself, so that a file too large to decode safely
    or one that is not an image gets our message (Gradio would open it first otherwise).

    Events that read it pass `preprocess=False` and `prepare` to get the file.
    """
    return gr.Image(
        label=label,
        type="filepath",
        sources=["upload", "webcam", "clipboard"],
        **options,
    )


def made_picture(label: str, tab: str, elem_id: str, height: int) -> tuple[gr.Image, gr.Textbox]:
    """A picture the studio made, a PNG with its settings inside to download, and under it the
    line of how it was made."""
    picture = gr.Image(
        label=label,
        type="filepath",
        format="png",
        interactive=False,
        buttons=["download", "fullscreen"],
        height=height,
        elem_id=elem_id,
    )
    settings = gr.Textbox(
        label="How it was made", interactive=False, buttons=["copy"], elem_id=f"{tab}-settings"
    )
    return picture, settings


def uploaded_path(payload: Any, folder: str) -> str | None:
    """The file behind an unprocessed image input, which must be one Gradio stored in `folder`
    (uploads and examples): a client could otherwise name any path on the server."""
    path = payload.get("path") if isinstance(payload, dict) else None
    if not path:
        return None
    if not Path(path).resolve().is_relative_to(Path(folder).resolve()):
        raise InputError(NOT_UPLOADED)
    return path


def prepare(config: Config, payload: Any, folder: str) -> PreparedImage:
    """The upload checked, upright, RGB and downscaled, as the JPEG to send."""
    return prepare_upload(uploaded_path(payload, folder), max_side=config.max_image_side)


def caption_uploaded(
    config: Config,
    payload: Any,
    folder: str,
    model: str | None = None,
    calls: list | None = None,
    caller: Caller | None = None,
) -> str:
    """Caption an unprocessed upload, by `model` when the person chose one; the file is checked
    before any model is asked. `calls` hears of the request, for "Show the code"; it is
    counted against `caller`."""
    prepared = prepare(config, payload, folder)
    require_setup(config, "caption")
    endpoint = config.endpoint("caption")
    return caption_image(
        endpoint, prepared, model=model, progress=notify_progress, calls=calls, caller=caller
    )


@shows_errors
def caption_upload(
    config: Config, folder: str, image: dict | None, *, caller: Caller | None = None
) -> str:
    """Describe a photo in one sentence with an image-captioning model.

    The API's /caption and the MCP tool caption, from the Caption tab or, without it, the
    game's. Only a file Gradio stored in the studio's folder is read (see upload_input);
    Gradio fetches a URL there first.

    Args:
        image: an image: an http(s) URL or a data: URL (base64), or a file uploaded to the studio

    Returns:
        the caption: one sentence
    """
    return caption_uploaded(config, image, folder, caller=caller)


def save_png(picture: Image.Image, request: ImageRequest, *, model: str, folder: str) -> str:
    """Write the PNG with its settings inside where Gradio serves files from, and return its
    path. Gradio serves a file already there as is, so a download is exactly these bytes."""
    png = png_with_parameters(picture, request, model=model)
    return save_to_cache(png, f"studio-{request.seed}.png", folder)


def settings_line(request: ImageRequest, picture: Image.Image) -> str:
    """Every setting, and a note when the picture looks like the safety filter's black square."""
    line = describe(request)
    return f"{line} · all black: probably the safety filter" if looks_blank(picture) else line


def keep_picture(
    picture: Image.Image, request: ImageRequest, *, model: str, folder: str
) -> tuple[str, dict[str, Any]]:
    """Save a generated picture, warn when it is blank; its path and its record for the page."""
    if looks_blank(picture):  # shown anyway: the settings say what to change
        gr.Warning(BLANK_WARNING)
    path = save_png(picture, request, model=model, folder=folder)
    record = {
        "path": path,
        "seed": request.seed,
        "prompt": request.prompt,
        "settings": settings_line(request, picture),
        "request": dataclasses.asdict(request),  # every setting, to make it again
    }
    return path, record
