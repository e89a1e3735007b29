"""`python -m studio`: the only place that reads the command line."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from studio.catalog import LOCAL_EXTRA_MISSING
from studio.classroom.mcp_tools import prepare as prepare_mcp
from studio.classroom.usage import meter_for
from studio.config import Config, load_config, read_environment
from studio.errors import ConfigurationError
from studio.secrets import mask_logs
from studio.serve import Served, serve
from studio.services import runs_here, setup_problem

log = logging.getLogger("studio")

SHARE_WARNING = """
!!! --share makes a public link. Anyone who has it can use this studio and spend the credits
!!! of the access token it runs with. Protect it with --auth user:password (or STUDIO_AUTH).
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m studio",
        description="Six generative-AI demos in one Gradio app. Settings also come from the "
        "environment and a .env file: see docs/configuration.md.",
    )
    parser.add_argument(
        "--host", help="address to listen on (default 127.0.0.1; 0.0.0.0 for a LAN)"
    )
    parser.add_argument("--port", type=int, help="port (default 7860, or STUDIO_PORT)")
    parser.add_argument(
        "--tabs", help="comma-separated tabs to serve, e.g. summarize,ner (default: all)"
    )
    parser.add_argument(
        "--per-tab-ports",
        action="store_true",
        help="serve each tab as its own app on consecutive ports from --port",
    )
    parser.add_argument("--share", action="store_true", help="also make a public Gradio link")
    parser.add_argument(
        "--share-without-auth",
        action="store_true",
        help="allow --share without --auth although an access token is configured",
    )
    parser.add_argument("--auth", help="user:password required to open the app (or STUDIO_AUTH)")
    parser.add_argument(
        "--local",
        help="run these tasks on this computer (comma-separated, or all); needs "
        "pip install -r requirements-local.txt",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="ask every tab's model server whether it will work (no credits spent), then exit",
    )
    parser.add_argument(
        "--prepare",
        action="store_true",
        help="before class: download every model the tabs run on this computer, then --check",
    )
    parser.add_argument(
        "--mcp",
        action="store_true",
        help="also serve each tab's API as MCP tools for agents (or STUDIO_MCP=1); needs "
        "pip install -r requirements-mcp.txt",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        help="requests served at once per event, such as a tab's button "
        "(default 100: a class of 100 at once)",
    )
    parser.add_argument(
        "--root-path",
        help="the path prefix a reverse proxy serves the studio under, e.g. /studio "
        "(or STUDIO_ROOT_PATH; docs/deploy.md)",
    )
    add_teaching_flags(parser.add_argument_group("teaching a class (docs/teaching.md)"))
    return parser.parse_args(argv)


def add_teaching_flags(teaching) -> None:
    """Limits per person and the teacher's usage view."""
    teaching.add_argument(
        "--limit", help="model requests per person, e.g. 10/minute,100/hour (or STUDIO_LIMIT)"
    )
    teaching.add_argument(
        "--image-limit", help="pictures per person, e.g. 20/hour (or STUDIO_IMAGE_LIMIT)"
    )
    teaching.add_argument(
        "--chat-token-limit",
        help="chat tokens per person, e.g. 5000/hour (or STUDIO_CHAT_TOKEN_LIMIT)",
    )
    teaching.add_argument(
        "--total-limit",
        help="model requests of everyone together, e.g. 1000/hour (or STUDIO_TOTAL_LIMIT)",
    )
    teaching.add_argument(
        "--admin",
        help="user:password for the usage view at /usage (or STUDIO_ADMIN); without it, /usage "
        "opens only on this computer",
    )
    teaching.add_argument(
        "--usage-prompts",
        action="store_true",
        help="show what each person asked in the usage view (or STUDIO_USAGE_PROMPTS=1)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for client in ("httpx", "httpx2"):  # Gradio's and huggingface_hub's HTTP clients
        logging.getLogger(client).setLevel(logging.WARNING)  # one line per request is noise
    mask_logs()
    args = parse_args(argv)
    try:
        config = load_config(read_environment(), local_extra=_local_extra(), **vars(args))
        if args.check or args.prepare:
            from studio import doctor  # no Gradio needed to ask the servers

            return doctor.run_prepare(config) if args.prepare else doctor.run_check(config)
        if config.mcp:
            prepare_mcp()  # the extra must be installed
        apps = _build(config)
        _check_share(config, allow_without_auth=args.share_without_auth)
    except ConfigurationError as exc:
        print(f"studio: {exc}", file=sys.stderr)
        return 2
    here = [task for task, endpoint in config.endpoints.items() if runs_here(endpoint)]
    if here and setup_problem(config, here[0]):  # the app starts; those tabs say it too
        print(f"studio: --local {','.join(here)}: {LOCAL_EXTRA_MISSING}", file=sys.stderr)
    return serve(config, apps)


def _local_extra() -> bool:
    from studio.local.models import extra_installed  # looks for the packages, imports none

    return extra_installed()


def _build(config: Config) -> list[Served]:
    """Each app to serve, with a meter of its own that its events and its usage view share."""
    from studio.classroom.shared import open_store
    from studio.ui.app import build_app, select_tabs  # Gradio loads only once flags are read

    tabs = select_tabs(config.tabs)
    groups = [[tab] for tab in tabs] if config.per_tab_ports else [tabs]
    store = open_store(config.redis_url)  # with several replicas, the one they share
    apps = []
    for i, group in enumerate(groups):
        meter = meter_for(config, store)
        app = build_app(config, group, meter)
        apps.append(Served(app, config.port + i, [tab.name for tab in group], meter))
    return apps


def _check_share(config: Config, *, allow_without_auth: bool) -> None:
    if not config.share or config.auth:
        return
    if config.has_token and not allow_without_auth:
        raise ConfigurationError(
            "--share with an access token and no --auth would let anyone with the link spend the "
            "token's credits. Add --auth user:password, or --share-without-auth if you mean it."
        )
    print(SHARE_WARNING, file=sys.stderr)
