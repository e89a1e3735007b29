"""`python -m studio --check`: before class, whether each tab will work, and what to fix.

Every task's backend is asked without spending credits (see `Backend.probe`), all at once, and
the answers are one row per task: tab, backend, host, model, status, time taken, what to do.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from studio.backends.base import Probe
from studio.backends.registry import backend_for
from studio.catalog import TABS, TASKS, tasks_of
from studio.config import Config


@dataclass(frozen=True)
class Row:
    task: str
    where: str  # local, endpoint or the router (`Endpoint.where`)
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
    return Row(task, endpoint.where, endpoint.host, model, probe, time.perf_counter() - started)


def table(rows: Sequence[Row]) -> str:
    """The rows as a plain-text table, then what to do, one line per row that needs it."""
    header = ("Tab", "Backend", "Host", "Model", "Status", "Time")
    cells = [header] + [
        (
            row.tab,
            row.where,
            row.host,
            row.model,
            ("ok: " if row.probe.ok else "NO: ") + row.probe.status,
            f"{row.seconds * 1000:.0f} ms",
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in cells) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        for line in cells
    ]
    advice = [f"{row.tab}: {row.probe.advice}" for row in rows if row.probe.advice]
    return "\n".join(lines + ([""] + advice if advice else []))


def run_check(config: Config) -> int:
    """Print the table; the exit status is 1 when a tab cannot work."""
    rows = check(config)
    print(table(rows))
    return 0 if all(row.probe.ok for row in rows) else 1
