"""Hostile wire input on every face: the server answers or ignores with the error table's codes,
never exits, and a valid request after the storm succeeds.

One server process per face serves every example (spawning costs seconds). After each hostile
frame a sentinel request is sent and must be answered, which proves the process is alive and
its framing recovered. Every error the server wrote must carry a JSON-RPC code from the
server's error table (never -32603, an internal error, and never an exit). Lifecycle methods
that end a session by design (LSP ``shutdown``/``exit``) are not drawn.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rpc_wire import WireServer, frame

FACES = ("lsp", "mcp", "acp")
LIMIT = 8 * 1024 * 1024  # the frame size limit the fuzzed servers run with (the default is 32 MiB)
DEPTH = 128  # the default nesting limit
SENTINEL = {"lsp": ("victor/session/list", {}), "mcp": ("ping", None),
            "acp": ("session/list", {})}
METHODS = {
    "lsp": ["victor/chat", "victor/selectTools", "victor/session/get", "victor/getConfig",
            "victor/compactContext", "workspace/executeCommand", "$/cancelRequest",
            "textDocument/hover", "initialize"],
    "mcp": ["tools/call", "tools/list", "resources/read", "prompts/get", "ping",
            "notifications/cancelled", "initialize", "server/discover"],
    "acp": ["session/new", "session/prompt", "session/load", "session/cancel", "session/list",
            "initialize", "authenticate"],
}
# the codes a hostile frame may produce; -32001 etc. come from well-formed calls
ALLOWED_CODES = {-32700, -32600, -32601, -32602, -32001, -32002, -32003, -32004, -32005,
                 -32800, -32000, 0}

json_leaf = st.none() | st.booleans() | st.integers(-2**53, 2**53) | st.floats(
    allow_nan=False, allow_infinity=False) | st.text(max_size=40)
json_value = st.recursive(json_leaf, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
    st.text(max_size=12), inner, max_size=4), max_leaves=12)
ids = st.none() | st.integers(-5, 10**12) | st.text(max_size=8) | st.booleans() | st.floats(
    allow_nan=False) | st.lists(st.integers(), max_size=2) | st.dictionaries(
    st.text(max_size=3), st.integers(), max_size=2)


def messages(face: str) -> st.SearchStrategy[dict[str, Any]]:
    method = st.sampled_from(METHODS[face]) | st.text(max_size=20) | json_leaf
    params = json_value | st.fixed_dictionaries({}, optional={
        "message": json_value, "sessionId": json_value, "session_id": json_value,
        "query": json_value, "name": st.sampled_from(["chat", "select_tools", "nope"]),
        "arguments": json_value, "cwd": json_value, "prompt": json_value})
    return st.fixed_dictionaries({}, optional={
        "jsonrpc": st.sampled_from(["2.0", "2.0", "2.0", "1.0", 2]), "id": ids,
        "method": method, "params": params, "result": json_value, "error": json_value})


def bodies(face: str) -> st.SearchStrategy[bytes]:
    as_json = messages(face).map(lambda m: json.dumps(m).encode())
    batch = st.lists(messages(face), max_size=3).map(lambda ms: json.dumps(ms).encode())
    other_json = json_value.map(lambda v: json.dumps(v).encode())
    truncated = as_json.flatmap(lambda b: st.integers(0, max(0, len(b) - 1)).map(lambda n: b[:n]))
    bad_utf8 = st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf0\x28\x8c"]).map(
        lambda junk: b'{"jsonrpc":"2.0","id":1,"method":"' + junk + b'"}')
    noise = st.binary(max_size=64)
    return as_json | as_json | batch | other_json | truncated | bad_utf8 | noise


def lsp_frames() -> st.SearchStrategy[bytes]:
    """Whole LSP frames, some with broken headers. Each is followed by the bytes that let a
    well-behaved reader find the next frame (Content-Length framing cannot resync by itself:
    a wrong length desynchronises every reader, so a repair suffix stands in for the client
    that would reconnect)."""
    def build(body: bytes, kind: str, delta: int) -> bytes:
        if kind == "ok":
            return frame("lsp", body)
        if kind == "long":  # declares more than it sends, then the missing bytes as spaces
            return b"Content-Length: %d\r\n\r\n" % (len(body) + delta) + body + b" " * delta
        if kind == "short":  # declares less; the rest ends up as one junk header line
            cut = max(0, len(body) - delta)
            return b"Content-Length: %d\r\n\r\n" % cut + body[:cut] + body[cut:].replace(
                b"\r", b"").replace(b"\n", b"") + b"\r\n"
        if kind == "extra_headers":
            return (b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\nX-Junk: \xff\r\n"
                    + frame("lsp", body))
        if kind == "bad_length":
            return b"Content-Length: -1\r\n\r\nContent-Length: abc\r\n\r\n"
        return b"Content-Len"[:delta % 11] + b"\r\n"  # truncated header
    return st.builds(build, bodies("lsp"), st.sampled_from(
        ["ok", "ok", "long", "short", "extra_headers", "bad_length", "truncated"]),
        st.integers(1, 40))


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, WireServer]]:
    started: dict[str, WireServer] = {}
    try:
        for face in FACES:
            workspace = tmp_path_factory.mktemp(f"fuzz-{face}") / "project"
            workspace.mkdir()
            server = WireServer(face, workspace, {"VICTOR_PROVIDER": "scripted",
                                                  "VICTOR_WIRE__MAX_FRAME_BYTES": str(LIMIT)})
            server.initialize()
            started[face] = server
        yield started
    finally:
        for server in started.values():
            server.__exit__()


def assert_sane(server: WireServer, start: int) -> None:
    method, params = SENTINEL[server.face]
    response = server.request(method, params, timeout=30)
    assert "result" in response, (response, server.tail())
    assert server.alive, server.tail()
    for message in server.messages[start:]:
        if "error" in message:
            code = message["error"].get("code") if isinstance(message["error"], dict) else None
            assert code in ALLOWED_CODES, (message, server.tail())


FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large])


@FUZZ
@given(data=st.data())
def test_fuzz_lsp(servers: dict[str, WireServer], data: st.DataObject) -> None:
    server = servers["lsp"]
    start = len(server.messages)
    server.send_raw(data.draw(lsp_frames()))
    assert_sane(server, start)


@pytest.mark.parametrize("face", ["mcp", "acp"])
@FUZZ
@given(data=st.data())
def test_fuzz_ndjson(servers: dict[str, WireServer], face: str, data: st.DataObject) -> None:
    server = servers[face]
    start = len(server.messages)
    body = data.draw(bodies(face))
    server.send_raw(body.replace(b"\n", b" ") + b"\n")  # one line, whatever it holds
    assert_sane(server, start)


@pytest.mark.parametrize("face", FACES)
def test_each_kind_of_bad_frame_gets_its_code(servers: dict[str, WireServer], face: str) -> None:
    server = servers[face]
    cases = [
        (b"{not json", -32700, None),
        # the MCP SDK decodes stdin with errors="replace": the method becomes U+FFFD, unknown
        (b'{"jsonrpc":"2.0","id":1,"method":"\xff\xfe"}', *((-32601, 1) if face == "mcp"
                                                          else (-32700, None))),
        (b"[]", -32600, None),
        (b'[{"jsonrpc":"2.0","id":5,"method":"ping"}]', -32600, None),
        (b"42", -32600, None),
        (b'{"jsonrpc":"2.0","id":71,"method":"no/such/method","params":{}}', -32601, 71),
        (b'{"jsonrpc":"2.0","id":72,"method":"no/such/method"}', -32601, 72),
    ]
    if face == "lsp":
        cases.append((b'{"jsonrpc":"2.0","id":73,"method":"victor/chat","params":{"message":5}}',
                      -32602, 73))
        cases.append((b'{"jsonrpc":"2.0","id":74,"method":5}', -32600, 74))
    elif face == "acp":
        cases.append((b'{"jsonrpc":"2.0","id":73,"method":"session/new","params":{"cwd":5}}',
                      -32602, 73))
        cases.append((b'{"jsonrpc":"2.0","id":74,"method":5}', -32600, 74))
    else:
        cases.append((b'{"jsonrpc":"2.0","id":73,"method":"tools/call","params":{"name":5}}',
                      -32602, 73))
    for body, code, rid in cases:
        start = len(server.messages)
        server.send_raw(frame(face, body))
        answer = server.wait_for(lambda m, rid=rid, code=code: m.get("id") == rid
                                 and isinstance(m.get("error"), dict), 30, start)
        assert answer is not None, (body, server.messages[start:], server.tail())
        assert answer["error"]["code"] == code, (body, answer)
        assert_sane(server, start)


@pytest.mark.parametrize("face", FACES)
def test_huge_messages(servers: dict[str, WireServer], face: str) -> None:
    server = servers[face]
    blob = "x" * 5_000_000
    start = len(server.messages)
    server.send({"jsonrpc": "2.0", "id": 81, "method": "no/such/method", "params": {"b": blob}})
    answer = server.response(81, 60)
    assert answer["error"]["code"] == -32601
    server.send_raw(frame(face, b'{"jsonrpc":"2.0","id":82,"method":"x","params":"' +
                          blob.encode() + b"\x00"))
    assert_sane(server, start)


def test_valid_work_after_the_storm(servers: dict[str, WireServer], tmp_path: Path) -> None:
    """Each process, after every example above, still does real work."""
    lsp, mcp, acp = servers["lsp"], servers["mcp"], servers["acp"]
    created = lsp.call("victor/session/create", {"sessionId": "after-storm"})
    assert created["sessionId"] == "after-storm"
    assert lsp.call("victor/session/get", {"sessionId": "after-storm"})["messages"] == []
    tools = mcp.call("tools/list", {})["tools"]
    assert "chat" in {t["name"] for t in tools}
    session = acp.call("session/new", {"cwd": str(acp.workspace), "mcpServers": []})
    assert session["sessionId"]
    for server in servers.values():
        assert server.alive


# ---- limits: depth, size, and the lies a Content-Length header can tell -----------------------

DEPTH_IDS = itertools.count(3_000_000_000)
LENGTH_LIES = ["exact", "long", "short", "huge", "enormous", "over_limit", "negative", "word",
               "float", "hex", "plus", "empty", "spaced", "arabic_digits"]


def lsp_header_lies() -> st.SearchStrategy[bytes]:
    """One frame whose header may lie, with no repair: the server must find the next frame
    (the sentinel) by itself. Junk may come first, and the header's name any case."""
    def build(body: bytes, name: bytes, lie: str, delta: int, junk: bytes) -> bytes:
        size = len(body)
        value = {"exact": b"%d" % size, "long": b"%d" % (size + delta),
                 "short": b"%d" % max(0, size - delta), "huge": b"1000000000000",
                 "enormous": b"9" * 40, "over_limit": b"%d" % (LIMIT + delta),
                 "negative": b"-%d" % delta, "word": b"abc", "float": b"%d.5" % size,
                 "hex": b"0x%x" % size, "plus": b"+%d" % size, "empty": b"",
                 "spaced": b"  %d  " % size, "arabic_digits": "\u0661\u0662".encode()}[lie]
        return junk + name + b": " + value + b"\r\n\r\n" + body
    names = st.sampled_from([b"Content-Length", b"content-length", b"CONTENT-LENGTH",
                             b"Content-length", b"content-Length "])
    junk = st.just(b"") | st.binary(max_size=40).filter(lambda b: b"ength" not in b.lower())
    return st.builds(build, bodies("lsp"), names, st.sampled_from(LENGTH_LIES),
                     st.integers(1, 60), junk)


@FUZZ
@given(data=st.data())
def test_fuzz_lsp_header_lies(servers: dict[str, WireServer], data: st.DataObject) -> None:
    server = servers["lsp"]
    start = len(server.messages)
    server.send_raw(data.draw(lsp_header_lies()))
    assert_sane(server, start)


def nested(depth: int, shape: str) -> tuple[bytes, int]:
    """A JSON value nested ``depth`` deep (inside a string for ``in_string``), and the depth
    the whole request reaches (its object and params add two)."""
    if shape == "array":
        return b"[" * depth + b"]" * depth, depth + 2
    if shape == "object":
        return b'{"a":' * depth + b"1" + b"}" * depth, depth + 2
    if shape == "mixed":
        half = depth // 2
        return b'[{"a":' * half + b"1" + b"}]" * half, 2 * half + 2
    return b'"' + b"[{" * depth + b'\\"]}"', 2  # brackets in a string do not count


@pytest.mark.parametrize("face", FACES)
@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(depth=st.integers(1, 4000) | st.integers(DEPTH - 4, DEPTH + 4),
       shape=st.sampled_from(["array", "object", "mixed", "in_string"]))
def test_fuzz_depth(servers: dict[str, WireServer], face: str, depth: int, shape: str) -> None:
    """Nesting past the limit is -32600 naming the request (its id comes first); up to the
    limit it reaches the method table (-32601), on every face and never a RecursionError."""
    server = servers[face]
    start = len(server.messages)
    rid = next(DEPTH_IDS)  # unique: an answer to an earlier example must not count
    value, reached = nested(depth, shape)
    server.send_raw(frame(face, b'{"jsonrpc":"2.0","id":%d,"method":"no/such/method",'
                                b'"params":{"x":%s}}' % (rid, value)))
    answer = server.wait_for(lambda m: m.get("id") == rid and "error" in m, 30, start)
    assert answer is not None, server.tail()
    assert answer["error"]["code"] == (-32600 if reached > DEPTH else -32601), (
        reached, answer, server.tail())
    assert_sane(server, start)


@pytest.mark.parametrize("face", FACES)
def test_frame_size_limit(servers: dict[str, WireServer], face: str) -> None:
    """A frame of exactly the limit is served; one byte more is -32600 with its id, read
    through and dropped, and the next frame is served."""
    server = servers[face]
    start = len(server.messages)
    for rid, size in ((91, LIMIT), (92, LIMIT + 1), (93, 3 * LIMIT)):
        head = b'{"jsonrpc":"2.0","id":%d,"method":"no/such/method","params":{"b":"' % rid
        body = head + b"x" * (size - len(head) - 3) + b'"}}'
        assert len(body) == size
        server.send_raw(frame(face, body))
        answer = server.response(rid, 120)
        expected = -32601 if size <= LIMIT else -32600
        assert answer["error"]["code"] == expected, (size, answer)
    assert_sane(server, start)


def test_lsp_lengths_that_lie_about_the_next_frame(servers: dict[str, WireServer]) -> None:
    """Each lie is answered and the frame after it is served: the failures the LSP face had
    (a MemoryError on a 10^12 length; deaf after a length too big, too small, negative,
    non-numeric or in lower case). A length too big can only be seen to lie once the next
    frame arrives, so each lie is followed by an honest request in the same write."""
    server = servers["lsp"]
    start = len(server.messages)
    request = b'{"jsonrpc":"2.0","id":%d,"method":"no/such/method"}'
    lies = [(b"Content-Length: 1000000000000", 94, -32600),
            (b"Content-Length: %d" % (len(request % 95) + 500), 95, -32600),
            (b"content-length: %d" % len(request % 96), 96, -32601),
            (b"Content-Length: -1", None, -32700),
            (b"Content-Length: twelve", None, -32700),
            (b"Content-Length: 3", None, -32700)]
    for n, (header, rid, code) in enumerate(lies):
        start_lie = len(server.messages)
        honest = request % (200 + n)
        server.send_raw(header + b"\r\n\r\n" + request % (rid or 0) + frame("lsp", honest))
        answer = server.wait_for(lambda m, rid=rid: "error" in m and m.get("id") == rid, 30,
                                 start_lie)
        assert answer is not None and answer["error"]["code"] == code, (
            header, server.messages[start_lie:], server.tail())
        assert server.response(200 + n, 30)["error"]["code"] == -32601
        assert_sane(server, start)


@pytest.mark.parametrize("cached", [False, True])
def test_mcp_first_frame_nested_deep(tmp_path: Path, cached: bool) -> None:
    """MCP's first frame is read before the SDK is imported (the start-up cache path): a
    frame nested 1,100 deep there is answered -32600, and the server goes on."""
    workspace = tmp_path / "project"
    workspace.mkdir()
    env = {"VICTOR_PROVIDER": "scripted", "XDG_CACHE_HOME": str(tmp_path / "cache")}
    if cached:  # a first start records the initialize answer
        with WireServer("mcp", workspace, env) as warm:
            warm.initialize()
    with WireServer("mcp", workspace, env) as server:
        deep = b"[" * 1100 + b"]" * 1100
        server.send_raw(b'{"jsonrpc":"2.0","id":7,"method":"initialize","params":%s}\n' % deep)
        assert server.response(7, 60)["error"]["code"] == -32600
        server.initialize()
        assert "result" in server.request("ping")
        assert server.alive
