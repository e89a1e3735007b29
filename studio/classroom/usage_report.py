"""The usage view's content: the last hour's entries summed per tab, per person and per backend,
as data (`/usage.json`) and as a small page (`/usage`). Pure: no Gradio, no HTTP.

Tabs are named by the task they ask for: the game's captions and pictures count under Caption
and Imagine. People are shown by login name, or by the first characters of their session.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

from studio.catalog import TASKS
from studio.classroom.limits import Limits

COUNTS = ("requests", "errors", "refused", "images", "tokens")


def _zero() -> dict[str, int]:
    return dict.fromkeys(COUNTS, 0)


def _count(into: dict[str, int], entry: Any) -> None:
    if entry.outcome == "refused":
        into["refused"] += 1
        return
    into["requests"] += 1
    into["errors"] += entry.outcome == "error"
    into["images"] += entry.images
    into["tokens"] += entry.tokens


def tab_title(task: str) -> str:
    return TASKS[task].title if task in TASKS else task


def summarize_entries(entries: Iterable[Any], limits: Limits, keep_prompts: bool) -> dict:
    tabs: dict[str, dict[str, int]] = {}
    people: dict[str, dict[str, Any]] = {}
    hosts: dict[tuple[str, str], list[float]] = {}
    for entry in entries:
        _count(tabs.setdefault(tab_title(entry.task), _zero()), entry)
        person = people.setdefault(entry.person, {"person": entry.person, **_zero(), "tabs": {}})
        _count(person, entry)
        _count(person["tabs"].setdefault(tab_title(entry.task), _zero()), entry)
        if keep_prompts and entry.prompt:
            person.setdefault("prompts", []).append(entry.prompt)
        if entry.outcome != "refused" and entry.host:
            hosts.setdefault((entry.host, tab_title(entry.task)), []).append(entry.seconds)
    backends = [
        {
            "host": host,
            "tab": tab,
            "requests": len(times),
            "mean_seconds": round(sum(times) / len(times), 2),
            "max_seconds": round(max(times), 2),
        }
        for (host, tab), times in hosts.items()
    ]
    backends.sort(key=lambda row: row["mean_seconds"], reverse=True)
    return {
        "window": "the last hour",
        "limits": _limit_words(limits),
        "tabs": tabs,
        "people": sorted(people.values(), key=lambda row: -row["requests"]),
        "refused": sum(tab["refused"] for tab in tabs.values()),
        "backends": backends,
        "slowest_backend": backends[0] if backends else None,
        "prompts_shown": keep_prompts,
    }


def _limit_words(limits: Limits) -> dict[str, str]:
    names = {
        "requests": "requests per person",
        "images": "pictures per person",
        "chat_tokens": "chat tokens per person",
        "total": "requests of everyone",
        "new_sessions": "new sessions per address",
    }
    words = {}
    for field, name in names.items():
        rules = getattr(limits, field)
        if rules:
            words[name] = ", ".join(str(rule) for rule in rules)
    return words


# --- the page ----------------------------------------------------------------------------------

STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}"
    "table{border-collapse:collapse;margin-bottom:1.5rem}"
    "td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}"
)


def usage_page(report: dict) -> str:
    e = html.escape
    limits = report["limits"]
    limit_line = (
        "; ".join(f"{e(name)}: {e(rules)}" for name, rules in limits.items()) or "no limits"
    )
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Studio usage</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>Usage over {e(report['window'])}</h1>",
        f"<p>Limits: {limit_line}. Refused requests: <strong>{report['refused']}</strong>.</p>",
    ]
    if report.get("kept"):
        parts.append(f"<p>Counted in: {e(report['kept'])}.</p>")
    slowest = report["slowest_backend"]
    if slowest:
        parts.append(
            f"<p>Slowest backend: <strong>{e(slowest['host'])}</strong> ({e(slowest['tab'])}), "
            f"{slowest['mean_seconds']} s on average, {slowest['max_seconds']} s at most.</p>"
        )
    parts.append("<h2>Per tab</h2>")
    parts.append(
        _table(
            ["Tab", *COUNTS],
            [[tab, *(row[c] for c in COUNTS)] for tab, row in report["tabs"].items()],
        )
    )
    parts.append("<h2>Per person</h2>")
    rows = []
    for person in report["people"]:
        tabs = ", ".join(f"{tab}: {row['requests']}" for tab, row in person["tabs"].items())
        row = [person["person"], *(person[c] for c in COUNTS), tabs]
        if report["prompts_shown"]:
            row.append(" | ".join(person.get("prompts", [])))
        rows.append(row)
    heads = ["Person", *COUNTS, "Requests per tab"]
    parts.append(_table([*heads, "Prompts"] if report["prompts_shown"] else heads, rows))
    parts.append("<h2>Backends</h2>")
    parts.append(
        _table(
            ["Host", "Tab", "requests", "mean s", "max s"],
            [
                [b["host"], b["tab"], b["requests"], b["mean_seconds"], b["max_seconds"]]
                for b in report["backends"]
            ],
        )
    )
    parts.append("</body></html>")
    return "".join(parts)


def _table(heads: list[str], rows: list[list[Any]]) -> str:
    if not rows:
        return "<p>Nothing yet.</p>"
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in heads)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"
