"""Real Redis and nginx for the tests of a studio in several processes, each started on a free
port with a configuration of its own in a temporary folder, and stopped after.

Without Debian's `redis-server` or `nginx` (or redis-py) those tests are skipped, unless
STUDIO_REQUIRE_HALL=1 (CI sets it) makes that a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port

DEPLOY_DOC = ROOT / "docs" / "deploy.md"


def need(binary: str) -> str:
    """The path of `binary` (or redis-py, for "redis"), or skip (fail under STUDIO_REQUIRE_HALL)."""
    found = shutil.which(binary) or shutil.which(binary, path="/usr/sbin:/sbin")
    if binary == "redis-py":
        try:
            import redis  # noqa: F401

            found = "redis"
        except ImportError:
            found = None
    if not found:
        message = f"{binary} is missing: apt-get install redis-server nginx; pip install redis"
        if os.environ.get("STUDIO_REQUIRE_HALL"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def wait_for(condition, what: str, seconds: float = 30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            result = condition()
            if result:
                return result
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not happen within {seconds:.0f} s")


class RedisServer:
    """A redis-server on a free port, keeping nothing on disk."""

    def __init__(self, port: int | None = None) -> None:
        self.binary = need("redis-server")
        need("redis-py")
        self.port = port or free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="redis-"))
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        config = self.folder / "redis.conf"
        config.write_text(
            f'port {self.port}\nbind 127.0.0.1\nsave ""\nappendonly no\ndir {self.folder}\n'
        )
        self.process = subprocess.Popen(
            [self.binary, str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        import redis

        client = redis.Redis.from_url(self.url)
        wait_for(lambda: _pings(client), "redis-server answering")
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


def _pings(client) -> bool:
    import redis

    try:
        return client.ping()
    except redis.RedisError:
        return False


def deploy_nginx_config() -> str:
    """The nginx configuration docs/deploy.md gives, as written there."""
    text = DEPLOY_DOC.read_text(encoding="utf-8")
    return re.search(r"```nginx\n(.*?)```", text, re.S).group(1)


class Nginx:
    """nginx with docs/deploy.md's configuration, its replicas and port swapped for the test's,
    its logs in a temporary folder. `log()` is its access log: which replica served each
    request, by the route cookie."""

    def __init__(self, studio_ports: list[int]) -> None:
        self.binary = need("nginx")
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="nginx-"))
        os.chmod(self.folder, 0o755)  # the workers, run as another user, write temp files here
        site = deploy_nginx_config()
        servers = "".join(
            f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;\n" for port in studio_ports
        )
        site = re.sub(r"(    server 127\.0\.0\.1:786\d[^\n]*\n)+", servers, site)
        site = site.replace("listen 80;", f"listen 127.0.0.1:{self.port};")
        site = site.replace("/var/log/nginx/", f"{self.folder}/")
        temp = "".join(
            f"{kind}_temp_path {self.folder}/{kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        user = "user root;\n" if os.geteuid() == 0 else ""
        (self.folder / "nginx.conf").write_text(
            f"{user}worker_processes 1;\npid {self.folder}/nginx.pid;\n"
            f"error_log {self.folder}/error.log;\nevents {{}}\n"
            f"http {{\naccess_log off;\n{temp}{site}}}\n"
        )
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Nginx:
        self.process = subprocess.Popen(
            [self.binary, "-p", str(self.folder), "-c", "nginx.conf", "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        wait_for(lambda: self._listening(), "nginx listening")
        return self

    def _listening(self) -> bool:
        import socket

        if self.process.poll() is not None:
            raise RuntimeError(f"nginx exited: {self.errors()}")
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def log(self) -> str:
        path = self.folder / "studio.log"
        return path.read_text() if path.exists() else ""

    def errors(self) -> str:
        path = self.folder / "error.log"
        return path.read_text() if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None
