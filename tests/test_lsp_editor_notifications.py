"""What any editor sends every language server it starts: document sync, configuration, watched
files, trace and progress notifications. The server takes them quietly and goes on serving."""

from __future__ import annotations

from pathlib import Path

from rpc_wire import WireServer


def test_ordinary_notifications_are_taken_quietly(workspace: Path) -> None:
    server = WireServer("lsp", workspace, {"VICTOR_PROVIDER": "scripted"})
    try:
        server.initialize()
        uri = (workspace / "a.py").as_uri()
        for method, params in [
            ("workspace/didChangeConfiguration", {"settings": {}}),
            ("textDocument/didOpen", {"textDocument": {
                "uri": uri, "languageId": "python", "version": 1, "text": "x = 1\n"}}),
            ("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
                                        "contentChanges": [{"text": "x = 2\n"}]}),
            ("textDocument/willSave", {"textDocument": {"uri": uri}, "reason": 1}),
            ("textDocument/didSave", {"textDocument": {"uri": uri}}),
            ("textDocument/didClose", {"textDocument": {"uri": uri}}),
            ("workspace/didChangeWatchedFiles", {"changes": []}),
            ("workspace/didChangeWorkspaceFolders", {"event": {"added": [], "removed": []}}),
            ("$/setTrace", {"value": "off"}),
            ("window/workDoneProgress/cancel", {"token": "not-ours"}),
        ]:
            server.notify(method, params)
        assert server.call("victor/session/list", {}) == {"sessions": []}
    finally:
        code = server.close()
    assert code == 0
    log = server.stderr_path.read_text()
    assert "WARNING" not in log and "Traceback" not in log, log
    assert not [m for m in server.messages if "id" not in m and m.get("method") != "$/logTrace"]
