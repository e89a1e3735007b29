"""Stands in for the Hub's file routes at HF_ENDPOINT, for downloads without the network.

It serves the files of local folders as model repositories, answering what snapshot_download,
hf_hub_download and from_pretrained ask (huggingface_hub 2.x):

  GET  /api/models/{repo}[/revision/{rev}]        model info: {"id", "sha", "siblings"}
  GET  /api/models/{repo}/tree/{rev}?recursive=.. [{"type": "file", "path", "size", "oid"}]
  HEAD /{repo}/resolve/{rev}/{file}               X-Repo-Commit, ETag, Content-Length
  GET  /{repo}/resolve/{rev}/{file}               the bytes, in chunks, `chunk_delay` apart
  anything else, or a file not there              404 with X-Error-Code (EntryNotFound,
                                                  RepoNotFound), as the Hub answers
Every request is recorded (method, path) so tests can see what was downloaded.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from tests.stand_ins.servers import LocalServer

SHA = "0123456789abcdef0123456789abcdef01234567"
CHUNK = 4096
RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<file>.+)$")
API = re.compile(r"^/api/models/(?P<repo>[^/]+/[^/]+)(?P<rest>/.*)?$")


@dataclass
class HubServer(LocalServer):
    repos: dict[str, Path] = field(default_factory=dict)  # repo id -> folder of its files
    chunk_delay: float = 0.0  # seconds between chunks of a file, for downloads that take a while
    requests: list[tuple[str, str]] = field(default_factory=list)

    def files(self, repo: str) -> dict[str, Path]:
        folder = self.repos[repo]
        return {
            p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file()
        }

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        return type("Handler", (_Handler,), {"hub": self})


class _Handler(BaseHTTPRequestHandler):
    hub: HubServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def _answer(self, *, send_body: bool) -> None:
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        self.hub.requests.append((self.command, path))
        if match := API.match(path):
            return self._api(match["repo"], match["rest"] or "")
        if (match := RESOLVE.match(path)) and match["repo"] in self.hub.repos:
            return self._file(match["repo"], match["file"], send_body)
        return self._missing("RepoNotFound")

    def _api(self, repo: str, rest: str) -> None:
        if repo not in self.hub.repos:
            return self._missing("RepoNotFound")
        files = self.hub.files(repo)
        if rest.startswith("/tree/"):
            entries = [
                {"type": "file", "path": name, "size": p.stat().st_size, "oid": _oid(p)}
                for name, p in files.items()
            ]
            return self._json(entries)
        siblings = [{"rfilename": name} for name in files]
        return self._json({"id": repo, "modelId": repo, "sha": SHA, "siblings": siblings})

    def _file(self, repo: str, name: str, send_body: bool) -> None:
        found = self.hub.files(repo).get(name)
        if found is None:
            return self._missing("EntryNotFound")
        data = found.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("ETag", f'"{_oid(found)}"')
        self.send_header("X-Repo-Commit", SHA)
        self.end_headers()
        if not send_body:
            return
        for start in range(0, len(data), CHUNK):
            self.wfile.write(data[start : start + CHUNK])
            self.wfile.flush()
            if self.hub.chunk_delay:
                time.sleep(self.hub.chunk_delay)

    def _missing(self, code: str) -> None:
        body = json.dumps({"error": f"{code}: not on this stand-in"}).encode()
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Error-Code", code)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, payload) -> None:
        body = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _oid(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()
