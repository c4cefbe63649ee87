"""A loopback fake of the Anthropic Messages API, shared by every test suite.

Design
------
The fake is a real HTTP server (stdlib ``ThreadingHTTPServer``) on ``127.0.0.1`` with an
ephemeral port, served from a daemon thread. Being real HTTP rather than an httpx mock
transport means one fake works for sync tests, async tests, and subprocess servers (victor-server
itself, the VS Code extension, nvim) pointed at it through ``ANTHROPIC_BASE_URL``; it also
exercises the real ``anthropic`` SDK's SSE parser, retry logic and typed errors.

Endpoints:

* ``POST /v1/messages`` - a JSON ``message`` when ``stream`` is false/absent, otherwise SSE with
  the event sequence the real API emits: ``message_start``, ``ping``, per block
  ``content_block_start`` / ``content_block_delta`` (``text_delta``, ``input_json_delta``,
  ``thinking_delta`` + ``signature_delta``) / ``content_block_stop``, then ``message_delta``
  (``stop_reason``, cumulative ``usage.output_tokens``) and ``message_stop``. Streams use chunked
  transfer encoding so that a connection closed mid-stream (``cut_stream``) is a protocol error
  for the client, exactly like a dropped connection, instead of a clean end of body.
  ``ended_early`` is the other failure: the body ends cleanly (last chunk sent) after the text
  deltas, with no ``message_delta`` or ``message_stop``, so only a client that waits for the end
  event notices the message is unfinished.
* ``POST /v1/messages/count_tokens`` - ``{"input_tokens": N}``.

Token rule (deterministic, so tests can assert totals equal what the fake reported):

* input tokens = ``ceil(len(canonical) / 4)`` where ``canonical`` is
  ``json.dumps({"system": ..., "messages": ..., "tools": ...}, sort_keys=True,
  separators=(",", ":"), ensure_ascii=False)`` over the request body (absent keys are ``null``).
  ``count_input_tokens(body)`` computes it; ``count_tokens`` and default ``usage`` agree.
* output tokens = ``ceil(len(out) / 4)`` where ``out`` concatenates every text block, every
  thinking block and the compact JSON of every tool input (``count_output_tokens``).

Scripting: ``fake.queue(*replies)`` enqueues replies consumed in order by ``/v1/messages``
requests (``count_tokens`` never consumes one). With an empty queue the ``default_responder``
answers (default: ``echo: <text of the last user message>``). See
``python tests/support/fake_anthropic.py --help`` for the standalone mode used by non-Python
tests.

Prompt caching (``caching=True``, ``--caching`` standalone): the fake then applies Anthropic's
caching rules to the ``cache_control`` breakpoints a request carries (``fake_prompt_cache``
describes them) and splits the prompt into ``input_tokens``, ``cache_read_input_tokens`` and
``cache_creation_input_tokens``, which add up to the request's blocks counted one by one by
the token rule (a few tokens off the whole-body count, which also counts JSON punctuation).
Without it, as before, every request reports its whole prompt as ``input_tokens`` and both cache
fields as 0. Either way a request with more than four breakpoints gets the API's 400.

Like the real API the fake answers 400 for a missing ``model`` / ``max_tokens`` / ``messages`` and
for a ``tool_use`` not followed by its ``tool_result`` (``validate=False`` turns this off), and
401 without a key (``x-api-key`` or bearer; ``api_key=`` demands one value).

What the anthropic 2.x SDK raises against it: HTTP errors become its typed ``APIStatusError``
subclasses; an SSE ``error`` event becomes ``APIStatusError``; a cut non-streaming response is
``APIConnectionError``; but a stream cut while iterating surfaces as the transport's own
``httpx2.RemoteProtocolError`` (the SDK does not wrap it), so providers must catch that too.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, cast

try:
    from fake_prompt_cache import MAX_BREAKPOINTS, CacheUsage, PromptCache, count_breakpoints
except ImportError:  # imported as tests.support.fake_anthropic
    from tests.support.fake_prompt_cache import (
        MAX_BREAKPOINTS,
        CacheUsage,
        PromptCache,
        count_breakpoints,
    )

JSON = dict[str, Any]

# -- replies ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """One content block of a scripted message: ``text``, ``tool_use`` or ``thinking``."""

    type: str
    text: str = ""
    name: str = ""
    input: JSON = field(default_factory=dict)
    id: str | None = None
    # How a text block is split into deltas; empty means one delta per word.
    chunks: tuple[str, ...] = ()


@dataclass(frozen=True)
class MessageReply:
    """A successful message. ``chunks``/``delay`` make a slow stream; ``cut`` drops the line."""

    blocks: tuple[Block, ...]
    stop_reason: str = "end_turn"
    input_tokens: int | None = None
    output_tokens: int | None = None
    delay: float = 0.0
    cut: bool = False
    stream_error: JSON | None = None
    # End the stream cleanly (the body's last chunk is sent) but before ``message_stop``.
    end_early: bool = False


@dataclass(frozen=True)
class ErrorReply:
    """An HTTP error response with the API's error envelope."""

    status: int
    error_type: str
    message: str
    retry_after: float | None = None
    should_retry: bool | None = None


Reply = MessageReply | ErrorReply
Responder = Callable[[JSON], Reply]


def text(
    content: str,
    *,
    input_tokens: int | None = None,
    output_tokens: int | None = None,
    stop_reason: str = "end_turn",
    thinking: str | None = None,
) -> MessageReply:
    """A text answer; ``thinking`` prepends a thinking block."""
    blocks = (Block("thinking", text=thinking),) if thinking is not None else ()
    return MessageReply(
        (*blocks, Block("text", text=content)),
        stop_reason=stop_reason,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
    )


def tool_use(
    name: str,
    input: JSON,
    id: str | None = None,
    text_before: str | None = None,
    *,
    input_tokens: int | None = None,
    output_tokens: int | None = None,
) -> MessageReply:
    """A single tool call (``stop_reason: tool_use``), optionally preceded by text."""
    blocks = (Block("text", text=text_before),) if text_before else ()
    return MessageReply(
        (*blocks, Block("tool_use", name=name, input=input, id=id)),
        stop_reason="tool_use",
        input_tokens=input_tokens,
        output_tokens=output_tokens,
    )


def tool_uses(*calls: tuple[str, JSON], text_before: str | None = None) -> MessageReply:
    """Parallel tool calls in one message: ``tool_uses(("read", {...}), ("grep", {...}))``."""
    blocks = (Block("text", text=text_before),) if text_before else ()
    calls_ = tuple(Block("tool_use", name=n, input=i) for n, i in calls)
    return MessageReply((*blocks, *calls_), stop_reason="tool_use")


def error(
    status: int,
    error_type: str | None = None,
    message: str | None = None,
    retry_after: float | None = None,
    should_retry: bool | None = None,
) -> ErrorReply:
    """An HTTP error; the type defaults from the status (429, 529, 500, 401, 400, ...)."""
    kind = error_type or _ERROR_TYPES.get(status, "api_error")
    return ErrorReply(status, kind, message or f"fake {kind}", retry_after, should_retry)


def slow_text(chunks: list[str], delay: float) -> MessageReply:
    """A text answer streamed one chunk per delta, sleeping ``delay`` seconds before each."""
    block = Block("text", text="".join(chunks), chunks=tuple(chunks))
    return MessageReply((block,), delay=delay)


def cut_stream(text_before: str = "") -> MessageReply:
    """Start streaming ``text_before`` and then close the connection without finishing."""
    return MessageReply((Block("text", text=text_before),), cut=True)


def ended_early(text_before: str = "") -> MessageReply:
    """Stream ``text_before`` and end the body cleanly without ``message_delta`` or
    ``message_stop``: a well-formed HTTP response that is not a finished message."""
    return MessageReply((Block("text", text=text_before),), end_early=True)


def stream_error(
    error_type: str = "overloaded_error", message: str = "Overloaded", text_before: str = ""
) -> MessageReply:
    """Start a 200 stream, then send an SSE ``error`` event (how the API reports mid-stream)."""
    err = {"type": error_type, "message": message}
    return MessageReply((Block("text", text=text_before),), stream_error=err)


_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def reply_from_json(spec: JSON) -> Reply:
    """Build a reply from a JSON object ``{"kind": "text"|"tool_use"|..., <kwargs>}``."""
    kinds: dict[str, Callable[..., Reply]] = {
        "text": text,
        "tool_use": tool_use,
        "error": error,
        "slow_text": slow_text,
        "cut_stream": cut_stream,
        "ended_early": ended_early,
        "stream_error": stream_error,
    }
    args = dict(spec)
    kind = args.pop("kind")
    if kind == "text" and "text" in args:
        args["content"] = args.pop("text")
    return kinds[kind](**args)


# -- token rules -----------------------------------------------------------------------------


def count_input_tokens(body: JSON) -> int:
    """The fake's input-token count for a request body (see the module docstring)."""
    canonical = json.dumps(
        {k: body.get(k) for k in ("system", "messages", "tools")},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return math.ceil(len(canonical) / 4)


def count_output_tokens(reply: MessageReply) -> int:
    """The fake's output-token count for a reply: ceil(len(all emitted text) / 4)."""
    return math.ceil(sum(len(_block_payload(b)) for b in reply.blocks) / 4)


def _block_payload(block: Block) -> str:
    if block.type == "tool_use":
        return json.dumps(block.input, separators=(",", ":"), ensure_ascii=False)
    return block.text


def last_user_text(body: JSON) -> str:
    """Text of the last user message: text blocks and tool_result contents, joined."""
    users = [m for m in body.get("messages") or [] if m.get("role") == "user"]
    if not users:
        return ""
    return _content_text(users[-1].get("content"))


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    parts: list[str] = []
    for item in content or []:
        if item.get("type") == "text":
            parts.append(item.get("text", ""))
        elif item.get("type") == "tool_result":
            parts.append(_content_text(item.get("content") or ""))
    return "\n".join(parts)


def without_cache_marks(value: Any) -> Any:
    """``value`` (a request body or part of one) with every ``cache_control`` key removed."""
    if isinstance(value, dict):
        return {k: without_cache_marks(v) for k, v in value.items() if k != "cache_control"}
    if isinstance(value, list):
        return [without_cache_marks(v) for v in value]
    return value


def system_text(body: JSON) -> str:
    """The system prompt of a request as text, whether sent as a string or as blocks."""
    system = body.get("system")
    if isinstance(system, list):
        return "\n".join(str(b.get("text", "")) for b in system if isinstance(b, dict))
    return str(system or "")


def echo_responder(body: JSON) -> Reply:
    """The default reply: ``echo: <last user text>``, so unscripted turns still work."""
    return text(f"echo: {last_user_text(body)}")


# -- request validation (mirrors the real API's 400s that catch client bugs) -----------------


def validation_error(body: JSON, *, counting: bool) -> str | None:
    """Why the real API would reject ``body`` with 400, or None."""
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "model: Field required"
    if not counting and (not isinstance(body.get("max_tokens"), int) or body["max_tokens"] < 1):
        return "max_tokens: Field required"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    for i, m in enumerate(messages):
        if m.get("role") not in ("user", "assistant"):
            return f"messages.{i}.role: Input should be 'user' or 'assistant'"
        if not isinstance(m.get("content"), str | list):
            return f"messages.{i}.content: Field required"
    if count_breakpoints(body) > MAX_BREAKPOINTS:
        return (f"A maximum of {MAX_BREAKPOINTS} blocks with cache_control may be provided. "
                f"Found {count_breakpoints(body)}.")
    return _unanswered_tool_use(messages)


def _unanswered_tool_use(messages: list[JSON]) -> str | None:
    for i, m in enumerate(messages):
        if m["role"] != "assistant" or not isinstance(m["content"], list):
            continue
        ids = {b.get("id") for b in m["content"] if b.get("type") == "tool_use"}
        if not ids:
            continue
        nxt = messages[i + 1]["content"] if i + 1 < len(messages) else None
        answered = {
            b.get("tool_use_id")
            for b in (nxt if isinstance(nxt, list) else [])
            if b.get("type") == "tool_result"
        }
        # The last assistant message may be a prefill, but tool_use needs its results.
        missing = ids - answered
        if missing:
            return (
                f"messages.{i + 1}: `tool_use` ids were found without `tool_result` blocks "
                f"immediately after: {', '.join(sorted(str(x) for x in missing))}"
            )
    return None


# -- the server ------------------------------------------------------------------------------


@dataclass
class RecordedRequest:
    """One request the fake received. ``usage`` is what the fake reported, if it answered."""

    path: str
    headers: dict[str, str]
    body: JSON
    usage: tuple[int, int] | None = None
    # (cache_read_input_tokens, cache_creation_input_tokens) the fake reported, if it answered
    cache: tuple[int, int] | None = None
    aborted: bool = False  # the client went away before the stream finished
    # time.perf_counter() just before the first text/JSON delta is written to the socket;
    # bench/bench_streaming.py runs the fake in its own process and compares the client's clock
    first_delta_at: float | None = None

    @property
    def api_key(self) -> str:
        """The key sent as ``x-api-key`` or as a bearer token (anthropic 2.x sends the latter)."""
        bearer = self.headers.get("authorization", "").removeprefix("Bearer ")
        return self.headers.get("x-api-key") or bearer


@dataclass
class _Resolved:
    """A reply bound to one request: ids and usage fixed."""

    reply: MessageReply
    message_id: str
    model: str
    blocks: list[JSON]
    input_tokens: int
    output_tokens: int
    cache_read: int = 0
    cache_creation: int = 0


class FakeAnthropic:
    """The loopback fake; use as a context manager or call ``start()`` / ``stop()``."""

    SIGNATURE = "fake-signature"

    def __init__(
        self,
        *,
        default_responder: Responder | None = None,
        api_key: str | None = None,
        validate: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
        caching: bool = False,
        prompt_cache: PromptCache | None = None,
    ) -> None:
        self.default_responder: Responder = default_responder or echo_responder
        self.api_key = api_key  # when set, other keys get 401 authentication_error
        self.validate = validate
        # Anthropic's prompt-caching rules, when asked for (fake_prompt_cache)
        self.prompt_cache = prompt_cache or (PromptCache() if caching else None)
        self._address = (host, port)
        self._lock = threading.Lock()
        self._replies: deque[Reply] = deque()
        self._requests: list[RecordedRequest] = []
        self._counter = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # lifecycle

    def start(self) -> FakeAnthropic:
        self._server = _Server(self._address, _Handler)
        self._server.fake = self
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-anthropic",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeAnthropic:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "FakeAnthropic is not started"
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self, api_key: str = "test-key") -> dict[str, str]:
        """Environment for a subprocess that should talk to this fake."""
        return {"ANTHROPIC_BASE_URL": self.base_url, "ANTHROPIC_API_KEY": self.api_key or api_key}

    # scripting and inspection (all thread-safe)

    def queue(self, *replies: Reply) -> None:
        with self._lock:
            self._replies.extend(replies)

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._replies)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def message_requests(self) -> list[RecordedRequest]:
        """Requests to ``/v1/messages`` only (not ``count_tokens``)."""
        return [r for r in self.requests if r.path == "/v1/messages"]

    @property
    def last_request(self) -> RecordedRequest:
        return self.message_requests[-1]

    def total_cache_usage(self) -> tuple[int, int]:
        """Sum of (cache_read_input_tokens, cache_creation_input_tokens) the fake reported."""
        used = [r.cache for r in self.message_requests if r.cache]
        return sum(u[0] for u in used), sum(u[1] for u in used)

    def total_usage(self) -> tuple[int, int]:
        """Sum of (input_tokens, output_tokens) the fake reported on successful messages."""
        used = [r.usage for r in self.message_requests if r.usage]
        return sum(u[0] for u in used), sum(u[1] for u in used)

    def reset(self) -> None:
        with self._lock:
            self._replies.clear()
            self._requests.clear()

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Poll ``predicate`` (e.g. ``lambda: len(fake.requests) >= 2``) until true or raise."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError("FakeAnthropic.wait_until: condition not met")
            time.sleep(0.01)

    # used by the handler thread

    def _record(self, path: str, headers: dict[str, str], body: JSON) -> RecordedRequest:
        rec = RecordedRequest(path, headers, body)
        with self._lock:
            self._requests.append(rec)
        return rec

    def _next_id(self, prefix: str) -> str:
        with self._lock:
            self._counter += 1
            return f"{prefix}_fake_{self._counter:04d}"

    def _next_reply(self, body: JSON) -> Reply:
        with self._lock:
            if self._replies:
                return self._replies.popleft()
        return self.default_responder(body)

    def _resolve(self, reply: MessageReply, body: JSON, scope: str = "") -> _Resolved:
        blocks: list[JSON] = []
        for b in reply.blocks:
            if b.type == "tool_use":
                tid = b.id or self._next_id("toolu")
                blocks.append({"type": "tool_use", "id": tid, "name": b.name, "input": b.input})
            elif b.type == "thinking":
                blocks.append({"type": "thinking", "thinking": b.text, "signature": self.SIGNATURE})
            else:
                blocks.append({"type": "text", "text": b.text})
        cached = CacheUsage(count_input_tokens(body), 0, 0)
        if self.prompt_cache is not None and reply.input_tokens is None:
            cached = self.prompt_cache.apply(body, scope)  # per organisation: the API key
        return _Resolved(
            reply,
            self._next_id("msg"),
            str(body.get("model", "claude-fake")),
            blocks,
            cached.input_tokens if reply.input_tokens is None else reply.input_tokens,
            count_output_tokens(reply) if reply.output_tokens is None else reply.output_tokens,
            cached.cache_read_input_tokens,
            cached.cache_creation_input_tokens,
        )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Idle keep-alive connections would otherwise make server_close() wait forever.
    block_on_close = False
    fake: FakeAnthropic


def _error_body(error_type: str, message: str) -> JSON:
    return {"type": "error", "error": {"type": error_type, "message": message}}


def _usage(input_tokens: int, output_tokens: int, cache_read: int = 0,
           cache_creation: int = 0) -> JSON:
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_creation_input_tokens": cache_creation,
        "cache_read_input_tokens": cache_read,
    }


def _message_json(r: _Resolved, *, content: list[JSON], stop: str | None, out: int) -> JSON:
    return {
        "id": r.message_id,
        "type": "message",
        "role": "assistant",
        "model": r.model,
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": _usage(r.input_tokens, out, r.cache_read, r.cache_creation),
    }


def _sse_events(r: _Resolved) -> Iterator[tuple[str, JSON, bool]]:
    """(event name, data, is_a_delta) in the real API's order, up to the point of a cut."""
    start = _message_json(r, content=[], stop=None, out=1)
    yield "message_start", {"type": "message_start", "message": start}, False
    for index, (block, spec) in enumerate(zip(r.blocks, r.reply.blocks, strict=True)):
        empty = {**block, "input": {}} if block["type"] == "tool_use" else block
        if block["type"] == "text":
            empty = {"type": "text", "text": ""}
        elif block["type"] == "thinking":
            empty = {"type": "thinking", "thinking": "", "signature": ""}
        yield (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": index,
                "content_block": empty,
            },
            False,
        )
        if index == 0:
            yield "ping", {"type": "ping"}, False
        for delta in _deltas(block, spec):
            yield (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": delta,
                },
                True,
            )
        if r.reply.cut or r.reply.stream_error or r.reply.end_early:
            return
        yield "content_block_stop", {"type": "content_block_stop", "index": index}, False
    yield (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": r.reply.stop_reason, "stop_sequence": None},
            "usage": {"output_tokens": r.output_tokens},
        },
        False,
    )
    yield "message_stop", {"type": "message_stop"}, False


def _deltas(block: JSON, spec: Block) -> Iterator[JSON]:
    if block["type"] == "tool_use":
        raw = json.dumps(block["input"], separators=(",", ":"), ensure_ascii=False)
        # The API opens with an empty partial and then sends arbitrary slices.
        for piece in ["", *(raw[i : i + 12] for i in range(0, len(raw), 12))]:
            yield {"type": "input_json_delta", "partial_json": piece}
    elif block["type"] == "thinking":
        for piece in spec.chunks or re.findall(r"\S+\s*|\s+", block["thinking"]):
            yield {"type": "thinking_delta", "thinking": piece}
        yield {"type": "signature_delta", "signature": FakeAnthropic.SIGNATURE}
    else:
        for piece in spec.chunks or re.findall(r"\S+\s*|\s+", block["text"]):
            yield {"type": "text_delta", "text": piece}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request stderr log; tests inspect ``fake.requests`` instead."""

    def do_GET(self) -> None:
        self._send_json(404, _error_body("not_found_error", f"no route {self.path}"))

    def do_POST(self) -> None:
        fake = self.server.fake
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = None
        path = self.path.split("?", 1)[0]
        headers = {k.lower(): v for k, v in self.headers.items()}
        rec = fake._record(path, headers, body if isinstance(body, dict) else {})
        if path not in ("/v1/messages", "/v1/messages/count_tokens"):
            return self._send_json(404, _error_body("not_found_error", f"no route {path}"))
        if not isinstance(body, dict):
            return self._send_json(400, _error_body("invalid_request_error", "invalid JSON"))
        key = rec.api_key
        if not key or (fake.api_key is not None and key != fake.api_key):
            return self._send_json(401, _error_body("authentication_error", "invalid x-api-key"))
        counting = path.endswith("count_tokens")
        problem = validation_error(body, counting=counting) if fake.validate else None
        if problem:
            return self._send_json(400, _error_body("invalid_request_error", problem))
        if counting:
            return self._send_json(200, {"input_tokens": count_input_tokens(body)})
        try:
            reply = fake._next_reply(body)
        except Exception as exc:  # a broken test responder should surface as a 500, not a hang
            return self._send_json(500, _error_body("api_error", f"responder failed: {exc!r}"))
        # By name, not isinstance: the module may be imported twice (``fake_anthropic`` and
        # ``tests.support.fake_anthropic``), and a reply from one copy must work in the other's
        # server.
        if type(reply).__name__ == "ErrorReply":
            return self._send_error_reply(cast(ErrorReply, reply))
        resolved = fake._resolve(cast(MessageReply, reply), body, key)
        rec.usage = (resolved.input_tokens, resolved.output_tokens)
        rec.cache = (resolved.cache_read, resolved.cache_creation)
        try:
            if body.get("stream"):
                self._stream(resolved, rec)
            else:
                self._send_message(resolved)
        except (BrokenPipeError, ConnectionResetError):
            rec.aborted = True
            self.close_connection = True

    # responses

    def _start(self, status: int, content_type: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("request-id", self.server.fake._next_id("req"))
        for k, v in (extra or {}).items():
            self.send_header(k, v)

    def _send_json(self, status: int, payload: JSON, extra: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self._start(status, "application/json", extra)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send_error_reply(self, reply: ErrorReply) -> None:
        extra: dict[str, str] = {}
        if reply.retry_after is not None:
            extra["retry-after"] = f"{reply.retry_after:g}"
        if reply.should_retry is not None:
            extra["x-should-retry"] = "true" if reply.should_retry else "false"
        self._send_json(reply.status, _error_body(reply.error_type, reply.message), extra)

    def _send_message(self, r: _Resolved) -> None:
        n_chunks = sum(max(1, len(b.chunks)) for b in r.reply.blocks)
        time.sleep(r.reply.delay * n_chunks)
        if r.reply.stream_error:
            err = r.reply.stream_error
            return self._send_json(529, _error_body(err["type"], err["message"]))
        message = _message_json(r, content=r.blocks, stop=r.reply.stop_reason, out=r.output_tokens)
        data = json.dumps(message).encode()
        self._start(200, "application/json")
        self.send_header("content-length", str(len(data) + (100 if r.reply.cut else 0)))
        self.end_headers()
        if r.reply.cut:
            # Fewer bytes than promised, then close: the client sees a truncated body.
            self.wfile.write(data[: len(data) // 2])
            self.close_connection = True
            return
        self.wfile.write(data)

    def _stream(self, r: _Resolved, rec: RecordedRequest | None = None) -> None:
        self._start(200, "text/event-stream; charset=utf-8", {"cache-control": "no-cache"})
        # Chunked framing makes an early close a protocol error for the client (a real drop),
        # where a close-delimited body would look like a clean end of stream.
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for name, data, is_delta in _sse_events(r):
            if is_delta and r.reply.delay:
                time.sleep(r.reply.delay)
            if is_delta and rec is not None and rec.first_delta_at is None:
                rec.first_delta_at = time.perf_counter()
            self._chunk(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
        if r.reply.cut:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if r.reply.stream_error:
            payload = {"type": "error", "error": r.reply.stream_error}
            self._chunk(f"event: error\ndata: {json.dumps(payload)}\n\n".encode())
        self.wfile.write(b"0\r\n\r\n")

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()


# -- standalone mode -------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Serve the fake Anthropic API; prints 'PORT <n>' once listening."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--script", help='JSON file: a list of replies, e.g. [{"kind": "text", "text": "hi"}]'
    )
    parser.add_argument("--api-key", help="only accept this key (401 otherwise)")
    parser.add_argument("--caching", action="store_true",
                        help="apply Anthropic's prompt-caching rules and report cache usage")
    parser.add_argument(
        "--exit-on-eof",
        action="store_true",
        help="exit when stdin closes, so a parent that dies leaves no orphan server",
    )
    args = parser.parse_args(argv)
    fake = FakeAnthropic(host=args.host, port=args.port, api_key=args.api_key,
                         caching=args.caching)
    if args.script:
        with open(args.script, encoding="utf-8") as f:
            fake.queue(*(reply_from_json(spec) for spec in json.load(f)))
    with fake:
        print(f"PORT {fake.port}", flush=True)
        try:
            if args.exit_on_eof:
                sys.stdin.read()
            else:
                threading.Event().wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
