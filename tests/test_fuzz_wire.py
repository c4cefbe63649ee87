"""Hostile wire input on every face: the server answers or ignores per SPEC section 8, never
exits, and a valid request after the storm succeeds.

One server process per face serves every example (spawning costs seconds). After each hostile
frame a sentinel request is sent and must be answered, which proves the process is alive and
its framing recovered. Every error the server wrote must carry a JSON-RPC code the spec names
(never -32603, an internal error, and never an exit). Lifecycle methods that end a session by
design (LSP ``shutdown``/``exit``) are not drawn.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rpc_wire import WireServer, frame

FACES = ("lsp", "mcp", "acp")
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
# what the spec lets a hostile frame produce; -32001 etc. come from well-formed calls
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
            server = WireServer(face, workspace, {"VICTOR_PROVIDER": "scripted"})
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
