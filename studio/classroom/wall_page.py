"""The teacher's class wall: `/wall` (a page for the projector, with the form that opens and
closes a round), `/wall/state` (what the page polls) and `/wall/picture` (a picture's thumbnail),
and, for every student's page, `/wall/now` (whether a round is open: no login needed),
answered in front of Gradio's routes by an ASGI layer that studio.serve adds beside the usage
view's, handed the app's meter (whose wall it shows: studio.classroom.wall).

Who may open it is decided as for the usage view, by the same check (`may_see_usage`): the
teacher's --admin login, or without one a browser on the computer that runs the studio.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from studio.classroom.login import LoginThrottle
from studio.classroom.middleware import App, Receive, Scope, Send, header_value
from studio.classroom.usage import Meter
from studio.classroom.usage_page import send_text, teacher_asks
from studio.classroom.wall import Wall, wall_of
from studio.classroom.wall_html import PAGE
from studio.errors import StudioError

MAX_FORM_BYTES = 4096  # a kind and a prompt
ASKING = "Asking the model for its own top choices..."
NO_MODEL = "This app asks no model for its own choices."
Ask = Callable[[str], tuple[tuple, str]]
OTHER_SITE = "The wall's form works only from the wall's own page."


def ask_in_background(ask: Ask | None, wall: Wall, round_id: int, prompt: str) -> None:
    """The model's top choices for the round, put on the wall when they come (in a thread of
    its own: the teacher does not wait, and the round stands whatever the server does)."""
    choices, note = ask(prompt) if ask is not None else ((), NO_MODEL)
    try:
        wall.set_model(round_id, choices, note)
    except StudioError:  # a shared wall that went away: the round shows no choices
        pass


class WallView:
    """`meter`: the app's, whose wall this shows; `ask`: the model's top choices after a
    prompt, and a note in words when there are none (studio.ui.wall.ask_model)."""

    def __init__(
        self,
        app: App,
        admin: tuple[str, str] | None = None,
        meter: Meter | None = None,
        ask: Ask | None = None,
    ) -> None:
        self.app, self.admin, self.ask = app, admin, ask
        self.wall = wall_of(meter)
        # wrong passwords counted with the usage view's: one teacher's login guarded once
        self.throttle = LoginThrottle(meter.store if meter else None, name="usage")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path == "/wall/now":
            await send_text(send, 200, "application/json", json.dumps(self.now()))
            return
        if path not in ("/wall", "/wall/state", "/wall/picture"):
            await self.app(scope, receive, send)
            return
        answer = teacher_asks(scope, self.admin, self.throttle, view="class wall")
        method = scope.get("method")
        if answer.status != 200:
            await send_text(
                send, answer.status, "text/plain", answer.message + "\n", answer.headers
            )
        elif method == "POST" and path == "/wall":
            await self.posted(scope, receive, send)
        elif method not in ("GET", "HEAD"):
            await send_text(send, 405, "text/plain", "Use the wall's page.\n")
        elif path == "/wall/state":
            await self.state(send)
        elif path == "/wall/picture":
            await self.picture(scope, send)
        else:
            await send_text(send, 200, "text/html; charset=utf-8", PAGE)

    def now(self) -> dict:
        """`/wall/now`, for every page's notice (studio.ui.wall_notice): whether a round is
        open, its number and kind; not its prompt, so it tells nothing to a page before its
        login, and costs no place in Gradio's queue."""
        view = self.wall.student_view()
        return {"open": view["open"], "id": view.get("id"), "what": view.get("what")}

    async def state(self, send: Send) -> None:
        """What the wall's page polls; while a shared wall does not answer, 503 and the words
        that say so, which the page shows."""
        try:
            view = self.wall.teacher_view()
        except StudioError as exc:
            message = json.dumps({"message": exc.message})
            await send_text(send, exc.status or 500, "application/json", message)
            return
        await send_text(send, 200, "application/json", json.dumps(view))

    async def posted(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The form: open a round (kind, prompt) or close it; then back to the wall."""
        origin = header_value(scope, b"origin")
        hosts = {header_value(scope, b"host"), header_value(scope, b"x-forwarded-host")}
        if origin and urlsplit(origin).netloc not in hosts:
            await send_text(send, 403, "text/plain", OTHER_SITE + "\n")  # another site's form
            return
        form = parse_qs((await read_body(receive)).decode("utf-8", "replace"))
        field = {name: values[0] for name, values in form.items()}
        try:
            if field.get("do") == "close":
                self.wall.close()
            else:
                round_ = self.wall.open(field.get("kind"), field.get("prompt"))
                if round_.kind == "next_word":
                    self.wall.set_model(round_.id, (), ASKING)
                    threading.Thread(
                        target=ask_in_background,
                        args=(self.ask, self.wall, round_.id, round_.prompt),
                        daemon=True,
                    ).start()
        except StudioError as exc:
            await send_text(send, exc.status or 400, "text/plain", exc.message + "\n")
            return
        await send_text(send, 303, "text/plain", "Back to the wall.\n", ((b"location", b"wall"),))

    async def picture(self, scope: Scope, send: Send) -> None:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        try:
            jpeg = self.wall.picture(int(query["round"][0]), int(query["n"][0]))
        except (KeyError, ValueError):
            jpeg = None
        except StudioError as exc:
            await send_text(send, exc.status or 500, "text/plain", exc.message + "\n")
            return
        if jpeg is None:
            await send_text(send, 404, "text/plain", "No such picture on the wall.\n")
            return
        head = [
            (b"content-type", b"image/jpeg"),
            (b"content-length", str(len(jpeg)).encode()),
            # a picture's number is never reused in its round: the wall redraws from the cache
            (b"cache-control", b"private, max-age=3600"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": head})
        await send({"type": "http.response.body", "body": jpeg})


async def read_body(receive: Receive) -> bytes:
    """The request's body, at most MAX_FORM_BYTES of it (the rest is read and dropped)."""
    body, more = b"", True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        body = (body + message.get("body", b""))[:MAX_FORM_BYTES]
        more = message.get("more_body", False)
    return body
