"""The environment every test starts a server with: the caller's, minus anything that would
reach a real provider or change config behind the test's back."""

from __future__ import annotations

import os


def server_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("VICTOR_", "ANTHROPIC_", "OPENAI_"))}
    # keyword selection keeps every run off the embedding model; selection has its own tests
    env["VICTOR_TOOL_SELECTION__STRATEGY"] = "keyword"
    env.update(extra or {})
    return env
