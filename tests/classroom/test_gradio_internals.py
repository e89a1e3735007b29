"""Each use of Gradio below its public API (studio/classroom/gradio_internals.py), checked
against the Gradio installed. A failure names what changed and the Gradio version the module
was written against: read that part of gradio_internals.py beside Gradio's new source.

What each piece does is tested where it is used (test_sessions, test_mcp, test_hardening, the
tabs); these only pin what Gradio must still have for it to work.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import gradio as gr
import pytest
from gradio import processing_utils, route_utils, routes, state_holder
from gradio.blocks import BlocksConfig
from gradio.state_holder import SessionState

from studio.classroom import gradio_internals
from studio.classroom.gradio_internals import GRADIO_CHECKED


def pinned(holds: bool, what: str) -> None:
    assert holds, (
        f"Gradio {gr.__version__} changed {what}. studio/classroom/gradio_internals.py was "
        f"written against Gradio {GRADIO_CHECKED}: check it against the new Gradio's source."
    )


def parameters(fn) -> list[str]:
    return list(inspect.signature(fn).parameters)


def calls(source_of, text: str) -> bool:
    return text in inspect.getsource(source_of)


@pytest.fixture(scope="module")
def blocks():
    with gr.Blocks() as app:
        gr.Textbox()
    return app


def test_gradio_still_makes_sessions_the_way_lazy_session_state_replaces():
    pinned(
        calls(state_holder.StateHolder, "SessionState(self.blocks)")
        and calls(route_utils, "SessionState(app.get_blocks())"),
        "where it makes a SessionState (state_holder.StateHolder and route_utils look the name "
        "up in their module, which use_lazy_session_state replaces)",
    )
    pinned(
        parameters(SessionState.__init__) == ["self", "blocks"],
        "SessionState.__init__'s parameters (LazySessionState.__init__ stands in for it)",
    )
    pinned(
        parameters(SessionState._update_value_in_config) == ["self", "key", "value"],
        "SessionState._update_value_in_config (LazySessionState overrides it)",
    )
    pinned(
        isinstance(inspect.getattr_static(SessionState, "components"), property),
        "SessionState.components, no longer a property (LazySessionState overrides it)",
    )


def test_the_blocks_still_hold_what_a_lazy_session_reads(blocks):
    pinned(
        parameters(BlocksConfig.config_for_block)[:3] == ["_id", "rendered_ids", "block"],
        "BlocksConfig.config_for_block's parameters (LazySessionState._settings calls it)",
    )
    pinned(
        isinstance(blocks.default_config, BlocksConfig) and isinstance(blocks.blocks, dict),
        "Blocks.default_config or Blocks.blocks (LazySessionState reads both)",
    )
    session = SessionState(blocks)
    pinned(
        {"blocks_config", "config_values", "state_data", "_state_ttl", "is_closed"}
        <= set(vars(session)),
        "the attributes SessionState.__init__ sets (LazySessionState sets the same)",
    )


def test_gradios_mcp_server_still_has_what_adapt_mcp_server_replaces(blocks):
    mcp = pytest.importorskip(
        "gradio.mcp", reason="the MCP extra: pip install -r requirements-mcp.txt"
    )
    server_class = mcp.GradioMCPServer
    pinned(
        blocks.mcp_server_obj is None,
        "Blocks.mcp_server_obj, where adapt_mcp_server finds the MCP server",
    )
    execute = server_class._execute_tool_without_progress
    pinned(
        inspect.iscoroutinefunction(execute) and parameters(execute) == ["self", "job"],
        "GradioMCPServer._execute_tool_without_progress (adapt_mcp_server replaces it with an "
        "async function of the job)",
    )
    pinned(
        calls(server_class, "await self._execute_tool_without_progress(job)"),
        "how GradioMCPServer calls _execute_tool_without_progress (looked up on the instance, "
        "where adapt_mcp_server puts its own)",
    )
    pinned(
        parameters(server_class._get_or_create_client) == ["self"]
        and calls(server_class, "run_sync(self._get_or_create_client)"),
        "GradioMCPServer._get_or_create_client or how it is called (adapt_mcp_server replaces "
        "it on the instance with one that logs in)",
    )
    server = server_class(blocks)
    pinned(
        server._client_instance is None and hasattr(server, "local_url"),
        "GradioMCPServer._client_instance or .local_url (the logged-in client is kept in the "
        "first and made for the second)",
    )


def test_the_asgi_app_still_leads_to_the_share_link(blocks):
    pinned(
        callable(getattr(routes.App, "get_blocks", None)) and hasattr(blocks, "share_url"),
        "routes.App.get_blocks or Blocks.share_url (share_url_of reads the share link there)",
    )
    app = routes.App.create_app(blocks)
    pinned(
        app.get_blocks() is blocks,
        "routes.App.get_blocks (share_url_of reads the share link there)",
    )
    assert gradio_internals.share_url_of(app) is None  # no --share: no link
    assert gradio_internals.share_url_of(None) is None  # not Gradio's app


def test_files_are_still_written_where_gradio_serves_them(tmp_path: Path):
    pinned(
        parameters(processing_utils.save_bytes_to_cache) == ["data", "file_name", "cache_dir"],
        "processing_utils.save_bytes_to_cache's parameters (save_to_cache calls it)",
    )
    path = Path(gradio_internals.save_to_cache(b"picture", "round-0.jpg", str(tmp_path)))
    pinned(
        path.read_bytes() == b"picture" and tmp_path in path.parents and path.name == "round-0.jpg",
        "what processing_utils.save_bytes_to_cache writes, or where",
    )


def test_a_build_still_knows_the_tab_it_runs_inside():
    pinned(hasattr(gr.context.Context, "block"), "gradio.context.Context.block (enclosing_tab)")
    with gr.Blocks():
        assert gradio_internals.enclosing_tab() is None
        with gr.Tabs():
            with gr.Tab("Class") as tab:
                found = gradio_internals.enclosing_tab()
                with gr.Row():
                    inside_a_row = gradio_internals.enclosing_tab()
    pinned(found is tab, "gradio.context.Context.block inside a gr.Tab (enclosing_tab)")
    assert inside_a_row is None  # only the tab's own level: a build lays out under it directly
