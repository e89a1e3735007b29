"""The classroom wing: what a studio shared with a class adds around the tabs.

    limits.py         limits per person: sliding windows, a clear wait, bounded memory
    usage.py          the meter: a request admitted or refused with the wait, the last hour kept;
                      usage_report.py sums it, usage_page.py answers the teacher's /usage
    people.py         who is asking, from the Gradio event's request: the caller handed to the
                      services, with the app's meter
    login.py          the login that slows guessers; HTTP Basic credentials read once
    hosts.py          the names the studio answers to (DNS rebinding), and which address asks
    middleware.py     the ASGI layers in front of Gradio's routes: the Host check, the address
                      for the login, no API description before the login, the MCP routes' login
    mcp_tools.py      --mcp: tool names and docstrings, the extra's check
    gradio_internals.py   every use of Gradio below its public API, each pinned by a test: a
                      session without a copy of every component's settings, Gradio's MCP
                      server adapted, the share link, files put where Gradio serves them

The app (studio.ui.app) is handed a meter by whoever launches it (studio.cli), and hands it to
its events; the launch (studio.serve) hands the same meter to the usage page. Nothing here
imports the UI.
"""
