"""An unexpected exception (a bug) is one line for everyone: -32603 with a one-line message and
no traceback in the answer, one line in the log (the traceback only at ``-vv``), and the server
goes on; compacting an empty session, which used to raise, is answered."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from rpc_wire import WireServer


async def test_an_exception_in_a_method_is_one_line_32603(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """``Application.call`` is the one route every face takes: an exception that is not a
    ``VictorError`` comes out as -32603 with a one-line message, logged in one line without a
    traceback (plugin failures are caught earlier, by the plugin registry; this is for bugs)."""
    from victor_server.app import Application
    from victor_server.errors import VictorError
    from victor_server.orchestrator import AgentOrchestrator
    from victor_server.settings import Settings

    class Exploding:
        async def __call__(self, call: Any, call_next: Any) -> Any:
            raise RuntimeError("the server broke")

    orchestrator = await AgentOrchestrator(Settings(provider="scripted"), workspace=tmp_path,
                                           db_path=tmp_path / "v.db").start()
    app = Application(orchestrator, "lsp", [Exploding()])
    try:
        with caplog.at_level(logging.WARNING), pytest.raises(VictorError) as failed:
            await app.call("victor/session/list", {})
        assert failed.value.code == -32603
        assert failed.value.message == "internal error: RuntimeError: the server broke"
        lines = [r for r in caplog.records if "the server broke" in r.getMessage()]
        assert len(lines) == 1 and not lines[0].exc_info
    finally:
        await app.close()


def test_compacting_an_empty_session_is_answered(tmp_path: Path) -> None:
    workspace = tmp_path / "project"
    workspace.mkdir()
    with WireServer("lsp", workspace, {"VICTOR_PROVIDER": "scripted"}) as server:
        server.initialize()
        server.call("victor/session/create", {"sessionId": "empty"})
        result = server.call("victor/compactContext", {"sessionId": "empty"})
        assert result["before"]["messages"] == result["after"]["messages"] == 0
        assert server.close() == 0
