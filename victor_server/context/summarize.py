"""The summarizer compaction strategies call: the turn's model, asked for a summary.

Built from the server's providers and the settings it is for; it reaches no other part.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from victor_server.messages import Message
from victor_server.providers.base import ModelRequest

if TYPE_CHECKING:
    from victor_server.providers import Providers
    from victor_server.settings import Settings

Summarizer = Callable[[list[Message]], Awaitable[str]]

INSTRUCTION = ("Summarize this conversation span for a coding agent. Keep decisions, file names, "
               "errors and anything the user marked important.")


def summarizer_for(providers: Providers, settings: Settings) -> Summarizer:
    """Summaries by ``settings.model`` (at most 1,024 tokens) through its provider, which is
    built when the first summary is asked for (a compaction that never summarizes needs no
    API key)."""

    async def summarize(messages: list[Message]) -> str:
        transcript = "\n".join(f"{m.role}: {m.text()}" for m in messages)
        request = ModelRequest(
            model=settings.model, max_tokens=min(settings.max_tokens, 1024), system=INSTRUCTION,
            messages=[{"role": "user", "content": transcript}])
        text: list[str] = []
        async for event in providers.for_settings(settings).stream(request):
            if hasattr(event, "content"):
                text = [b.get("text", "") for b in event.content if b.get("type") == "text"]
        return "".join(text)

    return summarize
