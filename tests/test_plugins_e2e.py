"""victor-ai-style coordinator plugins: an installed distribution's entry points reach a
real server.

A distribution is "installed" the way pip does it, as a ``*.dist-info`` folder with
``entry_points.txt`` on the server's ``PYTHONPATH``, so discovery runs through
``importlib.metadata`` exactly as for a user's package. Nothing in the server is edited.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from fake_anthropic import FakeAnthropic
from lsp_harness import lsp_server
from plugin_install import install
from rpc_wire import WireServer
from server_env import server_env

PLUGIN = '''
from victor_server.messages import Context


class CompliancePromptContributor:  # a prompt contributor: priority() + get_contribution(context)
    def priority(self):
        return 75

    async def get_contribution(self, context):
        if context.get("requires_compliance"):
            return "## ACME compliance\\nNever log customer identifiers."
        return ""


class TeamConfigProvider:  # a config provider: priority() + get_config(session_id)
    def __init__(self, **options):
        self.options = options

    def priority(self):
        return 15

    async def get_config(self, session_id):
        return {"max_tokens": 777}


class KeepLastTwo:  # a compaction strategy: compact(context) -> Context
    def __init__(self, keep_last_n=2):
        self.keep_last_n = keep_last_n

    async def compact(self, context):
        return Context(messages=context.messages[-self.keep_last_n:])


class ReadOnlyFirst:  # a selection strategy: select_tools(query, tools, coordinator)
    def __init__(self, options=None):
        self.options = options

    async def select_tools(self, query, available_tools, selection_coordinator):
        return [t for t in available_tools if t.cost_tier in ("free", "low") and not t.writes]


class Shout:  # a tool plugin
    def __init__(self, **options):
        from victor_server.tools.base import ToolSpec
        self.spec = ToolSpec("shout", "Repeat the text in capitals", {
            "type": "object", "properties": {"text": {"type": "string"}},
            "required": ["text"]})

    async def run(self, tool_input, ctx):
        from victor_server.tools.base import ToolResult
        return ToolResult(tool_input["text"].upper())


class CountingMiddleware:  # a middleware function: wraps every method
    calls = 0

    def __init__(self, **options):
        self.header = options.get("header", "x")

    async def __call__(self, call, call_next):
        CountingMiddleware.calls += 1
        result = await call_next(call)
        if call.method == "victor/getConfig":
            result["middlewareCalls"] = CountingMiddleware.calls
        return result
'''

ENTRY_POINTS = """
[victor_server.prompt_contributors]
acme_compliance = victor_demo_plugin:CompliancePromptContributor

[victor_server.config_providers]
acme_team = victor_demo_plugin:TeamConfigProvider

[victor_server.compaction_strategies]
keep_last_two = victor_demo_plugin:KeepLastTwo

[victor_server.tool_selection_strategies]
read_only_first = victor_demo_plugin:ReadOnlyFirst

[victor_server.tools]
shout = victor_demo_plugin:Shout

[victor_server.middleware]
counting = victor_demo_plugin:CountingMiddleware
"""


def install_plugin(site: Path) -> None:
    site.mkdir()
    (site / "victor_demo_plugin.py").write_text(PLUGIN)
    dist = site / "victor_demo_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: victor-demo-plugin\n"
                                   "Version: 0.1\n")
    (dist / "entry_points.txt").write_text(ENTRY_POINTS)


async def test_every_kind_of_plugin_reaches_the_server(workspace: Path, tmp_path: Path,
                                                       fake: FakeAnthropic) -> None:
    install_plugin(tmp_path / "site")
    (workspace / ".victor" / "config.yml").write_text(
        "middleware: [counting]\ntool_selection: {strategy: read_only_first}\n")
    env = {**fake.env(), "PYTHONPATH": os.pathsep.join(
        [str(tmp_path / "site"), os.environ.get("PYTHONPATH", "")]),
        "VICTOR_TOOL_SELECTION__STRATEGY": "read_only_first"}
    async with lsp_server(workspace, env) as victor:
        config = await victor.request("victor/getConfig", {})
        assert config["config"]["max_tokens"] == 777
        assert config["sources"]["max_tokens"] == "acme_team"
        assert config["middlewareCalls"] >= 1

        prompt = await victor.request("victor/buildPrompt",
                                      {"context": {"requiresCompliance": True}})
        assert "Never log customer identifiers." in prompt["systemPrompt"]
        assert "acme_compliance" in [c["name"] for c in prompt["contributions"]]

        selected = await victor.request("victor/selectTools", {"query": "shout this"})
        names = [t["name"] for t in selected["tools"]]
        assert "shout" in names and "write" not in names and "edit" not in names

        sid = (await victor.request("victor/chat", {"message": "one"}))["sessionId"]
        for text in ("two", "three"):
            await victor.request("victor/chat", {"message": text, "sessionId": sid})
        compacted = await victor.request("victor/compactContext",
                                         {"sessionId": sid, "strategy": "keep_last_two"})
        assert compacted["strategy"] == "keep_last_two"
        assert compacted["after"]["messages"] <= 3 < compacted["before"]["messages"]
        sent = json.dumps(fake.message_requests[-1].body)
        assert '"max_tokens": 777' in sent or '"max_tokens":777' in sent


def list_plugins(workspace: Path, env: dict[str, str], *args: str) \
        -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "victor_server", "plugins", *args,
                           "--workspace", str(workspace)], env=server_env(env),
                          capture_output=True, text=True, timeout=120)


async def test_built_ins_and_installed_plugins_are_listed_alike(workspace: Path,
                                                                tmp_path: Path) -> None:
    install_plugin(tmp_path / "site")
    (workspace / ".victor" / "config.yml").write_text(
        "provider: scripted\nplugins: {disabled: [write, compliance, jsonl]}\n")
    env = {"PYTHONPATH": os.pathsep.join([str(tmp_path / "site"),
                                          os.environ.get("PYTHONPATH", "")])}
    listed = await asyncio.to_thread(list_plugins, workspace, env, "--json")
    assert listed.returncode == 0, listed.stderr
    plugins = {f"{p['kind']}/{p['name']}": p for p in json.loads(listed.stdout)["plugins"]}
    # every kind has built-ins, registered as the installed package's entry points are
    kinds = {p["kind"] for p in plugins.values() if p["package"] == "victor-server"}
    assert kinds == {"config_providers", "prompt_contributors", "compaction_strategies",
                     "tool_selection_strategies", "analytics_exporters", "middleware",
                     "providers", "tools"}
    for name in ("config_providers/default", "config_providers/env", "config_providers/file",
                 "config_providers/tenant", "config_providers/override", "tools/read",
                 "tools/search", "prompt_contributors/base", "prompt_contributors/tenant_prompt",
                 "analytics_exporters/sqlite"):
        assert plugins[name]["package"] == "victor-server" and plugins[name]["builtin"]
        assert plugins[name]["status"] == "active", plugins[name]
    # plugins.disabled turns off a built-in of any kind as it does an installed plugin
    for name in ("tools/write", "prompt_contributors/compliance"):
        assert plugins[name]["status"] == "disabled", plugins[name]
    assert plugins["tools/bash"]["status"] == "loaded"  # imports; bash is off by default
    # the configured provider is built to check it; the others only import
    assert plugins["providers/scripted"]["status"] == "active"
    assert plugins["providers/openai"]["status"] == "loaded"
    assert plugins["config_providers/ab_test"]["status"] == "loaded"  # no experiment set
    for name in ("prompt_contributors/acme_compliance", "config_providers/acme_team",
                 "compaction_strategies/keep_last_two", "tools/shout",
                 "tool_selection_strategies/read_only_first", "middleware/counting"):
        assert plugins[name]["package"] == "victor-demo-plugin"
        assert not plugins[name]["builtin"] and plugins[name]["error"] is None
    assert all(p["status"] != "failed" for p in plugins.values())

    table = await asyncio.to_thread(list_plugins, workspace, env)
    assert table.returncode == 0, table.stderr
    rows = [line.split() for line in table.stdout.splitlines()]
    assert rows[0] == ["KIND", "NAME", "PACKAGE", "STATUS", "LAST", "ERROR"]
    assert ["tools", "read", "victor-server", "active"] in rows
    assert ["tools", "write", "victor-server", "disabled"] in rows
    assert ["tools", "shout", "victor-demo-plugin", "active"] in rows

    # and a built-in tool turned off that way is neither offered nor run
    async with lsp_server(workspace, env) as victor:
        selected = await victor.request("victor/selectTools", {"query": "write a file"})
        assert "write" not in [t["name"] for t in selected["tools"]]
        assert "read" in [t["name"] for t in selected["tools"]]


def test_a_plugins_print_never_reaches_the_acp_stream(workspace: Path, tmp_path: Path) -> None:
    """ACP speaks one JSON message a line on stdout: every plugin stage prints (import,
    construction, call), and all of it goes to stderr."""
    env = {"PYTHONPATH": install("broken_plugins", tmp_path / "site"),
           "VICTOR_TEST_BREAK": "call", "VICTOR_PROVIDER": "scripted"}
    with WireServer("acp", workspace, env) as server:
        server.initialize()
        sid = server.call("session/new", {"cwd": str(workspace), "mcpServers": []})["sessionId"]
        answer = server.call("session/prompt", {
            "sessionId": sid, "prompt": [{"type": "text", "text": "say hello"}]})
        assert answer["stopReason"] == "end_turn"
        assert server.close() == 0
    assert server.unparsed == []  # every line on stdout was a protocol message
    stderr = server.tail(200_000)
    # the contributor, config provider and tool were imported, built and called, printing
    for printed in ("broken plugins imported", "building Contributor", "calling Contributor",
                    "building Config", "calling Config", "building BrokenTool"):
        assert printed in stderr, printed
    assert not any("building" in json.dumps(m) or "calling" in json.dumps(m)
                   for m in server.messages)
