"""Progress: what a slow step (a download, a model load, a queue, a picture a provider is
making) calls with short messages for the person waiting. The layers that report it, backends,
local models and services, all stand on `studio.tasks`, so its one definition lives here."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str], None]
