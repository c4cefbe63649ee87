"""Anthropic through the official SDK: streaming, tool use, usage, and the SDK's own retries.

``import anthropic`` costs about a second, so it happens on the first request, not at start.
The client honours ``ANTHROPIC_BASE_URL`` as the SDK does. The Messages API of the current SDK
takes no ``temperature``, so it is never sent.

A stream is complete only when its ``message_stop`` event arrived. One that ends cleanly before
it (a proxy that closes the response early, a server that stops writing) is not an answer with
a made-up ``end_turn``: it raises ``ProviderUnavailable`` ("stream ended before its end
event"), and the agent loop keeps what was said so far, marked incomplete, as it does for a
stream cut mid-way.

Prompt caching is on unless the ``anthropic`` config section says ``prompt_caching: false``:
each request marks the tool list, the system prompt and the conversation tail as cache
breakpoints (``prompt_cache`` says where and why), and the usage it reports carries the cache
reads and writes the API counted. Token counting sends no marks.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

from victor_server.errors import ProviderUnavailable
from victor_server.messages import Usage
from victor_server.providers import prompt_cache
from victor_server.providers.base import (
    MessageComplete,
    ModelRequest,
    ProviderEvent,
    TextDelta,
    ToolUseStarted,
    UsageSoFar,
)

STREAM_NOT_FINISHED = "stream ended before its end event"
# The way out through config is added by the orchestrator, which knows where `provider` came
# from (the environment cannot override a project file, so the advice depends on it).
NO_KEY_REASON = "no API key: set ANTHROPIC_API_KEY"


class AnthropicProvider:
    name = "anthropic"

    def __init__(self, api_key: str | None = None, base_url: str | None = None,
                 max_retries: int = 2, timeout: float = 600.0,
                 prompt_caching: bool = True) -> None:
        self._api_key = api_key
        self.prompt_caching = prompt_caching
        self._base_url = base_url
        self._max_retries = max_retries
        self._timeout = timeout
        self._client: Any = None

    def check_ready(self) -> None:
        """Raise ``ProviderUnavailable`` now if no request could succeed (no API key)."""
        if not (self._api_key or os.environ.get("ANTHROPIC_API_KEY")):
            raise ProviderUnavailable(self.name, NO_KEY_REASON)

    def _get_client(self) -> Any:
        if self._client is None:
            self.check_ready()
            key = self._api_key or os.environ.get("ANTHROPIC_API_KEY")
            import anthropic

            self._client = anthropic.AsyncAnthropic(
                api_key=key, base_url=self._base_url or os.environ.get("ANTHROPIC_BASE_URL"),
                max_retries=self._max_retries, timeout=self._timeout)
        return self._client

    def _params(self, request: ModelRequest, cache: bool = True) -> dict[str, Any]:
        cache = cache and self.prompt_caching
        params: dict[str, Any] = {
            "model": request.model, "max_tokens": request.max_tokens,
            "messages": prompt_cache.cached_messages(request.messages) if cache
            else request.messages}
        if request.system:
            params["system"] = prompt_cache.cached_system(request.system) if cache \
                else request.system
        if request.tools:
            params["tools"] = prompt_cache.cached_tools(request.tools) if cache \
                else request.tools
        if request.thinking:
            params["thinking"] = request.thinking
        return params

    async def stream(self, request: ModelRequest) -> AsyncIterator[ProviderEvent]:
        client = self._get_client()
        import anthropic
        import httpx2  # the transport the SDK vendors: a stream cut mid-way raises its errors

        finished = False
        try:
            async with client.messages.stream(**self._params(request)) as stream:
                async for event in stream:
                    if event.type == "message_stop":
                        finished = True
                    elif event.type in ("message_start", "message_delta"):
                        yield UsageSoFar(_usage(stream.current_message_snapshot.usage))
                    elif event.type == "text":
                        yield TextDelta(event.text)
                    elif event.type == "content_block_start" and \
                            event.content_block.type == "tool_use":
                        yield ToolUseStarted(event.content_block.id, event.content_block.name)
                if not finished:
                    raise ProviderUnavailable(self.name, STREAM_NOT_FINISHED)
                final = await stream.get_final_message()
        except anthropic.APIStatusError as exc:
            raise ProviderUnavailable(self.name, _status_reason(exc)) from exc
        except anthropic.APIError as exc:  # connection refused, timeout
            raise ProviderUnavailable(self.name, f"{type(exc).__name__}: {exc}") from exc
        except httpx2.HTTPError as exc:  # the SDK does not wrap errors while iterating a stream
            raise ProviderUnavailable(
                self.name, f"the stream broke off ({type(exc).__name__}: {exc})") from exc
        usage = _usage(final.usage)
        blocks = [_block(b) for b in final.content]
        if not final.stop_reason:  # message_stop came, but no message_delta with the reason
            raise ProviderUnavailable(self.name, f"{STREAM_NOT_FINISHED} (no stop reason)")
        yield MessageComplete(blocks, final.stop_reason, usage)

    async def count_tokens(self, request: ModelRequest) -> int | None:
        client = self._get_client()
        import anthropic

        params = self._params(request, cache=False)
        params.pop("max_tokens", None)
        try:
            result = await client.messages.count_tokens(**params)
        except anthropic.APIError:
            return None
        return int(result.input_tokens)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()


def _usage(usage: Any) -> Usage:
    return Usage(usage.input_tokens or 0, usage.output_tokens or 0,
                 getattr(usage, "cache_read_input_tokens", None) or 0,
                 getattr(usage, "cache_creation_input_tokens", None) or 0)


def _status_reason(exc: Any) -> str:
    status = getattr(exc, "status_code", "?")
    if status == 401:
        return "authentication failed (HTTP 401): check ANTHROPIC_API_KEY"
    if status == 429:
        return "rate limited by the API (HTTP 429) after retries"
    if status in (500, 502, 503, 529):
        return f"the API is overloaded or failing (HTTP {status}) after retries"
    return f"the API refused the request (HTTP {status}): {getattr(exc, 'message', exc)}"


def _block(block: Any) -> dict[str, Any]:
    data: dict[str, Any] = block.model_dump(mode="json", exclude_none=True)
    if data.get("type") == "text":
        return {"type": "text", "text": data.get("text", "")}
    if data.get("type") == "tool_use":
        return {"type": "tool_use", "id": data["id"], "name": data["name"],
                "input": data.get("input") or {}}
    return data
