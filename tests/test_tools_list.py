"""``victor/tools/list`` on all three faces, each over real stdio with its real client: the same
answer in each face's case, from one row of the method table."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import acp
import pytest
from lsp_harness import lsp_server
from mcp_face_harness import mcp_client, structured
from pygls.exceptions import JsonRpcException
from server_env import server_env

SCRIPTED = {"VICTOR_PROVIDER": "scripted"}
CONFIG = """\
tools:
  disabled: [ls]
  bash: {enabled: true}
  approvals:
    read: allow
    write: deny
    bash: {allow: ["git status"], ask: ["*"]}
"""


@pytest.fixture
def configured(workspace: Path) -> Path:
    (workspace / ".victor" / "config.yml").write_text(CONFIG, encoding="utf-8")
    return workspace


def check(listed: dict[str, Any], cost_tier: str, is_writes: str) -> None:
    """What the config above says, whatever the case of the keys."""
    tools = {t["name"]: t for t in listed["tools"]}
    assert listed["disabled"] == ["ls"]
    assert "ls" not in tools
    assert {"read", "write", "edit", "search", "bash"} <= set(tools)
    assert [t["name"] for t in listed["tools"]] == sorted(tools)
    read, write, edit, bash = tools["read"], tools["write"], tools["edit"], tools["bash"]
    assert (read["approval"], read["rule"]) == ("allow", "tools.approvals.read: allow")
    assert (write["approval"], write["rule"]) == ("deny", "tools.approvals.write: deny")
    # not configured: a tool that writes is asked about, by default
    assert edit["approval"] == "ask" and "not set" in edit["rule"]
    assert (bash["approval"], bash["rule"]) == ("per_command", "tools.approvals.bash")
    assert read[is_writes] is False and write[is_writes] is True and bash[is_writes] is True
    assert read["source"] == "builtin" and read["description"]
    assert all(isinstance(t[cost_tier], str) and t["domain"] for t in listed["tools"])


async def test_lsp(configured: Path) -> None:
    async with lsp_server(configured, SCRIPTED) as victor:
        methods = victor.initialize_result.capabilities.experimental["victor"]["methods"]
        assert "victor/tools/list" in methods
        listed = await victor.request("victor/tools/list", {})
        check(listed, "costTier", "writes")
        assert set(listed["tools"][0]) == {"name", "description", "source", "domain",
                                           "costTier", "writes", "approval", "rule"}
        with pytest.raises(JsonRpcException) as info:  # a session the store does not know
            await victor.request("victor/tools/list", {"sessionId": "nope"})
        assert info.value.code == -32001


async def test_mcp(configured: Path, tmp_path: Path) -> None:
    async with mcp_client(configured, tmp_path / "v.db", SCRIPTED) as client:
        tool = {t.name: t for t in (await client.list_tools()).tools}["list_tools"]
        assert tool.annotations is not None and tool.annotations.read_only_hint is True
        assert tool.output_schema is not None
        assert tool.output_schema["required"] == ["tools", "disabled"]
        assert "cost_tier" in tool.output_schema["$defs"]["AgentTool"]["properties"]
        assert set(tool.input_schema["properties"]) == {"session_id"}
        listed = structured(await client.call_tool("list_tools", {}))
        check(listed, "cost_tier", "writes")


async def test_acp(configured: Path) -> None:
    class Client:
        async def session_update(self, session_id: str, update: Any, **kwargs: Any) -> None:
            pass

    env = {**os.environ, **server_env(SCRIPTED)}
    env.pop("VICTOR_AUTH_TOKEN", None)
    async with acp.spawn_agent_process(
            Client(), sys.executable, "-m", "victor_server", "acp", "--workspace",
            str(configured), "--db", str(configured / "acp.db"), env=env) as (conn, _process):
        await conn.initialize(protocol_version=1)
        listed = await conn.ext_method("victor/tools/list", {})
        check(listed, "costTier", "writes")
        with pytest.raises(acp.RequestError) as info:  # only the rows marked for ACP
            await conn.ext_method("victor/session/delete", {"sessionId": "x"})
        assert info.value.code == -32601
