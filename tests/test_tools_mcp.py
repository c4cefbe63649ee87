"""MCP tools through ToolCoordinator, against a real stdio server
(tests/support/mcp_echo_server.py)."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import yaml
from hypothesis import given
from hypothesis import strategies as st

from victor_server.tools.base import ToolContext
from victor_server.tools.coordinator import PERMISSION_DENIED, ToolCoordinator
from victor_server.tools.mcp_tools import McpTool, mcp_tool_name, server_env

SERVER = str(Path(__file__).parent / "support" / "mcp_echo_server.py")
LEGAL = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def echo_server(**env: str) -> dict[str, Any]:
    return {"command": sys.executable, "args": [SERVER], "env": env}


async def allow_once(request: Any) -> str:
    """A user who approves every call once: what these tests are not about."""
    return "allow_once"


def ctx_for(ws: Path, **kw: Any) -> ToolContext:
    kw.setdefault("ask_permission", allow_once)
    return ToolContext(workspace=ws, session_id="s1", **kw)


# --- names -----------------------------------------------------------------------------------

def test_names_are_namespaced_and_sanitised() -> None:
    assert mcp_tool_name("github", "create_issue", set()) == "github__create_issue"
    assert mcp_tool_name("my server", "get.env", set()) == "my_server__get_env"


def test_long_or_colliding_names_get_a_distinct_hashed_form() -> None:
    long_name = mcp_tool_name("s" * 40, "t" * 40, set())
    assert LEGAL.match(long_name) and len(long_name) == 64
    first = mcp_tool_name("a.b", "c", set())
    second = mcp_tool_name("a_b", "c", {first})
    assert first == "a_b__c" and second != first and LEGAL.match(second)


@given(st.text(min_size=1, max_size=80), st.text(min_size=1, max_size=80))
def test_any_server_and_tool_give_a_legal_name(server: str, tool: str) -> None:
    assert LEGAL.match(mcp_tool_name(server, tool, set()))


def test_server_env_accepts_mapping_and_acp_list() -> None:
    assert server_env({"A": 1}) == {"A": "1"}
    assert server_env([{"name": "A", "value": "x"}, {"bogus": 1}]) == {"A": "x"}
    assert server_env(None) == {}


# --- a real server ---------------------------------------------------------------------------
# Spawning the server costs about a second (it imports the mcp SDK), so the tests that only call
# it share one coordinator on a module-scoped event loop.

@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def echo(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ToolCoordinator]:
    os.environ["VICTOR_INHERITED"] = "from-parent"
    workspace = tmp_path_factory.mktemp("mcp_ws")
    coordinator = ToolCoordinator(workspace, {"mcp_servers": {"echo": echo_server(
        VICTOR_EXTRA="from-config")}}, load_plugins=False)
    try:
        yield coordinator
    finally:
        del os.environ["VICTOR_INHERITED"]
        await coordinator.aclose()


@pytest.mark.asyncio(loop_scope="module")
async def test_real_server_tools_are_listed_namespaced(echo: ToolCoordinator) -> None:
    specs = {s.name: s for s in await echo.specs()}
    assert {"echo__echo", "echo__add", "echo__get_env", "echo__crash"} <= set(specs)
    assert {"read", "write"} <= set(specs)  # built-ins stay beside the server's tools
    echo_spec = specs["echo__echo"]
    assert echo_spec.source == "echo" and not echo_spec.writes  # read_only_hint
    assert specs["echo__add"].writes  # no hint: treated as having side effects
    assert echo_spec.input_schema["required"] == ["text"]
    assert all(LEGAL.match(name) for name in specs)
    tool = echo._tools["echo__get_env"]
    assert isinstance(tool, McpTool) and tool.remote_name == "get.env"


@pytest.mark.asyncio(loop_scope="module")
async def test_real_server_tools_are_called(echo: ToolCoordinator) -> None:
    ctx = ctx_for(echo.workspace)
    echoed = await echo.execute("echo__echo", {"text": "hi"}, ctx)
    assert (echoed.content, echoed.is_error) == ("echo: hi", False)
    added = await echo.execute("echo__add", {"a": 2, "b": 40}, ctx)
    assert added.content == "42" and added.data["structured"] == {"result": 42}
    bad = await echo.execute("echo__add", {"a": "two", "b": 1}, ctx)
    assert bad.is_error and "at 'a'" in bad.content


@pytest.mark.asyncio(loop_scope="module")
async def test_server_env_is_merged_over_ours(echo: ToolCoordinator) -> None:
    ctx = ctx_for(echo.workspace)
    for name, expected in (("VICTOR_EXTRA", "from-config"), ("VICTOR_INHERITED", "from-parent"),
                           ("VICTOR_NEVER_SET", "<unset>")):
        got = await echo.execute("echo__get_env", {"name": name}, ctx)
        assert got.content == expected


@pytest.mark.asyncio(loop_scope="module")
async def test_mcp_tool_with_side_effects_asks_permission(echo: ToolCoordinator) -> None:
    asked: list[str] = []

    async def refuse(request: Any) -> bool:
        asked.append(request.tool)
        return False

    ctx = ctx_for(echo.workspace, ask_permission=refuse)
    denied = await echo.execute("echo__add", {"a": 1, "b": 1}, ctx)
    allowed = await echo.execute("echo__echo", {"text": "free"}, ctx)
    assert denied.content == PERMISSION_DENIED and allowed.content == "echo: free"
    assert asked == ["echo__add"]


async def test_missing_command_is_reported_and_skipped(tmp_path: Path,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    coordinator = ToolCoordinator(tmp_path, {"mcp_servers": {
        "ghost": {"command": "victor-no-such-mcp-server", "args": []}}}, load_plugins=False)
    try:
        assert coordinator.mcp_errors == {}  # servers start lazily, not on construction
        names = {s.name for s in await coordinator.specs()}
        assert "read" in names and not any(n.startswith("ghost__") for n in names)
        assert "victor-no-such-mcp-server" in coordinator.mcp_errors["ghost"]
        assert any("ghost" in r.getMessage() for r in caplog.records)
        result = await coordinator.execute("ghost__anything", {}, ctx_for(tmp_path))
        assert result.is_error and "'ghost'" in result.content
        assert "victor-no-such-mcp-server" in result.content
    finally:
        await coordinator.aclose()


async def test_execute_starts_pending_servers(tmp_path: Path) -> None:
    coordinator = ToolCoordinator(tmp_path, load_plugins=False)
    coordinator.add_mcp_servers({"ghost": {"command": str(tmp_path / "absent")}})
    result = await coordinator.execute("ghost__tool", {}, ctx_for(tmp_path))
    assert result.is_error and "MCP server 'ghost' is unavailable" in result.content
    await coordinator.aclose()


async def test_server_dying_mid_session_is_an_error_naming_it(tmp_path: Path) -> None:
    coordinator = ToolCoordinator(tmp_path, load_plugins=False)
    coordinator.add_mcp_servers([{"name": "flaky", "command": sys.executable,
                                  "args": [SERVER], "env": [{"name": "X", "value": "1"}]}])
    try:
        assert "flaky__crash" in {s.name for s in await coordinator.specs()}
        ctx = ctx_for(tmp_path)
        crashed = await coordinator.execute("flaky__crash", {}, ctx)
        assert crashed.is_error and "'flaky' died" in crashed.content
        after = await coordinator.execute("flaky__echo", {"text": "anyone?"}, ctx)
        assert after.is_error and "'flaky'" in after.content and "died" in after.content
        read = await coordinator.execute("read", {"path": "x"}, ctx)
        assert read.is_error and "no such file" in read.content  # the turn goes on
    finally:
        await coordinator.aclose()
    assert not any(s.name.startswith("flaky__") for s in await coordinator.specs())


# --- selection metadata for MCP tools, from the project's config, through the real server ---

async def test_config_tool_hints_make_an_mcp_tool_findable(workspace: Path) -> None:
    from lsp_harness import lsp_server

    server = echo_server()
    (workspace / ".victor" / "config.yml").write_text(yaml.safe_dump({
        "mcp_servers": {"echo": server},
        "tool_selection": {"strategy": "keyword", "tool_hints": {
            "echo__add": {"keywords": ["sum", "total"],
                          "examples": ["what do 19 and 23 make together?"]}}}}))
    async with lsp_server(workspace) as victor:
        query = {"query": "the sum of these invoices", "maxTools": 3}
        found = await victor.request("victor/selectTools", query)
        assert found["tools"][0]["name"] == "echo__add"
        assert found["tools"][0]["score"] > 0

        # the same server without the hint: the tool's own text ("add") does not match
        (workspace / ".victor" / "config.yml").write_text(yaml.safe_dump({
            "mcp_servers": {"echo": server}, "tool_selection": {"strategy": "keyword"}}))
        plain = await victor.request("victor/selectTools", query)
        assert "echo__add" not in [t["name"] for t in plain["tools"] if t["score"] > 0]

        # a malformed hint is reported with its key, and the rest of the config still applies
        (workspace / ".victor" / "config.yml").write_text(yaml.safe_dump({
            "mcp_servers": {"echo": server}, "tool_selection": {
                "strategy": "keyword", "tool_hints": {"echo__add": {"examples": 7}}}}))
        config = await victor.request("victor/getConfig", {})
        assert any("tool_hints" in str(error) for error in config["errors"]), config["errors"]
        assert config["config"]["tool_selection"]["strategy"] == "keyword"
