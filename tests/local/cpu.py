"""A process's CPU time (Linux's /proc), for tests that prove a model stopped generating: the
process is idle once its CPU time stops growing, and busy while it grows about as fast as the
clock. Each is waited for as a condition over a sliding window, never for a fixed time."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

WINDOW = 1.0  # seconds of samples a judgement is made over
IDLE_GROWTH = 0.1  # CPU seconds within a window that still count as idle: the server's loop
BUSY_GROWTH = 0.3  # CPU seconds within a window that count as busy: a model generating
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of the process so far (/proc/<pid>/stat, fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def first_window(pid: int, holds: Callable[[float], bool], timeout: float) -> float | None:
    """When the first window began (monotonic seconds) whose CPU growth `holds`, or None if
    none did within `timeout`."""
    samples: list[tuple[float, float]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now, used = time.monotonic(), cpu_seconds(pid)
        samples.append((now, used))
        began, then = next((t, c) for t, c in samples if now - t <= WINDOW)
        if now - began >= WINDOW * 0.9 and holds(used - then):
            return began
        time.sleep(0.1)
    return None


def idle_since(pid: int, timeout: float) -> float | None:
    """When the process's CPU time stopped growing, or None within `timeout`."""
    return first_window(pid, lambda growth: growth <= IDLE_GROWTH, timeout)


def busy_within(pid: int, timeout: float) -> bool:
    """Whether the process spends most of a second's CPU time in a window within `timeout`."""
    return first_window(pid, lambda growth: growth >= BUSY_GROWTH, timeout) is not None
