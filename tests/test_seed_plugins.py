"""The coordinator recipes' classes as an installed plugin package, driven over LSP.

``tests/seed_plugins`` holds the recipes' config provider, prompt contributors, compaction
strategy, webhook exporter, middleware functions and tool selection strategy with only their
import lines changed; ``tests/broken_plugins`` one plugin of every kind that fails at import,
construction or call time. Both are installed as pip would install them (``plugin_install``) on
the server's ``PYTHONPATH``, configured through ``.victor/config.yml`` alone, and judged by what
reaches the fake Anthropic API, the webhook receiver, and the protocol's answers.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from analytics_sink import HttpSink
from fake_anthropic import FakeAnthropic, text, tool_use
from lsp_harness import lsp_server
from plugin_install import install
from pygls.exceptions import JsonRpcException
from server_env import server_env

SEED_CONFIG = """
max_tokens: 1000
tools: {{bash: {{enabled: true}}}}
tool_selection: {{strategy: cost_aware_seed}}
context_compaction_strategy: recent_messages
analytics_export_interval: 0.2
analytics: {{exporters: [sqlite, seed_webhook], retry_base_seconds: 0.2}}
middleware: [seed_logging, seed_rate_limit]
plugins:
  disabled: [project_standards]      # the recipe's own standards contributor replaces it
  file_config: {{config_path: team.yml}}   # relative: the workspace's, not the process's
  seed_compliance: {{industry: healthcare}}
  seed_tech_stack: {{tech_stack: [python]}}
  recent_messages: {{keep_last_n: 2}}
  recent_important_seed: {{keep_last_n: 2, keywords: [error]}}
  seed_webhook: {{webhook_url: "{url}/events", headers: {{X-Team: acme}}}}
  cost_aware_seed: {{max_cost_per_call: 0.01}}
"""


async def until(check: Any, what: str, seconds: float = 30.0) -> Any:
    for _ in range(int(seconds / 0.1)):
        found = await check() if asyncio.iscoroutinefunction(check) else check()
        if found:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def test_the_recipes_run_as_an_installed_plugin(workspace: Path, tmp_path: Path,
                                                      fake: FakeAnthropic) -> None:
    (workspace / "team.yml").write_text("max_tokens: 321\ntemperature: 0.25\n")
    (workspace / ".victor" / "standards.md").write_text("Tabs are forbidden.\n")
    (workspace / "README.md").write_text("hello\n")
    with HttpSink() as sink:
        sink.status = 500  # the receiver is down at first: nothing may be lost
        (workspace / ".victor" / "config.yml").write_text(SEED_CONFIG.format(url=sink.url))
        env = {**fake.env(), "PYTHONPATH": install("seed_plugins", tmp_path / "site")}
        fake.queue(tool_use("read", {"path": "README.md"}), text("It says hello."))
        async with lsp_server(workspace, env) as victor:
            config = await victor.request("victor/getConfig", {})
            assert "errors" not in config, config.get("errors")
            # the plugin ranks above the project file (max_tokens 1000 there)
            assert config["config"]["max_tokens"] == 321
            assert config["sources"]["max_tokens"] == "file_config"
            assert config["config"]["temperature"] == 0.25

            chat = await victor.request("victor/chat", {"message": "write python code"})
            assert chat["content"] == "It says hello."
            sid = chat["sessionId"]
            body = fake.message_requests[0].body
            system = json.dumps(body["system"])
            assert system.count("Tabs are forbidden.") == 1  # the built-in one is disabled
            assert "Project-Specific Standards" in system and "HIPAA" in system
            assert "Python Guidelines" in system
            assert body["max_tokens"] == 321
            offered = {t["name"] for t in body["tools"]}
            assert "read" in offered and "bash" not in offered  # bash costs "medium"

            for message in ("two", "three"):
                await victor.request("victor/chat", {"message": message, "sessionId": sid})
            compacted = await victor.request("victor/compactContext", {"sessionId": sid})
            assert compacted["strategy"] == compacted["ran"] == "recent_messages"
            assert compacted["fallback"] is None
            assert compacted["after"]["messages"] < compacted["before"]["messages"]
            context = await victor.request("victor/getContext", {"sessionId": sid})
            assert context["compaction"]["strategy"] == "recent_messages"

            # recipe 4's keyword strategy, on a plain-text conversation (it reads m.content as a
            # string, so tool blocks would make it fail and fall back)
            plain = (await victor.request("victor/chat", {"message": "an error in line 3"}))[
                "sessionId"]
            for message in ("two", "three", "four"):
                await victor.request("victor/chat", {"message": message, "sessionId": plain})
            kept = await victor.request("victor/compactContext", {
                "sessionId": plain, "strategy": "recent_important_seed"})
            assert kept["ran"] == "recent_important_seed" and kept["fallback"] is None
            assert kept["after"]["messages"] < kept["before"]["messages"]

            await until(lambda: sink.attempts >= 1, "a failed delivery")
            sink.status = 200
            posted = await until(lambda: [e for r in sink.received for e in r.json()],
                                 "the parked batch delivered")
            usage = await until(lambda: [e for r in sink.received for e in r.json()
                                         if e["type"] == "token_usage" and
                                         e["session_id"] == sid], "the first turn's usage")
            tools = await until(lambda: [e for r in sink.received for e in r.json()
                                         if e["type"] == "tool_call"], "the tool call")
        assert posted and sink.received[0].headers.get("X-Team") == "acme"
        first = usage[0]
        assert first["timestamp"].startswith("20") and first["timestamp"].endswith("Z")
        assert first["data"]["total_tokens"] == \
            first["data"]["input_tokens"] + first["data"]["output_tokens"] > 0
        assert isinstance(first["epoch"], float) and first["session_id"] == sid
        assert tools and tools[0]["data"]["tool"] == "read"


async def test_the_recipes_authentication_middleware(workspace: Path, tmp_path: Path,
                                                     fake: FakeAnthropic) -> None:
    from victor_server.store import SqliteStore

    store = SqliteStore(workspace / ".victor" / "victor.db")
    await store.open()
    await store.create_session("known", None, None)
    await store.close()
    (workspace / ".victor" / "config.yml").write_text("middleware: [seed_authentication]\n")
    env = {**fake.env(), "PYTHONPATH": install("seed_plugins", tmp_path / "site")}
    async with lsp_server(workspace, env) as victor:
        with pytest.raises(JsonRpcException) as refused:
            await victor.request("victor/getConfig", {})
        assert refused.value.code == -32004 and "No session_id provided" in str(refused.value)
        with pytest.raises(JsonRpcException) as refused:
            await victor.request("victor/chat", {"message": "hi", "sessionId": "stranger"})
        assert refused.value.code == -32004 and "Invalid session: stranger" in str(refused.value)
        assert not fake.message_requests
        answer = await victor.request("victor/chat", {"message": "hi", "sessionId": "known"})
        assert answer["sessionId"] == "known" and len(fake.message_requests) == 1


BROKEN_CONFIG = """
tool_selection: {strategy: broken_selection}
context_compaction_strategy: broken_compaction
analytics_export_interval: 0.2
analytics: {exporters: [sqlite, broken_exporter, broken_dashboard]}
middleware: [broken_middleware]
"""
KINDS = ("config_providers/broken_config", "prompt_contributors/broken_contributor",
         "tool_selection_strategies/broken_selection", "compaction_strategies/broken_compaction",
         "analytics_exporters/broken_exporter", "middleware/broken_middleware",
         # an A/B testing ConfigCoordinator subclass; an exporter serving from start_server()
         "config_providers/broken_ab_coordinator", "analytics_exporters/broken_dashboard")


@pytest.mark.parametrize("stage", ["import", "construction", "call"])
async def test_a_broken_plugin_of_every_kind_is_reported_and_skipped(
        stage: str, workspace: Path, tmp_path: Path, fake: FakeAnthropic) -> None:
    (workspace / ".victor" / "config.yml").write_text(BROKEN_CONFIG)
    env = {**fake.env(), "PYTHONPATH": install("broken_plugins", tmp_path / "site"),
           "VICTOR_TEST_BREAK": stage}
    fake.queue(tool_use("broken_tool", {}), text("hello"))
    async with lsp_server(workspace, env) as victor:
        chat = await victor.request("victor/chat", {"message": "say hello"})
        assert chat["content"] == "hello"  # the turn ran, the broken tool's failure included
        sid = chat["sessionId"]
        selected = await victor.request("victor/selectTools", {"query": "read a file"})
        assert selected["strategy"] == "broken_selection"
        assert selected["fallback"].startswith("keyword (") and selected["tools"]
        compacted = await victor.request("victor/compactContext", {"sessionId": sid})
        assert compacted["strategy"] == "broken_compaction"
        assert compacted["ran"] == "recent_important" and stage in compacted["fallback"]

        async def reported() -> list[str]:
            errors = (await victor.request("victor/getConfig", {})).get("errors", [])
            return errors if all(any(k in e for e in errors) for k in KINDS) else []

        errors = await until(reported, "every broken plugin in getConfig errors")
        for kind in KINDS:
            # a middleware function has nothing to construct: it can only fail when called
            expected = "call" if kind.startswith("middleware") and stage != "import" else stage
            assert f"failed at {expected}" in next(e for e in errors if kind in e)
        assert f"failed at {stage}" in next(e for e in errors if "tools/broken_tool" in e)
    if stage == "construction":  # the command line serves too, its stdout only the answer
        fake.queue(text("hello again"))
        chatted = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "victor_server", "chat", "--workspace",
                             str(workspace), "say", "hello"],
            env=server_env(env), capture_output=True, text=True, timeout=120)
        assert chatted.returncode == 0, chatted.stderr
        assert chatted.stdout == "hello again\n" and "Traceback" not in chatted.stderr
    if stage == "import":
        listed = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "victor_server", "plugins", "--json",
                             "--workspace", str(workspace)],
            env=server_env(env), capture_output=True, text=True, timeout=120)
        assert listed.returncode == 1, listed.stderr
        assert "Traceback" not in listed.stderr
        plugins = {f"{p['kind']}/{p['name']}": p for p in json.loads(listed.stdout)["plugins"]}
        for name in (*KINDS, "tools/broken_tool", "providers/broken_provider"):
            assert plugins[name]["status"] == "failed" and plugins[name]["stage"] == "import"
            assert plugins[name]["package"] == "victor-broken-plugins"
            assert "cannot be imported" in plugins[name]["error"]


@pytest.mark.parametrize("stage", ["import", "call"])
async def test_a_broken_authentication_middleware_fails_closed(
        stage: str, workspace: Path, tmp_path: Path, fake: FakeAnthropic) -> None:
    (workspace / ".victor" / "config.yml").write_text("middleware: [broken_auth]\n")
    env = {**fake.env(), "PYTHONPATH": install("broken_plugins", tmp_path / "site"),
           "VICTOR_TEST_BREAK": stage}
    async with lsp_server(workspace, env) as victor:
        for method, params in (("victor/getConfig", {}), ("victor/chat", {"message": "hi"})):
            with pytest.raises(JsonRpcException) as refused:
                await victor.request(method, params)
            assert refused.value.code == -32004 and "broken_auth" in str(refused.value)
    assert not fake.message_requests


def _frames(data: bytes) -> list[dict[str, Any]]:
    """Every byte of an LSP stdout as Content-Length frames; fails on anything else."""
    messages = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        assert sep and head.startswith(b"Content-Length: "), f"not a frame: {data[:80]!r}"
        length = int(head.split(b"\r\n")[0].split(b":")[1])
        messages.append(json.loads(rest[:length]))
        data = rest[length:]
    return messages


async def test_a_plugins_print_never_reaches_the_protocol_stream(workspace: Path,
                                                                 tmp_path: Path) -> None:
    env = {"PYTHONPATH": install("broken_plugins", tmp_path / "site"),
           "VICTOR_TEST_BREAK": "call", "VICTOR_PROVIDER": "scripted"}
    def framed(*messages: dict[str, Any]) -> bytes:
        bodies = [json.dumps(m).encode() for m in messages]
        return b"".join(b"Content-Length: %d\r\n\r\n%s" % (len(b), b) for b in bodies)

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "victor_server", "lsp", "--workspace", str(workspace),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=server_env(env))
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(framed(
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}},
        {"jsonrpc": "2.0", "method": "initialized", "params": {}},
        {"jsonrpc": "2.0", "id": 2, "method": "victor/buildPrompt", "params": {}}))
    await proc.stdin.drain()
    out = b""
    async with asyncio.timeout(120):
        while b'"id": 2' not in out and b'"id":2' not in out:
            chunk = await proc.stdout.read(65536)
            assert chunk, "the server closed stdout"
            out += chunk
    proc.stdin.write(framed({"jsonrpc": "2.0", "id": 3, "method": "shutdown"},
                            {"jsonrpc": "2.0", "method": "exit"}))
    rest, stderr = await asyncio.wait_for(proc.communicate(), 60)
    answers = {m.get("id"): m for m in _frames(out + rest)}
    assert "result" in answers[2], answers
    # the contributor printed as it was called, and it went to stderr
    assert b"calling Contributor" in stderr and b"calling" not in out + rest


# the table recipe 3 creates for its exporter
ANALYTICS_TABLE = """
CREATE TABLE IF NOT EXISTS analytics_events (
    id BIGSERIAL PRIMARY KEY,
    session_id VARCHAR(255) NOT NULL,
    event_type VARCHAR(100) NOT NULL,
    event_data JSONB,
    timestamp TIMESTAMP NOT NULL,
    created_at TIMESTAMP DEFAULT NOW(),
    CONSTRAINT unique_event UNIQUE (session_id, timestamp)
);
"""


async def test_the_recipes_postgresql_exporter_writes_dated_rows(
        workspace: Path, tmp_path: Path, fake: FakeAnthropic,
        pg_cluster: Any) -> None:
    import asyncpg

    url = pg_cluster.new_database("seed")
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(ANALYTICS_TABLE)
        (workspace / ".victor" / "config.yml").write_text(
            "analytics_export_interval: 0.2\n"
            "analytics: {exporters: [sqlite, seed_postgresql]}\n"
            f"plugins: {{seed_postgresql: {{connection_string: '{url}'}},\n"
            # this test is about the exporter: the package's other plugins stay off
            "          disabled: [file_config, seed_standards, seed_compliance, "
            "seed_tech_stack]}\n")
        env = {**fake.env(), "PYTHONPATH": install("seed_plugins", tmp_path / "site")}
        async with lsp_server(workspace, env) as victor:
            sid = (await victor.request("victor/chat", {"message": "hello"}))["sessionId"]

            async def rows() -> list[Any]:
                found: list[Any] = await connection.fetch(
                    "SELECT event_type, event_data, timestamp FROM analytics_events "
                    "WHERE session_id = $1 AND event_type = 'token_usage'", sid)
                return found

            (row,) = await until(rows, "the token usage row")
            config = await victor.request("victor/getConfig", {})
        assert "errors" not in config, config.get("errors")
        assert row["timestamp"].year >= 2026  # a date, not 1970
        assert json.loads(row["event_data"])["total_tokens"] > 0
    finally:
        await connection.close()
