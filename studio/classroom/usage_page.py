"""The teacher's usage view: `/usage` (a small page) and `/usage.json`, answered in front of
Gradio's routes by an ASGI layer (added by studio.serve with the others of
studio.classroom.middleware), which is handed the app's meter.

Who may open it:
  - with `--admin user:password` (STUDIO_ADMIN): whoever gives that login (HTTP Basic), from any
    address; wrong passwords are slowed as the studio's login is (studio.classroom.login)
  - without: only a browser on the computer that runs the studio (a peer on 127.0.0.1 or ::1
    whose request names no other client in X-Forwarded-For, which a share link's tunnel does)
The students' own login (--auth) never opens it, and no prompt text is in it unless the teacher
turned that on (--usage-prompts).
"""

from __future__ import annotations

import hmac
import json
import math
from dataclasses import dataclass

from studio.classroom.hosts import LOOPBACK, client_address
from studio.classroom.login import LoginThrottle, basic_credentials
from studio.classroom.middleware import App, Receive, Scope, Send, header_value, peer_of
from studio.classroom.usage import Meter
from studio.classroom.usage_report import usage_page

PATHS = {"/usage": "html", "/usage.json": "json"}
LOCAL_ONLY = (
    "The {view} opens only on the computer that runs the studio, or with the teacher's "
    "login: start the studio with --admin user:password (or STUDIO_ADMIN)."
)
NO_METER = "This app keeps no usage record."


@dataclass(frozen=True)
class Answer:
    status: int
    message: str = ""
    headers: tuple[tuple[bytes, bytes], ...] = ()


def may_see_usage(
    peer: str,
    forwarded: str | None,
    authorization: str | None,
    admin: tuple[str, str] | None,
    throttle: LoginThrottle,
    view: str = "usage view",
) -> Answer:
    """200 for the teacher; otherwise the refusal: 401 (asks for the login), 403 or 429.
    `view`: what the refusal names (the class wall asks the same)."""
    if admin is None:
        local = peer in LOOPBACK and not forwarded
        return Answer(200) if local else Answer(403, LOCAL_ONLY.format(view=view))
    address = client_address(peer, forwarded)
    user, password = basic_credentials(authorization) or (None, None)
    known = user if user is not None and hmac.compare_digest(user, admin[0]) else None
    wait = throttle.wait(address, known)
    if wait > 0:
        seconds = str(max(1, math.ceil(wait)))
        retry = ((b"retry-after", seconds.encode()),)
        return Answer(429, f"Too many wrong tries: wait {seconds} s.", retry)
    right = hmac.compare_digest((password or "").encode(), admin[1].encode())
    if known is not None and right:
        throttle.succeeded(address)
        return Answer(200)
    if authorization:
        throttle.failed(address, known)
    challenge = ((b"www-authenticate", b'Basic realm="studio usage", charset="UTF-8"'),)
    return Answer(401, f"The {view} needs the teacher's login (--admin).", challenge)


def teacher_asks(
    scope: Scope, admin: tuple[str, str] | None, throttle: LoginThrottle, view: str = "usage view"
) -> Answer:
    """`may_see_usage` for the request `scope`: its peer, proxy header and Basic login."""
    return may_see_usage(
        peer_of(scope),
        header_value(scope, b"x-forwarded-for"),
        header_value(scope, b"authorization"),
        admin,
        throttle,
        view,
    )


class UsageView:
    """`meter`: the app's (None: an app that keeps no record, which says so)."""

    def __init__(
        self, app: App, admin: tuple[str, str] | None = None, meter: Meter | None = None
    ) -> None:
        self.app, self.admin, self.meter = app, admin, meter
        # the teacher's wrong passwords, kept where the app's counts are (shared by replicas)
        self.throttle = LoginThrottle(meter.store if meter else None, name="usage")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = PATHS.get(scope.get("path", "")) if scope["type"] == "http" else None
        if kind is None or scope.get("method") not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        answer = teacher_asks(scope, self.admin, self.throttle)
        if answer.status != 200:
            await send_text(
                send, answer.status, "text/plain", answer.message + "\n", answer.headers
            )
        elif self.meter is None:
            await send_text(send, 404, "text/plain", NO_METER + "\n")
        elif kind == "json":
            await send_text(
                send, 200, "application/json", json.dumps(self.meter.report(), indent=1)
            )
        else:
            await send_text(send, 200, "text/html; charset=utf-8", usage_page(self.meter.report()))


async def send_text(send: Send, status: int, kind: str, body: str, headers: tuple = ()) -> None:
    data = body.encode("utf-8")
    head = [
        (b"content-type", kind.encode()),
        (b"content-length", str(len(data)).encode()),
        (b"cache-control", b"no-store"),
        *headers,
    ]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": data})
