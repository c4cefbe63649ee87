"""An unexpected exception (a bug, or a plugin's) is one line for everyone: the LSP client gets
-32603 with a one-line message and no traceback in ``data``, the log gets one line (the
traceback only at ``-vv``), and the server goes on. The trigger is a real installed middleware
plugin that raises, found through its entry point like any user's package."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from rpc_wire import WireServer

PLUGIN = '''
class ExplodingMiddleware:
    async def __call__(self, call, call_next):
        if call.method == "victor/session/list":
            raise RuntimeError("the plugin broke")
        return await call_next(call)
'''


def install(site: Path) -> None:
    site.mkdir()
    (site / "exploding_plugin.py").write_text(PLUGIN)
    dist = site / "exploding_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: exploding-plugin\n"
                                   "Version: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[victor_server.middleware]\nexploding = exploding_plugin:ExplodingMiddleware\n")


def test_an_exception_is_one_line_without_traceback(tmp_path: Path) -> None:
    install(tmp_path / "site")
    workspace = tmp_path / "project"
    (workspace / ".victor").mkdir(parents=True)
    (workspace / ".victor" / "config.yml").write_text("middleware: [exploding]\n")
    env = {"PYTHONPATH": os.pathsep.join([str(tmp_path / "site"),
                                          os.environ.get("PYTHONPATH", "")])}
    for verbosity in ([], ["-vv"]):
        with WireServer("lsp", workspace, env, verbosity) as server:
            server.initialize()
            response = server.request("victor/session/list", {})
            error = response["error"]
            assert error["code"] == -32603
            assert error["message"] == "internal error: RuntimeError: the plugin broke"
            assert "traceback" not in json.dumps(error).lower()
            assert server.call("victor/session/create", {"sessionId": f"after{len(verbosity)}"})
            assert server.close() == 0
        log = server.stderr_path.read_text()
        mentions = [line for line in log.splitlines() if "the plugin broke" in line]
        assert len(mentions) == 1 if not verbosity else len(mentions) >= 1, log[-3000:]
        assert ("Traceback" in log) == bool(verbosity), log[-3000:]


@pytest.mark.parametrize("face", ["mcp", "acp"])
def test_other_faces_answer_in_one_line_too(tmp_path: Path, face: str) -> None:
    install(tmp_path / "site")
    workspace = tmp_path / "project"
    (workspace / ".victor").mkdir(parents=True)
    (workspace / ".victor" / "config.yml").write_text("middleware: [exploding]\n")
    env = {"PYTHONPATH": os.pathsep.join([str(tmp_path / "site"),
                                          os.environ.get("PYTHONPATH", "")])}
    with WireServer(face, workspace, env) as server:
        server.initialize()
        if face == "mcp":
            read = server.request("resources/read", {"uri": "victor://sessions"})
            assert read["error"]["code"] == -32603
            assert "internal error: RuntimeError: the plugin broke" in read["error"]["message"]
            tool = server.call("tools/call", {"name": "list_sessions", "arguments": {}})
            assert tool["isError"] and "the plugin broke" in json.dumps(tool)
        else:
            listed = server.request("session/list", {"cwd": str(workspace)})
            assert listed["error"]["code"] == -32603
            assert "the plugin broke" in json.dumps(listed["error"])
        assert "traceback" not in json.dumps(server.messages).lower()
        assert server.alive and server.close() == 0
    log = server.stderr_path.read_text()
    assert "Traceback" not in log, log[-3000:]
    assert len([line for line in log.splitlines() if "the plugin broke" in line]) <= 2


def test_compacting_an_empty_session_is_answered(tmp_path: Path) -> None:
    workspace = tmp_path / "project"
    workspace.mkdir()
    with WireServer("lsp", workspace, {"VICTOR_PROVIDER": "scripted"}) as server:
        server.initialize()
        server.call("victor/session/create", {"sessionId": "empty"})
        result = server.call("victor/compactContext", {"sessionId": "empty"})
        assert result["before"]["messages"] == result["after"]["messages"] == 0
        assert server.close() == 0
