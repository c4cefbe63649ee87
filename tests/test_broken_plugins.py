"""The kinds × stages ``test_seed_plugins`` leaves out: an LLM provider, a middleware class and
a class authentication middleware from ``tests/broken_plugins``, each failing at import,
construction or call time (``VICTOR_TEST_BREAK``), driven over LSP. A provider that cannot serve
answers the chat with -32002 naming it, and nothing else stops; a middleware is skipped; an
authentication middleware refuses every call with -32004. Each failure is reported with its
stage in ``victor/getConfig`` ``errors`` (when the call gets through) and ``victor-server
plugins``.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from lsp_harness import lsp_server
from plugin_install import install
from pygls.exceptions import JsonRpcException
from server_env import server_env

STAGES = ["import", "construction", "call"]


def broken_env(tmp_path: Path, stage: str) -> dict[str, str]:
    return {"PYTHONPATH": install("broken_plugins", tmp_path / "site"), "VICTOR_TEST_BREAK": stage}


def listed(workspace: Path, env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "victor_server", "plugins", "--json",
                           "--workspace", str(workspace)], env=server_env(env),
                          capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stderr
    return {f"{p['kind']}/{p['name']}": p for p in json.loads(done.stdout)["plugins"]}


@pytest.mark.parametrize("stage", STAGES)
async def test_a_broken_provider_answers_32002_and_nothing_else_stops(
        stage: str, workspace: Path, tmp_path: Path) -> None:
    (workspace / ".victor" / "config.yml").write_text("provider: broken_provider\n")
    env = broken_env(tmp_path, stage)
    async with lsp_server(workspace, env) as victor:
        with pytest.raises(JsonRpcException) as refused:
            await victor.request("victor/chat", {"message": "hi"})
        assert refused.value.code == -32002, refused.value
        assert "broken_provider" in str(refused.value)
        assert "\n" not in str(refused.value)  # one line, no traceback
        # the other methods serve
        prompt = await victor.request("victor/buildPrompt", {})
        assert prompt["systemPrompt"]
        tools = await victor.request("victor/selectTools", {"query": "read a file"})
        assert tools["tools"]
        if stage == "call":  # recorded by the server that called it
            errors = (await victor.request("victor/getConfig", {})).get("errors", [])
            assert any("providers/broken_provider" in e and "failed at call" in e
                       for e in errors), errors
    plugin = (await asyncio.to_thread(listed, workspace, env))["providers/broken_provider"]
    assert plugin["package"] == "victor-broken-plugins"
    if stage == "call":  # the command builds the provider but does not call it
        assert plugin["status"] == "active"
    else:
        assert plugin["status"] == "failed" and plugin["stage"] == stage


@pytest.mark.parametrize("stage", STAGES)
async def test_a_broken_middleware_class_is_skipped_and_reported(
        stage: str, workspace: Path, tmp_path: Path) -> None:
    (workspace / ".victor" / "config.yml").write_text(
        "provider: scripted\nmiddleware: [broken_middleware_class]\n")
    env = broken_env(tmp_path, stage)
    async with lsp_server(workspace, env) as victor:
        chat = await victor.request("victor/chat", {"message": "hi"})
        assert chat["content"].startswith("scripted reply 1")
        errors = (await victor.request("victor/getConfig", {})).get("errors", [])
        [error] = [e for e in errors if "middleware/broken_middleware_class" in e]
        assert f"failed at {stage}" in error and "victor-broken-plugins" in error
    plugin = (await asyncio.to_thread(listed, workspace, env))[
        "middleware/broken_middleware_class"]
    # the command builds nothing per call, so a call-time failure shows where calls happen
    if stage != "call":
        assert plugin["status"] == "failed" and plugin["stage"] == stage


@pytest.mark.parametrize("stage", STAGES)
async def test_a_broken_authentication_class_fails_closed(
        stage: str, workspace: Path, tmp_path: Path) -> None:
    (workspace / ".victor" / "config.yml").write_text(
        "provider: scripted\nmiddleware: [broken_auth_guard]\n")
    async with lsp_server(workspace, broken_env(tmp_path, stage)) as victor:
        for method, params in (("victor/getConfig", {}), ("victor/chat", {"message": "hi"}),
                               ("victor/session/list", {})):
            with pytest.raises(JsonRpcException) as refused:
                await victor.request(method, params)
            assert refused.value.code == -32004, refused.value
            assert "broken_auth_guard" in str(refused.value)
