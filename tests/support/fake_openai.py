"""A loopback fake of an OpenAI-compatible ``/v1/chat/completions`` server (Ollama, vLLM, ...).

Design
------
Like ``fake_anthropic``, a real HTTP server (stdlib ``ThreadingHTTPServer``) on ``127.0.0.1``
with an ephemeral port, served from a daemon thread, so it exercises the provider's real HTTP
client, SSE parsing and retries, and can stand in for Ollama when victor-server runs as a
subprocess (``base_url = fake.base_url``, which ends in ``/v1``).

``POST /v1/chat/completions`` answers a JSON ``chat.completion`` when ``stream`` is false, else
SSE ``data:`` lines the way OpenAI streams them: a role chunk, text in ``delta.content`` chunks,
each tool call as a first fragment (``index``, ``id``, ``function.name``, empty arguments) then
argument slices, a chunk carrying ``finish_reason``, a ``usage`` chunk with empty ``choices``
*only when* ``stream_options.include_usage`` was asked, and ``data: [DONE]``. Streams use chunked
encoding, so ``cut_stream`` is a protocol error for the client, as a dropped connection is.

Token rule (deterministic): prompt tokens = ``ceil(len(canonical) / 4)`` with ``canonical`` the
compact sorted JSON of ``{"messages", "tools"}`` of the request (``count_prompt_tokens``);
completion tokens = ``ceil(len(text + compact JSON of every tool call's arguments) / 4)``.

Scripting: ``fake.queue(*replies)``, consumed in order; with an empty queue the default
responder answers ``echo: <last user text>``. ``fake.requests`` records every request.
Flags: ``api_key`` (other bearer tokens get 401), ``reject_stream_options`` (a 400 naming
``stream_options``, as some older servers send), ``validate`` (400s for malformed requests).
"""

from __future__ import annotations

import argparse
import json
import math
import socket
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

JSON = dict[str, Any]
PATH = "/v1/chat/completions"

# -- replies ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: JSON | str  # a str is sent verbatim (to script malformed JSON)
    id: str | None = None

    @property
    def raw(self) -> str:
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(self.arguments, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class CompletionReply:
    """A 200 answer. ``chunks`` split the text (default: per word); ``cut`` drops the line
    after the text; ``stream_error`` sends an ``{"error": ...}`` chunk instead of finishing."""

    text: str = ""
    chunks: tuple[str, ...] = ()
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: str | None = None  # default: "tool_calls" with calls, else "stop"
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    send_usage: bool = True  # False: never send usage, even when asked
    omit_ids: bool = False  # as Ollama and llama.cpp sometimes do
    fragment_size: int = 7
    cut: bool = False
    stream_error: str | None = None


@dataclass(frozen=True)
class ErrorReply:
    status: int
    message: str
    retry_after: str | None = None


Reply = CompletionReply | ErrorReply
Responder = Callable[[JSON], Reply]


def text(content: str, *, chunks: list[str] | None = None, finish_reason: str = "stop",
         prompt_tokens: int | None = None, completion_tokens: int | None = None,
         send_usage: bool = True) -> CompletionReply:
    return CompletionReply(content, tuple(chunks or ()), finish_reason=finish_reason,
                           prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                           send_usage=send_usage)


def tool_calls(*calls: tuple[str, JSON | str], text_before: str = "",
               finish_reason: str = "tool_calls", omit_ids: bool = False,
               ids: tuple[str, ...] = ()) -> CompletionReply:
    """``tool_calls(("read_file", {"path": "a.py"}), ...)``: parallel calls in one answer."""
    made = tuple(ToolCall(n, a, ids[i] if i < len(ids) else None)
                 for i, (n, a) in enumerate(calls))
    return CompletionReply(text_before, tool_calls=made, finish_reason=finish_reason,
                           omit_ids=omit_ids)


def error(status: int, message: str | None = None,
          retry_after: str | float | None = None) -> ErrorReply:
    after = None if retry_after is None else (
        retry_after if isinstance(retry_after, str) else f"{retry_after:g}")
    return ErrorReply(status, message or f"fake error {status}", after)


def cut_stream(text_before: str = "partial answer") -> CompletionReply:
    return CompletionReply(text_before, cut=True)


def stream_error(message: str = "engine crashed", text_before: str = "") -> CompletionReply:
    return CompletionReply(text_before, stream_error=message)


def reply_from_json(spec: JSON) -> Reply:
    """``{"kind": "text", "text": "hi"}``, ``{"kind": "tool_calls", "calls": [[n, args]]}``,
    ``{"kind": "error", "status": 503}`` (standalone ``--script`` files)."""
    args = dict(spec)
    kind = args.pop("kind")
    if kind == "text":
        return text(args.pop("text"), **args)
    if kind == "tool_calls":
        return tool_calls(*(tuple(c) for c in args.pop("calls")), **args)
    if kind == "error":
        return error(**args)
    raise ValueError(f"unknown reply kind {kind!r}")


# -- token rules and the default responder -----------------------------------------------------


def count_prompt_tokens(body: JSON) -> int:
    canonical = json.dumps({"messages": body.get("messages"), "tools": body.get("tools")},
                           sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return math.ceil(len(canonical) / 4)


def count_completion_tokens(reply: CompletionReply) -> int:
    return math.ceil((len(reply.text) + sum(len(c.raw) for c in reply.tool_calls)) / 4)


def last_user_text(body: JSON) -> str:
    users = [m for m in body.get("messages") or [] if m.get("role") in ("user", "tool")]
    if not users:
        return ""
    content = users[-1].get("content")
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content if p.get("type") == "text")
    return str(content or "")


def echo_responder(body: JSON) -> Reply:
    return text(f"echo: {last_user_text(body)}")


def validation_error(body: JSON) -> str | None:
    """Why a strict server (OpenAI, vLLM) would answer 400, or None."""
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "model: field required"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    called: set[str] = set()
    for i, m in enumerate(messages):
        role = m.get("role")
        if role not in ("system", "user", "assistant", "tool"):
            return f"messages.{i}.role: invalid role {role!r}"
        for call in m.get("tool_calls") or []:
            if not isinstance(call.get("function", {}).get("arguments"), str):
                return f"messages.{i}.tool_calls: arguments must be a JSON string"
            called.add(call.get("id"))
        if role == "tool" and m.get("tool_call_id") not in called:
            return f"messages.{i}: tool message answers no earlier tool call"
    for i, tool in enumerate(body.get("tools") or []):
        if tool.get("type") != "function" or "name" not in (tool.get("function") or {}):
            return f"tools.{i}: expected {{'type': 'function', 'function': {{'name': ...}}}}"
    return None


# -- the server ------------------------------------------------------------------------------


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: JSON
    usage: tuple[int, int] | None = None  # (prompt, completion) the fake reported, if any

    @property
    def bearer(self) -> str:
        return self.headers.get("authorization", "").removeprefix("Bearer ")


@dataclass
class FakeOpenAI:
    """The loopback fake; a context manager, or ``start()`` / ``stop()``."""

    api_key: str | None = None
    reject_stream_options: bool = False
    validate: bool = True
    default_responder: Responder = echo_responder
    host: str = "127.0.0.1"
    port_request: int = 0
    requests: list[RecordedRequest] = field(default_factory=list)
    _replies: deque[Reply] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: _Server | None = None
    _counter: int = 0

    def start(self) -> FakeOpenAI:
        self._server = _Server((self.host, self.port_request), _Handler)
        self._server.fake = self
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                         name="fake-openai", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "FakeOpenAI is not started"
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def queue(self, *replies: Reply) -> None:
        with self._lock:
            self._replies.extend(replies)

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._replies)

    @property
    def last_request(self) -> RecordedRequest:
        with self._lock:
            return self.requests[-1]

    def _record(self, rec: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(rec)

    def _next_reply(self, body: JSON) -> Reply:
        with self._lock:
            if self._replies:
                return self._replies.popleft()
        return self.default_responder(body)

    def _next_id(self, prefix: str) -> str:
        with self._lock:
            self._counter += 1
            return f"{prefix}-fake-{self._counter:04d}"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # idle keep-alive connections must not hold up server_close()
    fake: FakeOpenAI


def _error_body(status: int, message: str) -> JSON:
    kind = "invalid_request_error" if status < 500 else "server_error"
    return {"error": {"message": message, "type": kind, "param": None, "code": status}}


def _chunks(reply: CompletionReply, ids: list[str]) -> Iterator[JSON]:
    """The ``delta``/``finish_reason`` of every chunk, in OpenAI's order."""
    yield {"delta": {"role": "assistant", "content": ""}, "finish_reason": None}
    pieces: tuple[str, ...] = reply.chunks
    if reply.text and not pieces:
        words = reply.text.split(" ")
        pieces = (*(w + " " for w in words[:-1]), words[-1])
    for piece in pieces:
        yield {"delta": {"content": piece}, "finish_reason": None}
    for index, (call, call_id) in enumerate(zip(reply.tool_calls, ids, strict=True)):
        first: JSON = {"index": index, "type": "function",
                       "function": {"name": call.name, "arguments": ""}}
        if not reply.omit_ids:
            first["id"] = call_id
        yield {"delta": {"tool_calls": [first]}, "finish_reason": None}
        raw, size = call.raw, reply.fragment_size
        for start in range(0, len(raw), size):
            fragment = {"index": index, "function": {"arguments": raw[start:start + size]}}
            yield {"delta": {"tool_calls": [fragment]}, "finish_reason": None}
    yield {"delta": {}, "finish_reason": _finish(reply)}


def _finish(reply: CompletionReply) -> str:
    return reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silent; tests read ``fake.requests``."""

    def do_POST(self) -> None:
        fake = self.server.fake
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = None
        path = self.path.split("?", 1)[0]
        rec = RecordedRequest(path, {k.lower(): v for k, v in self.headers.items()},
                              body if isinstance(body, dict) else {})
        fake._record(rec)
        if path != PATH:
            return self._send_json(404, _error_body(404, f"no route {path}"))
        if not isinstance(body, dict):
            return self._send_json(400, _error_body(400, "invalid JSON body"))
        if fake.api_key is not None and rec.bearer != fake.api_key:
            return self._send_json(401, _error_body(401, "Incorrect API key provided"))
        if fake.reject_stream_options and "stream_options" in body:
            return self._send_json(400, _error_body(400, "unknown field: stream_options"))
        problem = validation_error(body) if fake.validate else None
        if problem:
            return self._send_json(400, _error_body(400, problem))
        reply = fake._next_reply(body)
        if isinstance(reply, ErrorReply):
            extra = {"retry-after": reply.retry_after} if reply.retry_after is not None else {}
            return self._send_json(reply.status, _error_body(reply.status, reply.message), extra)
        usage = (count_prompt_tokens(body) if reply.prompt_tokens is None else reply.prompt_tokens,
                 count_completion_tokens(reply) if reply.completion_tokens is None
                 else reply.completion_tokens)
        ids = [c.id or fake._next_id("call") for c in reply.tool_calls]
        try:
            if body.get("stream"):
                asked = bool((body.get("stream_options") or {}).get("include_usage"))
                rec.usage = usage if asked and reply.send_usage else None
                self._stream(reply, body, ids, rec.usage)
            else:
                rec.usage = usage
                self._send_json(200, _completion(reply, body, ids, usage, fake._next_id("cmpl")))
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _send_json(self, status: int, payload: JSON, extra: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, reply: CompletionReply, body: JSON, ids: list[str],
                usage: tuple[int, int] | None) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        base = {"id": self.server.fake._next_id("chatcmpl"), "object": "chat.completion.chunk",
                "created": 1700000000, "model": body.get("model")}
        for choice in _chunks(reply, ids):
            if choice["finish_reason"] is not None and (reply.cut or reply.stream_error):
                break
            self._event({**base, "choices": [{"index": 0, **choice}]})
        if reply.cut:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if reply.stream_error:
            self._event({"error": {"message": reply.stream_error, "type": "server_error"}})
        elif usage is not None:
            self._event({**base, "choices": [], "usage": {
                "prompt_tokens": usage[0], "completion_tokens": usage[1],
                "total_tokens": sum(usage)}})
        self._chunk(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")

    def _event(self, payload: JSON) -> None:
        self._chunk(f"data: {json.dumps(payload)}\n\n".encode())

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()


def _completion(reply: CompletionReply, body: JSON, ids: list[str], usage: tuple[int, int],
                completion_id: str) -> JSON:
    message: JSON = {"role": "assistant", "content": reply.text or None}
    if reply.tool_calls:
        message["tool_calls"] = [
            {"id": i, "type": "function", "function": {"name": c.name, "arguments": c.raw}}
            for c, i in zip(reply.tool_calls, ids, strict=True)]
    return {"id": completion_id, "object": "chat.completion", "created": 1700000000,
            "model": body.get("model"),
            "choices": [{"index": 0, "message": message, "finish_reason": _finish(reply)}],
            "usage": {"prompt_tokens": usage[0], "completion_tokens": usage[1],
                      "total_tokens": sum(usage)}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Serve a fake OpenAI-compatible API; prints 'PORT <n>' once listening.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--script", help='JSON list of replies: [{"kind": "text", "text": "hi"}]')
    parser.add_argument("--api-key", help="only accept this bearer token (401 otherwise)")
    args = parser.parse_args(argv)
    fake = FakeOpenAI(api_key=args.api_key, port_request=args.port)
    if args.script:
        with open(args.script, encoding="utf-8") as f:
            fake.queue(*(reply_from_json(spec) for spec in json.load(f)))
    with fake:
        print(f"PORT {fake.port}", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
