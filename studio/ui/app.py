"""Compose the tabs into one Blocks app; the same function builds an app of a single tab.

The app's meter (studio.classroom.usage), made by whoever launches it, is handed to each tab,
whose events hand the person asking to the services: without one, nothing is counted."""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import gradio as gr

from studio import catalog
from studio.classroom.gradio_internals import use_lazy_session_state
from studio.classroom.usage import Meter
from studio.config import Config
from studio.doctor import check as check_tasks
from studio.errors import ConfigurationError
from studio.ui import (
    caption,
    chat,
    compare,
    entities,
    game,
    imagine,
    look,
    next_word,
    summarize,
    wall,
    wall_notice,
)
from studio.ui.common import describe_endpoint

# (config, the app's tab names, the app's meter or None)
Build = Callable[[Config, Collection[str], Meter | None], None]


@dataclass(frozen=True)
class Tab:
    name: str  # for --tabs
    title: str
    tasks: tuple[str, ...]  # whose endpoints it uses, for the backends table
    build: Build


# What builds each tab of the catalog's table (`catalog.TABS`: names, titles, tasks).
BUILDERS: dict[str, Build] = {
    "summarize": summarize.build,
    "ner": entities.build,
    "caption": caption.build,
    "imagine": imagine.build,
    "game": game.build,
    "chat": chat.build,
    "next_word": next_word.build,
    "compare": compare.build,
    "wall": wall.build,
}
TABS: tuple[Tab, ...] = tuple(
    Tab(spec.name, spec.title, spec.tasks, BUILDERS[spec.name]) for spec in catalog.TABS.values()
)
TAB_NAMES = tuple(tab.name for tab in TABS)

# Gradio keeps every upload and every picture it served in its cache, for good unless told:
# (every hour, delete files older than a day). A day keeps a lesson's pictures for the whole
# school day and the evening's homework (a page reopened in the afternoon still shows the
# morning's images), while the disk holds at most about a day of what a class sent and made.
# Gradio also empties the cache when the studio stops.
DELETE_CACHE = (3600, 86_400)


def select_tabs(names: Sequence[str]) -> list[Tab]:
    """The tabs named (all when none), in the order named."""
    if not names:
        return list(TABS)
    by_name = {tab.name: tab for tab in TABS}
    unknown = [name for name in names if name not in by_name]
    if unknown:
        raise ConfigurationError(
            f"Unknown tab {', '.join(unknown)}; the tabs are {', '.join(TAB_NAMES)}."
        )
    return [by_name[name] for name in names]


TITLE = "Generative AI studio"
# One line, so the tabs (and Chat's message box) start high enough for a laptop's first screen.
WHAT_IT_IS = "Small demos of what generative models do: pick a tab and try one."


def build_app(
    config: Config, tabs: Sequence[Tab] | None = None, meter: Meter | None = None
) -> gr.Blocks:
    """The app of `tabs` (the configured ones when None); `meter` counts what people ask."""
    tabs = list(tabs) if tabs is not None else select_tabs(config.tabs)
    use_lazy_session_state()  # a session costs what it does in a bare app (gradio_internals)
    title = TITLE if len(tabs) > 1 else f"{TITLE} · {tabs[0].title}"
    with gr.Blocks(title=title, delete_cache=DELETE_CACHE) as app:
        view = title_line(title)
        app.load(None, None, view, js=look.READ_VIEW, queue=False, api_visibility="private")
        with gr.Accordion("Where the models run", open=False):
            where = gr.Markdown(backends_table(config, tabs), elem_id="where-models-run")
            check = gr.Button("Check the model servers now", size="sm")
        check.click(
            functools.partial(status_table, config, tabs), None, where, api_visibility="private"
        )
        served = frozenset(tab.name for tab in tabs)
        if "wall" in served and len(tabs) > 1:
            wall_notice.notice(app, catalog.TABS["wall"].title)
        if len(tabs) == 1:
            tabs[0].build(config, served, meter)
        else:
            # On a phone the tabs wrap onto a second line instead of hiding behind a menu.
            with gr.Tabs(overflow_behavior="wrap"):
                for tab in tabs:
                    with gr.Tab(tab.title, id=tab.name):
                        tab.build(config, served, meter)
    # These tabs wait on model servers, not on this CPU: let many people wait at once.
    app.queue(default_concurrency_limit=config.concurrency)
    return app


def title_line(title: str) -> gr.Checkbox:
    """The title, a line that says what the studio is, and the presentation mode toggle, which
    `?view=projector` turns on too (see `studio.ui.look`)."""
    with gr.Row():
        gr.Markdown(f"# {title}\n{WHAT_IT_IS}", elem_classes=["studio-title"], scale=4)
        view = gr.Checkbox(
            label="Presentation mode: larger type for a projector",
            container=False,
            scale=1,
            min_width=200,
            elem_id="presentation-mode",
        )
    view.change(None, view, None, js=look.APPLY_VIEW, queue=False, api_visibility="private")
    return view


def status_table(config: Config, tabs: Sequence[Tab]) -> str:
    """The backends table with each task's status, asked of its server without spending
    credits (the same probes as `python -m studio --check`), and what to do."""
    tasks = catalog.tasks_of(tab.name for tab in tabs)
    rows = ["| Tab | Backend · model · host | Status | What to do |", "|---|---|---|---|"]
    for row in check_tasks(config, tasks):
        mark = "ok" if row.probe.ok else "**not ready**"
        where = describe_endpoint(config.endpoint(row.task))
        rows.append(f"| {row.tab} | {where} | {mark}: {row.probe.status} | {row.probe.advice} |")
    return "\n".join(rows)


def backends_table(config: Config, tabs: Sequence[Tab]) -> str:
    rows = ["| Tab | Backend · model · host |", "|---|---|"]
    for tab in tabs:
        for task in tab.tasks:
            title = catalog.TASKS[task].title
            label = tab.title if len(tab.tasks) == 1 else f"{tab.title} ({title})"
            rows.append(f"| {label} | {describe_endpoint(config.endpoint(task))} |")
    return "\n".join(rows)
