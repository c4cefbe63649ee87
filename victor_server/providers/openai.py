"""OpenAI-compatible chat completions (Ollama, vLLM, llama.cpp, LM Studio, OpenAI itself).

Design
------
The conversation stays in the Anthropic shape everywhere else in the server, so this module is
one translation boundary in each direction:

* out: the system prompt becomes the first ``system`` message; assistant ``tool_use`` blocks
  become ``tool_calls`` with JSON-string ``arguments``; each ``tool_result`` block becomes its own
  ``role: "tool"`` message (sent before any text of the same user turn, since the API wants tool
  answers right after the call); tools become ``{"type": "function", "function": {...}}``
  (``openai_messages``).
* in: streamed ``delta.content`` becomes ``TextDelta``s; ``delta.tool_calls`` fragments are
  accumulated by ``index`` and parsed once the stream ends into ``tool_use`` blocks;
  ``finish_reason`` maps to the Anthropic stop reasons; usage comes from the final chunk
  (``stream_options.include_usage``), estimated and logged at debug when a server sends none.

Transport is the ``openai`` SDK (``AsyncOpenAI`` with our ``base_url``): it sends the request,
parses the SSE stream, and retries 408/409/429/5xx and connection errors with exponential
backoff, honouring ``Retry-After`` up to two minutes (a longer demand fails at once). Chunks are
read as plain dicts (``to_dict()``), because local servers differ from OpenAI in ways the typed
models do not expect: Ollama and llama.cpp omit call ids and sometimes ``index``, answer
``finish_reason: "stop"`` when calling tools, and some servers refuse ``stream_options`` or want
``max_completion_tokens`` (learnt from their 400 and asked again at once).

Two retries are ours, because only we know what has been shown: a stream cut before its first
delta is asked again (the SDK retries only until the response starts), and a stream cut after it
raises ``ProviderUnavailable``, because the caller has already shown part of the answer. Every
failure becomes ``ProviderUnavailable`` (-32002) with what to check.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from victor_server.errors import ProviderUnavailable
from victor_server.messages import Usage
from victor_server.providers.base import (
    MessageComplete,
    ModelRequest,
    ProviderEvent,
    TextDelta,
    ToolUseStarted,
)
from victor_server.providers.openai_messages import (
    parse_arguments,
    to_openai_messages,
    to_openai_tools,
)

if TYPE_CHECKING:  # the SDK is imported on the first request, keeping server start lean
    import openai

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "http://127.0.0.1:11434/v1"  # Ollama's OpenAI-compatible endpoint
STREAM_RETRY_WAIT = 0.5  # seconds before asking again after a stream cut before any output
STOP_REASONS = {"stop": "end_turn", "tool_calls": "tool_use", "function_call": "tool_use",
                "length": "max_tokens", "content_filter": "refusal"}


class _StreamCut(Exception):
    """The stream ended without a finish reason (the connection closed early)."""


class OpenAIProvider:
    name = "openai"

    def __init__(self, base_url: str | None = None, api_key: str | None = None,
                 max_retries: int = 2, timeout: float = 600.0) -> None:
        raw_url = base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
        self.base_url = raw_url.rstrip("/")
        self._api_key = api_key or os.environ.get("OPENAI_API_KEY") or None
        self._max_retries = max(0, max_retries)
        self._timeout = timeout
        # Some servers reject fields OpenAI accepts; learnt once per provider from their 400s.
        self._send_stream_options = True
        self._max_tokens_field = "max_tokens"
        self._client: openai.AsyncOpenAI | None = None

    def _get_client(self) -> openai.AsyncOpenAI:
        if self._client is None:
            import httpx2
            import openai

            # Local servers need no key; the SDK insists on one, so a placeholder is given and
            # the header left out of every request (``_extra_headers``).
            self._client = openai.AsyncOpenAI(
                base_url=self.base_url, api_key=self._api_key or "no-key",
                max_retries=self._max_retries,
                timeout=httpx2.Timeout(self._timeout, connect=min(10.0, self._timeout)))
        return self._client

    def _extra_headers(self) -> dict[str, Any]:
        if self._api_key:
            return {}
        import openai

        return {"Authorization": openai.Omit()}

    def _body(self, request: ModelRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": request.model, "stream": True,
            "messages": to_openai_messages(request.system, request.messages),
            self._max_tokens_field: request.max_tokens}
        if self._send_stream_options:
            body["stream_options"] = {"include_usage": True}
        if request.tools:
            body["tools"] = to_openai_tools(request.tools)
        if request.temperature is not None:
            body["temperature"] = request.temperature
        return body

    async def stream(self, request: ModelRequest) -> AsyncIterator[ProviderEvent]:
        import openai

        client = self._get_client()
        attempt = 0
        while True:
            body = self._body(request)
            logger.debug("openai: POST %s/chat/completions model=%s attempt=%d",
                         self.base_url, request.model, attempt + 1)
            reader = _StreamReader()
            started = False
            try:
                chunks = await client.chat.completions.create(
                    **body, extra_headers=self._extra_headers())
                started = True
                try:
                    async for chunk in chunks:
                        for event in reader.chunk(chunk.to_dict()):
                            yield event
                finally:
                    await chunks.close()
                reader.check_finished()
                break
            except openai.APIStatusError as exc:
                if self._adapt_to_refusal(exc):
                    continue  # asked again at once with the field the server wants
                raise ProviderUnavailable(self.name, self._redact(
                    self._status_reason(exc, request.model))) from exc
            except (openai.APIConnectionError, _StreamCut) as exc:
                reason = self._transport_reason(exc)
                if reader.yielded:
                    reason = f"the stream was cut midway ({_cause_name(exc)}): {reason}"
                if reader.yielded or not started or attempt >= self._max_retries:
                    raise ProviderUnavailable(self.name, self._redact(reason)) from exc
                logger.info("openai: the stream was cut before any output (%s); asking again",
                            reason)
            except openai.APIError as exc:  # an error event inside the stream (vLLM, llama.cpp)
                raise ProviderUnavailable(self.name, self._redact(
                    f"the server failed midway: {exc.message}")) from exc
            except ValueError as exc:  # a chunk that is not JSON
                raise ProviderUnavailable(self.name, self._redact(
                    f"the server sent a malformed stream chunk: {exc}")) from exc
            await asyncio.sleep(STREAM_RETRY_WAIT * 2 ** attempt)
            attempt += 1
        yield reader.complete(body, self.name)

    def _adapt_to_refusal(self, exc: openai.APIStatusError) -> bool:
        """Drop ``stream_options`` or rename ``max_tokens`` when a 400 names them."""
        if exc.status_code != 400:
            return False
        raw = exc.response.text
        if self._send_stream_options and "stream_options" in raw:
            self._send_stream_options = False
            return True
        if self._max_tokens_field == "max_tokens" and "max_completion_tokens" in raw:
            self._max_tokens_field = "max_completion_tokens"
            return True
        return False

    def _status_reason(self, exc: openai.APIStatusError, model: str) -> str:
        status = exc.status_code
        detail = _error_message(exc.response.text)
        where = f"{self.base_url}/chat/completions"
        if status in (401, 403):
            return (f"authentication failed (HTTP {status}) at {where}: check OPENAI_API_KEY "
                    f"or api_key: {detail}")
        if status == 404:
            return (f"not found (HTTP 404) at {where}: check base_url (it usually ends in /v1) "
                    f"and that model {model!r} is available (for Ollama: ollama pull {model}): "
                    f"{detail}")
        if status == 429:
            asked = exc.response.headers.get("retry-after")
            wait = f" (it asks to wait {asked} s)" if asked else ""
            return f"rate limited (HTTP 429) at {where}{wait}: {detail}"
        if status >= 500:
            return f"the server failed (HTTP {status}) at {where}: {detail}"
        return f"the server refused the request (HTTP {status}): {detail}"

    def _transport_reason(self, exc: Exception) -> str:
        import httpx2
        import openai

        cause = exc.__cause__
        if isinstance(exc, _StreamCut):
            return str(exc)
        if isinstance(cause, httpx2.ConnectError | httpx2.ConnectTimeout):
            return (f"cannot connect to {self.base_url}: is the server running? "
                    "set base_url (or OPENAI_BASE_URL)")
        if isinstance(exc, openai.APITimeoutError):
            return f"no answer from {self.base_url} within {self._timeout:g}s"
        return f"{_cause_name(exc)} talking to {self.base_url}: {cause or exc}"

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text

    async def count_tokens(self, request: ModelRequest) -> int | None:
        return None  # the chat completions API has no offline counting endpoint

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None


def _cause_name(exc: BaseException) -> str:
    """The transport's own exception name (``RemoteProtocolError``), not the SDK's wrapper."""
    return type(exc.__cause__ or exc).__name__


class _StreamReader:
    """Accumulates one streamed completion: text, tool-call fragments, finish reason, usage."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.calls: dict[int, dict[str, str]] = {}
        self.finish: str | None = None
        self.usage: dict[str, Any] | None = None
        self.yielded = False

    def chunk(self, chunk: dict[str, Any]) -> list[ProviderEvent]:
        if chunk.get("usage"):
            self.usage = chunk["usage"]
        events: list[ProviderEvent] = []
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("content"):
                self.text.append(delta["content"])
                events.append(TextDelta(delta["content"]))
            for fragment in delta.get("tool_calls") or []:
                started = self._tool_fragment(fragment)
                if started is not None:
                    events.append(started)
            if choice.get("finish_reason"):
                self.finish = choice["finish_reason"]
        self.yielded = self.yielded or bool(events)
        return events

    def check_finished(self) -> None:
        if self.finish is None:
            raise _StreamCut("the stream ended before its finish reason")

    def _tool_fragment(self, fragment: dict[str, Any]) -> ToolUseStarted | None:
        function = fragment.get("function") or {}
        index = fragment.get("index")
        if index is None:  # a few servers omit it: a fragment without id or name continues
            fresh = fragment.get("id") or function.get("name") or not self.calls
            index = len(self.calls) if fresh else max(self.calls)
        call = self.calls.setdefault(int(index), {"id": "", "name": "", "arguments": ""})
        announce = not call["name"] and bool(function.get("name"))
        # Ollama and llama.cpp may omit ids; the tool loop needs one to pair the result.
        call["id"] = call["id"] or fragment.get("id") or f"call_{uuid.uuid4().hex[:24]}"
        call["name"] += function.get("name") or ""
        call["arguments"] += function.get("arguments") or ""
        return ToolUseStarted(call["id"], call["name"]) if announce else None

    def complete(self, body: dict[str, Any], provider: str) -> MessageComplete:
        blocks: list[dict[str, Any]] = []
        text = "".join(self.text)
        if text:
            blocks.append({"type": "text", "text": text})
        for index in sorted(self.calls):
            call = self.calls[index]
            blocks.append({"type": "tool_use", "id": call["id"], "name": call["name"],
                           "input": parse_arguments(call["name"], call["arguments"])})
        stop = STOP_REASONS.get(self.finish or "", "end_turn")
        if self.calls and stop == "end_turn":  # Ollama answers "stop" even when calling tools
            stop = "tool_use"
        return MessageComplete(blocks, stop, self._usage(body, text, provider))

    def _usage(self, body: dict[str, Any], text: str, provider: str) -> Usage:
        if self.usage:
            # OpenAI's prompt_tokens include the cached ones; ours, like Anthropic's, do not
            cached = int((self.usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0)
            return Usage(max(0, int(self.usage.get("prompt_tokens") or 0) - cached),
                         int(self.usage.get("completion_tokens") or 0), cached)
        out = text + "".join(c["name"] + c["arguments"] for c in self.calls.values())
        sent = json.dumps([body.get("messages"), body.get("tools")])
        logger.debug("%s: the server sent no usage; estimating 4 characters per token", provider)
        return Usage(len(sent) // 4 + 1, len(out) // 4 + 1)


def _error_message(raw: str) -> str:
    """The server's own words from the common error envelopes, clipped."""
    try:
        data = json.loads(raw)
    except ValueError:
        return raw.strip()[:300] or "(empty body)"
    if isinstance(data, dict):
        error = data.get("error", data)
        if isinstance(error, dict):
            return str(error.get("message") or error)[:300]
        return str(error)[:300]
    return str(data)[:300]
