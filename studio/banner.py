"""What the terminal says at start: each tab with its backend and model (or what to set), and
the addresses students should open. Pure text, from the configuration."""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence

from studio.catalog import TASKS, tasks_of
from studio.config import Config

EVERY_ADDRESS = ("0.0.0.0", "::", "")


def lan_addresses() -> list[str]:
    """This machine's addresses other machines on its networks can reach (no loopback)."""
    try:
        _, _, found = socket.gethostbyname_ex(socket.gethostname())
    except OSError:
        return []
    return sorted({address for address in found if not address.startswith("127.")})


def addresses(config: Config, port: int, lan: Callable[[], list[str]] = lan_addresses) -> list[str]:
    """The URLs to open: on every address, this computer's and each LAN address."""
    if config.host in EVERY_ADDRESS:
        hosts = ["127.0.0.1", *lan()]
    else:
        hosts = [config.host]
    return [f"http://{f'[{host}]' if ':' in host else host}:{port}/" for host in hosts]


def task_line(config: Config, task: str, problem: str | None) -> str:
    endpoint = config.endpoint(task)
    where = f"{endpoint.where} · {endpoint.model or 'the server’s model'} · {endpoint.host}"
    return f"  {TASKS[task].title:<10} {'needs setup: ' + problem if problem else where}"


def banner(
    config: Config,
    apps: Sequence[tuple[Sequence[str], int]],
    problems: Callable[[str], str | None],
    *,
    share_urls: Sequence[str | None] = (),
    lan: Callable[[], list[str]] = lan_addresses,
) -> str:
    """`apps` are (tab names, port); `problems(task)` says why a task cannot run yet."""
    tabs = [tab for names, _ in apps for tab in names]
    tasks = tasks_of(tabs)
    lines = ["studio is running. The tabs and where their models run:"]
    lines += [task_line(config, task, problems(task)) for task in tasks]
    lines.append("")
    for index, (names, port) in enumerate(apps):
        urls = addresses(config, port, lan)
        label = "Open" if len(apps) == 1 else f"{', '.join(names)}:"
        lines.append(f"{label} {urls[0]}")
        if len(urls) > 1:
            lines.append(f"  students on this network: {'  '.join(urls[1:])}")
        share = share_urls[index] if index < len(share_urls) else None
        if share:
            lines.append(f"  public link (anyone who has it can use it): {share}")
    lines.append("Before class, `python -m studio --check` asks every model server if it is ready.")
    return "\n".join(lines)
