"""The studio's layer in front of Gradio's routes: five small ASGI middlewares.

`launch(app_kwargs={"middleware": [...]})` hands them to the FastAPI app Gradio builds, inside
Gradio's own compression and CORS layers, so they see every request and plain response bodies.

  CheckHost             answers 400 to a request for a name the studio is not served under
                        (DNS rebinding; see studio.classroom.hosts)
  RememberClient        tells the login (studio.classroom.login.CLIENT) which address is asking
  HideApiBeforeLogin    with a login, the login page carries no API description
  SayLoginLost          with a login, a page whose login this process does not know is told
                        in words to reload (its studio process stopped or restarted)
  GuardMcp              with a login and --mcp, the MCP routes ask for it as HTTP Basic auth

Why the last one: Gradio's page route puts the whole API description (every endpoint, its
parameters, code snippets) in the HTML of every page it serves, the login page included,
although `/gradio_api/info` itself asks for a login. The login page's client fetches that
description itself when the page has none (`window.gradio_api_info = null`); after logging in
the page reloads and gets it as before.

Why GuardMcp: Gradio mounts its MCP server (/gradio_api/mcp/, /gradio_api/mcp/sse, .../schema)
outside its login, so anyone could list the tools without it, and an MCP client cannot fill in
a login page. It sends the login as HTTP Basic auth instead, checked by the login's own check
(studio.classroom.login), wrong passwords slowed the same way.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException

from studio.classroom.gradio_internals import share_url_of
from studio.classroom.hosts import client_address as address_of
from studio.classroom.hosts import is_served
from studio.classroom.login import CLIENT, PasswordCheck, basic_credentials
from studio.classroom.mcp_tools import MCP_PATH

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

REFUSAL = (
    b"studio: this address is not one the studio is served under; "
    b"add its name to STUDIO_ALLOWED_HOSTS if it should be.\n"
)
MCP_REFUSAL = (
    b"studio: the MCP tools ask for the studio's login: send it as HTTP Basic auth "
    b"(the user:password of --auth).\n"
)
# What a page says when its login is not known here: Gradio's own answer is a dict the page
# shows as a bare "Error".
LOGIN_LOST = (
    "This page has lost its login: the studio server it was open on stopped or restarted. "
    "Reload the page and log in again to go on."
)
_API_INFO = b"<script>window.gradio_api_info = "
_LOGIN_PAGE = b'"auth_required":true'


def header_value(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


class CheckHost:
    def __init__(self, app: App, allowed: Iterable[str]) -> None:
        self.app, self.allowed = app, frozenset(allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self._served(scope):
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        else:
            headers = [(b"content-type", b"text/plain; charset=utf-8")]
            await send({"type": "http.response.start", "status": 400, "headers": headers})
            await send({"type": "http.response.body", "body": REFUSAL})

    def _served(self, scope: Scope) -> bool:
        share = _share_host(scope)
        allowed = self.allowed | {share} if share else self.allowed
        return is_served(header_value(scope, b"host"), allowed)


def _share_host(scope: Scope) -> str | None:
    """The host of the app's public link, once Gradio has made one (`--share`)."""
    share_url = share_url_of(scope.get("app"))
    return urlsplit(share_url).hostname if share_url else None


class RememberClient:
    """Sets `CLIENT` to the address asking, for the login's throttle."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            CLIENT.set(client_address(scope))
        await self.app(scope, receive, send)


def peer_of(scope: Scope) -> str:
    return (scope.get("client") or ("", 0))[0]


def client_address(scope: Scope) -> str:
    """The address asking (see studio.classroom.hosts.client_address)."""
    return address_of(peer_of(scope), header_value(scope, b"x-forwarded-for"))


async def _answer(send: Send, status: int, body: bytes, headers: dict[str, str]) -> None:
    raw = [(b"content-type", b"text/plain; charset=utf-8")]
    raw += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class GuardMcp:
    def __init__(self, app: App, check: PasswordCheck) -> None:
        self.app, self.check = app, check

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_mcp_route(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        try:
            allowed = await basic_login(scope, self.check)
        except HTTPException as exc:  # too many wrong passwords from this address
            await _answer(send, exc.status_code, f"studio: {exc.detail}\n".encode(), exc.headers)
            return
        if allowed:
            await self.app(scope, receive, send)
        else:
            challenge = {"www-authenticate": 'Basic realm="studio MCP", charset="UTF-8"'}
            await _answer(send, 401, MCP_REFUSAL, challenge)


def is_mcp_route(path: str) -> bool:
    return path == MCP_PATH or path.startswith(MCP_PATH + "/")


async def basic_login(scope: Scope, check: PasswordCheck) -> bool:
    """Whether the request's HTTP Basic auth is the login; no header is no try at all."""
    given = basic_credentials(header_value(scope, b"authorization"))
    return given is not None and await check(*given)


class HideApiBeforeLogin:
    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def send_page(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start" and _is_html(message):
                start = message  # held until the whole page is here
            elif message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    await _send_whole(send, start, without_api_info(b"".join(chunks)))
            else:
                await send(message)

        await self.app(scope, receive, send_page)


def _is_html(start: Message) -> bool:
    for key, value in start.get("headers", ()):
        if key.lower() == b"content-type":
            return value.startswith(b"text/html")
    return False


async def _send_whole(send: Send, start: Message, body: bytes) -> None:
    headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({**start, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def without_api_info(page: bytes) -> bytes:
    """A login page without the API description Gradio put in it; any other page as it is."""
    begin = page.find(_API_INFO)
    if begin < 0 or _LOGIN_PAGE not in page:
        return page
    end = page.find(b";</script>", begin)
    if end < 0:
        return page
    return page[: begin + len(_API_INFO)] + b"null" + page[end:]


class SayLoginLost:
    """A page's request to run an event (`queue/join`) that Gradio refuses for want of a login
    is answered with LOGIN_LOST, which the page shows. It happens to a page that was open on a
    replica that stopped (nginx sends it to another, which never saw its login), or on a
    studio that restarted (logins live in its memory)."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or scope["method"] != "POST" or not path.endswith("queue/join"):
            await self.app(scope, receive, send)
            return
        refused = False

        async def send_plain(message: Message) -> None:
            nonlocal refused
            if message["type"] == "http.response.start" and message["status"] == 401:
                refused = True
                body = json.dumps({"detail": LOGIN_LOST}).encode()
                start = {**message, "headers": [(b"content-type", b"application/json")]}
                await _send_whole(send, start, body)
            elif not refused:  # Gradio's own body of a refusal is left out
                await send(message)

        await self.app(scope, receive, send_plain)
