"""OpenAI-compatible chat completions (Ollama, vLLM, llama.cpp, LM Studio, OpenAI itself).

Design
------
The conversation stays in the Anthropic shape everywhere else in the server, so this module is
one translation boundary in each direction:

* out: the system prompt becomes the first ``system`` message; assistant ``tool_use`` blocks
  become ``tool_calls`` with JSON-string ``arguments``; each ``tool_result`` block becomes its own
  ``role: "tool"`` message (sent before any text of the same user turn, since the API wants tool
  answers right after the call); tools become ``{"type": "function", "function": {...}}``.
* in: streamed ``delta.content`` becomes ``TextDelta``s; ``delta.tool_calls`` fragments are
  accumulated by ``index`` and parsed once the stream ends into ``tool_use`` blocks;
  ``finish_reason`` maps to the Anthropic stop reasons; usage comes from the final chunk
  (``stream_options.include_usage``), estimated and logged at debug when a server sends none.

It speaks HTTP through ``httpx`` directly rather than the ``openai`` SDK: the wire format is
small, the SDK would be one more heavy dependency, and local servers differ from OpenAI in ways
(missing ids, ``stream_options`` refused, no usage) that are easier to absorb by hand.

Retries: 429, 5xx and transport errors are retried with exponential backoff, honouring
``Retry-After`` up to ``MAX_RETRY_WAIT`` seconds (a longer demand fails at once, saying so), and
only while nothing has been yielded: a stream cut after the first delta raises
``ProviderUnavailable``, because the caller has already shown part of the answer.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import os
import time
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

if TYPE_CHECKING:  # httpx is imported on the first request, keeping server start lean
    import httpx

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "http://127.0.0.1:11434/v1"  # Ollama's OpenAI-compatible endpoint
MAX_RETRY_WAIT = 30.0  # seconds; a server asking for longer is reported, not waited on
RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
STOP_REASONS = {"stop": "end_turn", "tool_calls": "tool_use", "function_call": "tool_use",
                "length": "max_tokens", "content_filter": "refusal"}


class OpenAIProvider:
    name = "openai"

    def __init__(self, base_url: str | None = None, api_key: str | None = None,
                 max_retries: int = 2, timeout: float = 600.0, *,
                 backoff: float = 0.5) -> None:
        raw_url = base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
        self.base_url = raw_url.rstrip("/")
        self._api_key = api_key or os.environ.get("OPENAI_API_KEY") or None
        self._max_retries = max(0, max_retries)
        self._timeout = timeout
        self._backoff = backoff
        # Some servers reject fields OpenAI accepts; learnt once per provider from their 400s.
        self._send_stream_options = True
        self._max_tokens_field = "max_tokens"
        self._client: httpx.AsyncClient | None = None

    def _get_client(self) -> httpx.AsyncClient:
        if self._client is None:
            import httpx

            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self._timeout, connect=min(10.0, self._timeout)))
        return self._client

    def _headers(self) -> dict[str, str]:
        headers = {"content-type": "application/json", "accept": "text/event-stream"}
        if self._api_key:
            headers["authorization"] = f"Bearer {self._api_key}"
        return headers

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
        import httpx

        client = self._get_client()
        url = f"{self.base_url}/chat/completions"
        attempt = 0
        while True:
            body = self._body(request)
            logger.debug("openai: POST %s model=%s attempt=%d", url, request.model, attempt + 1)
            reader = _StreamReader()
            try:
                async with client.stream("POST", url, json=body,
                                         headers=self._headers()) as response:
                    if response.status_code != 200:
                        raw = (await response.aread()).decode("utf-8", "replace")
                        if self._adapt_to_refusal(response.status_code, raw):
                            continue  # retried at once with the field the server wants
                        reason = self._redact(
                            self._status_reason(response.status_code, raw, request.model))
                        wait = self._retry_wait(response, attempt)
                        if wait is None:
                            raise ProviderUnavailable(self.name, reason)
                        logger.info("openai: %s; retrying in %.1fs", reason, wait)
                    else:
                        async for event in reader.feed(response.aiter_lines()):
                            yield event
                        break
            except httpx.TransportError as exc:
                reason = self._transport_reason(exc)
                if reader.yielded or attempt >= self._max_retries:
                    if reader.yielded:
                        reason = f"the stream was cut midway ({type(exc).__name__}): {reason}"
                    raise ProviderUnavailable(self.name, self._redact(reason)) from exc
                wait = self._backoff * 2 ** attempt
                logger.info("openai: %s; retrying in %.1fs", reason, wait)
            await asyncio.sleep(wait)
            attempt += 1
        yield reader.complete(body, self.name)

    def _adapt_to_refusal(self, status: int, raw: str) -> bool:
        """Drop ``stream_options`` or rename ``max_tokens`` when a 400 names them."""
        if status != 400:
            return False
        if self._send_stream_options and "stream_options" in raw:
            self._send_stream_options = False
            return True
        if self._max_tokens_field == "max_tokens" and "max_completion_tokens" in raw:
            self._max_tokens_field = "max_completion_tokens"
            return True
        return False

    def _retry_wait(self, response: httpx.Response, attempt: int) -> float | None:
        """Seconds to wait before the next attempt, or None to give up now."""
        if response.status_code not in RETRYABLE_STATUS or attempt >= self._max_retries:
            return None
        asked = _retry_after(response.headers)
        if asked is not None and asked > MAX_RETRY_WAIT:
            return None
        return asked if asked is not None else self._backoff * 2 ** attempt

    def _status_reason(self, status: int, raw: str, model: str) -> str:
        detail = _error_message(raw)
        where = f"{self.base_url}/chat/completions"
        if status in (401, 403):
            return (f"authentication failed (HTTP {status}) at {where}: check OPENAI_API_KEY "
                    f"or api_key: {detail}")
        if status == 404:
            return (f"not found (HTTP 404) at {where}: check base_url (it usually ends in /v1) "
                    f"and that model {model!r} is available (for Ollama: ollama pull {model}): "
                    f"{detail}")
        if status == 429:
            return f"rate limited (HTTP 429) at {where}: {detail}"
        if status >= 500:
            return f"the server failed (HTTP {status}) at {where}: {detail}"
        return f"the server refused the request (HTTP {status}): {detail}"

    def _transport_reason(self, exc: Exception) -> str:
        import httpx

        if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
            return (f"cannot connect to {self.base_url}: is the server running? "
                    "set base_url (or OPENAI_BASE_URL)")
        if isinstance(exc, httpx.TimeoutException):
            return f"no answer from {self.base_url} within {self._timeout:g}s"
        return f"{type(exc).__name__} talking to {self.base_url}: {exc}"

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text

    async def count_tokens(self, request: ModelRequest) -> int | None:
        return None  # the chat completions API has no offline counting endpoint

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


class _StreamReader:
    """Accumulates one streamed completion: text, tool-call fragments, finish reason, usage."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.calls: dict[int, dict[str, str]] = {}
        self.finish: str | None = None
        self.usage: dict[str, Any] | None = None
        self.yielded = False

    async def feed(self, lines: AsyncIterator[str]) -> AsyncIterator[ProviderEvent]:
        done = False
        async for line in lines:
            if not line.startswith("data:"):
                continue  # blank separators, ": keep-alive" comments, "event:" names
            data = line[5:].strip()
            if data == "[DONE]":
                done = True
                break
            try:
                chunk = json.loads(data)
            except json.JSONDecodeError as exc:
                raise ProviderUnavailable("openai", f"the server sent a malformed stream "
                                                    f"chunk: {data[:200]!r}") from exc
            for event in self._chunk(chunk):
                self.yielded = True
                yield event
        if not done and self.finish is None:
            import httpx

            raise httpx.RemoteProtocolError("the stream ended before [DONE]")

    def _chunk(self, chunk: dict[str, Any]) -> list[ProviderEvent]:
        if "error" in chunk:  # vLLM and llama.cpp report late failures inside the stream
            raise ProviderUnavailable("openai", f"the server failed midway: "
                                                f"{_error_message(json.dumps(chunk))}")
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
        return events

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


def _retry_after(headers: httpx.Headers) -> float | None:
    if headers.get("retry-after-ms"):
        try:
            return max(0.0, float(headers["retry-after-ms"]) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:  # the HTTP-date form
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
