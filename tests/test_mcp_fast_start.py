"""``initialize`` answered from the start-up cache: the same answer the SDK gives, then a
session that works as if the SDK had answered it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from mcp_face_harness import server_args, server_env

from victor_server.adapters.mcp_fast_start import read_first_frame, remember

INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-06-18", "capabilities": {},
    "clientInfo": {"name": "test", "version": "0"}}}


def session(workspace: Path, cache: Path) -> tuple[list[dict], str]:
    """initialize, initialized, tools/list over raw stdio; the answers and stderr."""
    frames = [INITIALIZE, {"jsonrpc": "2.0", "method": "notifications/initialized"},
              {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}]
    wire = "".join(json.dumps(f) + "\n" for f in frames)
    done = subprocess.run([sys.executable, *server_args(workspace, workspace / "v.db"), "-v"],
                          input=wire, capture_output=True, text=True, timeout=120,
                          env=server_env({"XDG_CACHE_HOME": str(cache)}), check=False)
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()], done.stderr


def test_second_start_answers_from_cache_with_the_sdk_answer(workspace: Path,
                                                             tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first, first_log = session(workspace, cache)
    assert "answered from the start-up cache" not in first_log
    assert list((cache / "victor-server").glob("mcp-initialize-*.json"))
    second, second_log = session(workspace, cache)
    assert "answered from the start-up cache" in second_log
    assert "differed" not in second_log
    # exactly one answer per request, and the cached initialize equals the SDK's own
    assert [m.get("id") for m in first] == [1, 2] == [m.get("id") for m in second]
    assert second[0] == first[0]
    assert {t["name"] for t in second[1]["result"]["tools"]} >= {"chat", "select_tools"}


def test_only_a_known_initialize_is_answered(tmp_path: Path) -> None:
    cache = tmp_path / "answers.json"
    remember("2025-06-18", {"protocolVersion": "2025-06-18"}, cache)
    for line, answered in [(json.dumps(INITIALIZE), True),
                           (json.dumps({**INITIALIZE, "params": {"protocolVersion": "1999"}}),
                            False),
                           ('{"jsonrpc": "2.0", "id": 1, "method": "server/discover"}', False),
                           ("not json", False)]:
        stdin_r, stdin_w = os.pipe()
        out_r, out_w = os.pipe()
        os.write(stdin_w, line.encode() + b"\nNEXT\n")
        frame = read_first_frame(stdin_r, out_w, cache)
        assert frame.raw == line.encode() + b"\n"
        assert os.read(stdin_r, 5) == b"NEXT\n"  # nothing past the first line was consumed
        assert (frame.answered is not None) is answered
        os.close(out_w)
        written = os.read(out_r, 65536)
        assert bool(written) is answered
        if answered:
            assert json.loads(written) == {"jsonrpc": "2.0", "id": 1,
                                           "result": {"protocolVersion": "2025-06-18"}}
        for fd in (stdin_r, stdin_w, out_r):
            os.close(fd)
