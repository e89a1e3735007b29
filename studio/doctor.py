"""What the studio says of its set-up: at start, each tab with its backend and model (or what
to set) and the addresses students should open; and `python -m studio --check`, before class,
whether each tab will work and what to fix.

`--check` asks every task's backend without spending credits (see `Backend.probe`), all at
once, and answers one row per task: tab, backend, host, model, status, time taken, what to do.
"""

from __future__ import annotations

import socket
import textwrap
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from studio.backends.base import Probe
from studio.backends.registry import backend_for, capabilities
from studio.catalog import INSTALL_LOCAL, TABS, TASKS, tasks_of
from studio.config import Config


@dataclass(frozen=True)
class Row:
    task: str
    where: str  # local, endpoint or the router (`Endpoint.where`)
    here: bool  # the model runs in this process
    host: str
    model: str
    probe: Probe
    seconds: float

    @property
    def tab(self) -> str:
        return TASKS[self.task].title


def check(config: Config, tasks: Sequence[str] | None = None) -> list[Row]:
    """Probe every task the configuration serves (or `tasks`), all at once."""
    if tasks is None:  # the tasks of the tabs served (all when none is named)
        tasks = tasks_of(config.tabs or TABS)
    with ThreadPoolExecutor(max_workers=len(tasks) or 1) as pool:
        return list(pool.map(lambda task: _row(config, task), tasks))


def _row(config: Config, task: str) -> Row:
    endpoint = config.endpoint(task)
    started = time.perf_counter()
    try:
        probe = backend_for(endpoint).probe(endpoint)
    except Exception as error:  # a probe must never stop the others
        probe = Probe(False, "probe failed", f"{type(error).__name__}: {error}")
    model = endpoint.model or "(the server's)"
    here = capabilities(endpoint).in_process
    seconds = time.perf_counter() - started
    return Row(task, endpoint.where, here, endpoint.host, model, probe, seconds)


WIDTH = 80  # a terminal's: the table and its advice are wrapped to fit
TAB_WIDTH = 11


def table(rows: Sequence[Row]) -> str:
    """One entry per row, each fitting 80 columns: the tab, its status and the time taken, then
    the model and where it runs; then what to do, one wrapped paragraph per row that needs it."""
    lines = [_cells("Tab", "Status", "Time")]
    for row in rows:
        status = ("ok: " if row.probe.ok else "NO: ") + row.probe.status
        lines.append(_cells(row.tab, status, f"{row.seconds * 1000:.0f} ms"))
        place = f"{row.model} · {row.where} at {row.host}"
        if row.here:
            place = f"{row.model} · on this computer"
        lines += _wrap(place, " " * TAB_WIDTH, " " * TAB_WIDTH)
    advice = [row for row in rows if row.probe.advice]
    if advice:
        lines += ["", "What to do:"]
    for row in advice:
        lines += _wrap(f"{row.tab}: {row.probe.advice}", "", "  ")
    return "\n".join(lines)


def _cells(tab: str, status: str, time_taken: str) -> str:
    room = WIDTH - TAB_WIDTH - len(time_taken) - 1
    if len(status) > room:
        status = status[: room - 1] + "…"
    return f"{tab:<{TAB_WIDTH}}{status:<{room}} {time_taken}"


# Commands in the advice stay on one line, to be copied whole.
COMMANDS = (
    "HF_HUB_OFFLINE=0 python -m studio --prepare",
    "python -m studio --prepare",
    INSTALL_LOCAL,
)
NBSP = "\u00a0"


def _wrap(text: str, first: str, rest: str) -> list[str]:
    for command in COMMANDS:
        text = text.replace(command, command.replace(" ", NBSP))
    lines = textwrap.wrap(
        text,
        WIDTH,
        initial_indent=first,
        subsequent_indent=rest,
        break_on_hyphens=False,
        break_long_words=True,
    )
    return [line.replace(NBSP, " ") for line in lines]


def run_check(config: Config) -> int:
    """Print the table; the exit status is 1 when a tab cannot work."""
    rows = check(config)
    print(table(rows))
    return 0 if all(row.probe.ok for row in rows) else 1


def say(line: str) -> None:
    print("\n".join(_wrap(line, "", "  ")), flush=True)


def run_prepare(config: Config) -> int:
    """Download every model the served tabs run on this computer, then print the check's
    table; the exit status is 1 when a download failed or a tab cannot work."""
    from studio.local.prepare import prepare  # needs huggingface_hub, which Gradio brings

    endpoints = [config.endpoint(task) for task in tasks_of(config.tabs or TABS)]
    here = [endpoint for endpoint in endpoints if capabilities(endpoint).in_process]
    models = {endpoint.task: endpoint.model for endpoint in here}
    if not models:
        print(
            "No tab runs on this computer, so there is nothing to download. --local (or "
            "STUDIO_LOCAL) chooses the tabs that do."
        )
        downloaded = True
    else:
        downloaded = prepare(models, say, hub=here[0].hub)
        print()
    return max(run_check(config), 0 if downloaded else 1)


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
    if any(capabilities(config.endpoint(task)).in_process for task in tasks):
        lines.append("Before class, `python -m studio --prepare` downloads the local models.")
    lines.append("Before class, `python -m studio --check` asks every model server if it is ready.")
    return "\n".join(lines)
