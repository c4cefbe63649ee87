"""More of the coordinator recipes' and examples' classes as an installed package, over LSP.

``tests/seed_recipes`` holds the multi-tenant config provider and prompt contributor reading the
tenants' own database, the WebSocket dashboard exporter, the A/B testing config coordinator, the
database and API config providers, three prompt contributors, the database and Prometheus
exporters, three compaction strategies and the domain-specific tool selection strategy, with
only their import lines changed (where a body could not run, the one change is commented
there). Each test installs the package as pip would,
configures it through ``.victor/config.yml`` alone, turns the package's other plugins off
(an installed provider or contributor is on unless disabled), and judges by what reaches the
fake Anthropic API, the database, the WebSocket client or the push gateway.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from analytics_sink import HttpSink
from fake_anthropic import FakeAnthropic, text, tool_use
from lsp_harness import lsp_server
from plugin_install import TESTS, install

PACKAGE = "seed_recipes"


def disabled_except(*keep: str) -> str:
    """``disabled: [...]`` naming every plugin of the package but ``keep``."""
    meta = tomllib.loads((TESTS / PACKAGE / "pyproject.toml").read_text())["project"]
    names = [n for group in meta["entry-points"].values() for n in group if n not in keep]
    return f"disabled: [{', '.join(names)}]"


def write_config(workspace: Path, top: str, keep: list[str], options: dict[str, str]) -> None:
    """``top`` keys, then ``plugins:`` with the others disabled and ``options`` per plugin."""
    lines = [top.rstrip(), "plugins:", f"  {disabled_except(*keep)}"]
    lines += [f"  {name}: {value}" for name, value in options.items()]
    (workspace / ".victor" / "config.yml").write_text("\n".join(lines) + "\n")


async def until(check: Any, what: str, seconds: float = 30.0) -> Any:
    for _ in range(int(seconds / 0.1)):
        found = await check() if asyncio.iscoroutinefunction(check) else check()
        if found:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def system_of(body: dict[str, Any]) -> str:
    system = body["system"]
    return system if isinstance(system, str) else "".join(b["text"] for b in system)


async def chat(victor: Any, fake: FakeAnthropic, message: str, **params: Any) \
        -> tuple[dict[str, Any], dict[str, Any]]:
    """The chat result and the body of the request it sent to the model."""
    before = len(fake.message_requests)
    result = await victor.request("victor/chat", {"message": message, **params})
    assert len(fake.message_requests) == before + 1
    return result, fake.message_requests[-1].body


# ---- recipe 6: tenants' config and prompts from their own database --------------------------

TENANT_TABLES = """
CREATE TABLE tenant_configs (tenant_id TEXT PRIMARY KEY, config JSONB NOT NULL,
                             active BOOLEAN NOT NULL DEFAULT true);
CREATE TABLE tenant_prompt_templates (tenant_id TEXT PRIMARY KEY, prompt_template TEXT NOT NULL);
INSERT INTO tenant_configs VALUES
  ('acme', '{"max_tokens": 777, "temperature": 0.1}', true),
  ('globex', '{"max_tokens": 555}', true),
  ('initech', '{"max_tokens": 111}', false);
INSERT INTO tenant_prompt_templates VALUES
  ('acme', 'You serve ACME''s rocket engineers.'),
  ('globex', 'You serve Globex''s sales team.');
"""


@pytest.mark.slow
async def test_tenants_get_their_own_config_and_prompt_from_their_database(
        workspace: Path, tmp_path: Path, fake: FakeAnthropic,
        pg_cluster: Any) -> None:
    import asyncpg

    url = pg_cluster.new_database("tenants")
    db = await asyncpg.connect(url)
    try:
        await db.execute(TENANT_TABLES)
        write_config(workspace, "max_tokens: 1000",
                     ["seed_tenant_config", "seed_tenant_prompt"],
                     {"seed_tenant_config": f"{{db_connection: '{url}'}}",
                      "seed_tenant_prompt": f"{{db_connection: '{url}'}}"})
        env = {**fake.env(), "PYTHONPATH": install(PACKAGE, tmp_path / "site")}
        async with lsp_server(workspace, env) as victor:
            _, acme = await chat(victor, fake, "hello", sessionId="acme:one")
            _, globex = await chat(victor, fake, "hello", sessionId="globex:two")
            _, initech = await chat(victor, fake, "hello", sessionId="initech:three")
            _, solo = await chat(victor, fake, "hello", sessionId="solo")

            assert acme["max_tokens"] == 777
            assert "You serve ACME's rocket engineers." in system_of(acme)
            assert "Globex" not in system_of(acme)
            assert globex["max_tokens"] == 555
            assert "You serve Globex's sales team." in system_of(globex)
            assert "ACME" not in system_of(globex)
            # a switched-off row gives no config; no template row, no prompt
            assert initech["max_tokens"] == 1000 and "You serve" not in system_of(initech)
            assert solo["max_tokens"] == 1000 and "You serve" not in system_of(solo)

            config = await victor.request("victor/getConfig", {"sessionId": "acme:one"})
            assert "errors" not in config, config.get("errors")
            assert config["sources"]["max_tokens"] == "seed_tenant_config"
            assert config["config"]["temperature"] == 0.1

            # read on every turn: an operator's change applies without a restart
            await db.execute("UPDATE tenant_configs SET config = '{\"max_tokens\": 888}' "
                             "WHERE tenant_id = 'acme'")
            await db.execute("UPDATE tenant_prompt_templates SET prompt_template = "
                             "'You serve ACME, renamed.' WHERE tenant_id = 'acme'")
            _, again = await chat(victor, fake, "again", sessionId="acme:one")
            assert again["max_tokens"] == 888
            assert "You serve ACME, renamed." in system_of(again)
    finally:
        await db.close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_database_plugin_with_a_bad_or_unreachable_database_is_reported(
        workspace: Path, tmp_path: Path, fake: FakeAnthropic) -> None:
    unreachable = f"postgresql://victor@127.0.0.1:{_closed_port()}/tenants"
    write_config(workspace, "max_tokens: 1000",
                 ["seed_tenant_config", "seed_tenant_prompt"],
                 {"seed_tenant_config": "{db_connection: 'mysql://db/tenants'}",
                  "seed_tenant_prompt": f"{{db_connection: '{unreachable}'}}"})
    env = {**fake.env(), "PYTHONPATH": install(PACKAGE, tmp_path / "site")}
    async with lsp_server(workspace, env) as victor:
        result, body = await chat(victor, fake, "hello", sessionId="acme:one")
        assert result["content"] and body["max_tokens"] == 1000  # the turn is served

        async def both() -> list[str]:
            errors = (await victor.request("victor/getConfig", {})).get("errors", [])
            found = [e for e in errors if "seed_tenant" in e]
            return errors if len(found) == 2 else []

        errors = await until(both, "both plugins' failures in getConfig errors")
    config_error = next(e for e in errors if "seed_tenant_config" in e)
    assert "failed at construction" in config_error
    assert "db_connection must be a postgresql:// URL" in config_error
    prompt_error = next(e for e in errors if "seed_tenant_prompt" in e)
    assert "failed at call" in prompt_error


# ---- recipe 9: an A/B testing ConfigCoordinator subclass -------------------------------------

# (the Messages API takes no temperature: the request shows model and max_tokens, the resolved
# config the temperature)
AB_VARIANTS = ("{variants: {control: {temperature: 0.7, model: claude-sonnet-4-5, max_tokens: 700},"
               " variant_b: {temperature: 0.9, model: claude-opus-4-5, max_tokens: 900}},"
               " weights: {control: 0.5, variant_b: 0.5}}")
EXPECTED = {"control": (700, "claude-sonnet-4-5"), "variant_b": (900, "claude-opus-4-5")}
TEMPERATURE = {"control": 0.7, "variant_b": 0.9}


async def test_the_ab_testing_coordinator_assigns_variants_seen_in_requests_and_analytics(
        workspace: Path, tmp_path: Path, fake: FakeAnthropic) -> None:
    write_config(workspace, "temperature: 0.2\nanalytics_export_interval: 0.2",
                 ["seed_ab_testing"], {"seed_ab_testing": AB_VARIANTS})
    env = {**fake.env(), "PYTHONPATH": install(PACKAGE, tmp_path / "site")}
    async with lsp_server(workspace, env) as victor:
        base = await victor.request("victor/getConfig", {})
        assert "errors" not in base, base.get("errors")
        # no session, no variant: the base config stays the project's
        assert base["config"]["temperature"] == 0.2 and "ab_variant" not in base["config"]

        assigned: dict[str, str] = {}
        for n in range(40):  # random assignment: until both arms have a session
            sid = f"s{n}"
            result, body = await chat(victor, fake, "hello", sessionId=sid)
            variant = assigned[sid] = result["variant"]
            assert (body["max_tokens"], body["model"]) == EXPECTED[variant]
            if set(assigned.values()) == set(EXPECTED):
                break
        assert set(assigned.values()) == set(EXPECTED)

        # a session keeps its variant
        sid, variant = next(iter(assigned.items()))
        result, body = await chat(victor, fake, "again", sessionId=sid)
        assert result["variant"] == variant
        assert (body["max_tokens"], body["model"]) == EXPECTED[variant]
        config = await victor.request("victor/getConfig", {"sessionId": sid})
        assert config["config"]["temperature"] == TEMPERATURE[variant]
        assert config["sources"]["temperature"] == "seed_ab_testing"

        summary = await victor.request("victor/analytics/summary", {})
    arms = summary["variants"]
    for name in EXPECTED:
        mine = [s for s, v in assigned.items() if v == name]
        assert arms[name]["sessions"] == len(mine)
        assert arms[name]["responses"] == len(mine) + (name == variant)
        assert arms[name]["tokens"]["total"] > 0 and arms[name]["turns"] == arms[name]["responses"]


# ---- recipe 7: the WebSocket dashboard exporter ----------------------------------------------

async def test_the_websocket_exporter_broadcasts_events_to_a_dashboard_client(
        workspace: Path, tmp_path: Path, fake: FakeAnthropic) -> None:
    import websockets

    port = _closed_port()
    (workspace / "README.md").write_text("hello\n")
    write_config(workspace, "analytics_export_interval: 0.2\n"
                 "analytics: {exporters: [sqlite, seed_websocket]}",
                 ["seed_websocket"], {"seed_websocket": f"{{host: 127.0.0.1, port: {port}}}"})
    env = {**fake.env(), "PYTHONPATH": install(PACKAGE, tmp_path / "site")}
    fake.queue(tool_use("read", {"path": "README.md"}), text("It says hello."))
    async with lsp_server(workspace, env) as victor:
        async def connected() -> Any:
            try:
                return await websockets.connect(f"ws://127.0.0.1:{port}")
            except OSError:
                return None

        started = await victor.request("victor/getConfig", {})  # the server has started
        assert "errors" not in started, started.get("errors")
        dashboard = await until(connected, "the exporter's WebSocket server")
        try:
            # the server counts the client once its handler ran; a first turn may go unseen
            received: list[dict[str, Any]] = []
            sid = (await victor.request("victor/chat", {"message": "read README.md"}))[
                "sessionId"]

            async def events_of_turn() -> list[dict[str, Any]]:
                try:
                    async with asyncio.timeout(0.5):
                        received.extend(json.loads(await dashboard.recv()))
                except TimeoutError:
                    pass
                return [e for e in received if e["session_id"] == sid]

            async def usage_and_tool() -> bool:
                mine = await events_of_turn()
                return any(e["type"] == "token_usage" for e in mine) and \
                    any(e["type"] == "tool_call" for e in mine)

            if not await _maybe(usage_and_tool):  # connected after the turn's batch: again
                fake.queue(tool_use("read", {"path": "README.md"}), text("Still hello."))
                sid = (await victor.request("victor/chat", {"message": "read it again"}))[
                    "sessionId"]
                await until(usage_and_tool, "the turn's events on the WebSocket")
        finally:
            await dashboard.close()
        config = await victor.request("victor/getConfig", {})
    assert "errors" not in config, config.get("errors")
    mine = [e for e in received if e["session_id"] == sid]
    usage = next(e for e in mine if e["type"] == "token_usage")
    assert usage["data"]["total_tokens"] > 0 and usage["timestamp"].endswith("Z")
    assert next(e for e in mine if e["type"] == "tool_call")["data"]["tool"] == "read"


async def test_a_websocket_exporter_that_cannot_listen_is_reported_and_the_server_serves(
        workspace: Path, tmp_path: Path, fake: FakeAnthropic) -> None:
    with socket.socket() as taken:  # the port the exporter is told to use is already in use
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        write_config(workspace, "analytics: {exporters: [sqlite, seed_websocket]}",
                     ["seed_websocket"],
                     {"seed_websocket": f"{{host: 127.0.0.1, port: {port}}}"})
        env = {**fake.env(), "PYTHONPATH": install(PACKAGE, tmp_path / "site")}
        async with lsp_server(workspace, env) as victor:
            result, _ = await chat(victor, fake, "hello")
            assert result["content"]

            async def reported() -> list[str]:
                errors = (await victor.request("victor/getConfig", {})).get("errors", [])
                return [e for e in errors if "analytics_exporters/seed_websocket" in e]

            (error,) = await until(reported, "the exporter's failure in getConfig errors")
    assert "failed at call" in error and "OSError" in error


async def _maybe(check: Any) -> bool:
    try:
        return bool(await until(check, "events", seconds=10))
    except AssertionError:
        return False


# ---- example 2: database and API config providers --------------------------------------------

@contextmanager
def config_api(configs: dict[str, dict[str, Any]]) -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A loopback config API: GET /config/<session> answers that session's JSON, else 404."""
    seen: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            seen.append({"path": self.path, "authorization": self.headers["Authorization"]})
            config = configs.get(self.path.removeprefix("/config/"))
            body = json.dumps(config or {"error": "no such session"}).encode()
            self.send_response(200 if config is not None else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow
async def test_the_database_and_api_config_providers_rank_by_their_priority(
        workspace: Path, tmp_path: Path, fake: FakeAnthropic,
        pg_cluster: Any) -> None:
    import asyncpg

    url = pg_cluster.new_database("configs")
    db = await asyncpg.connect(url)
    try:
        await db.execute(
            "CREATE TABLE sessions (session_id TEXT PRIMARY KEY, config JSONB);"
            "INSERT INTO sessions VALUES ('from-db', '{\"max_tokens\": 444}'),"
            " ('both', '{\"max_tokens\": 445}');")
        api = {"from-api": {"max_tokens": 333, "temperature": 0.3},
               "both": {"max_tokens": 334, "temperature": 0.35}}
        with config_api(api) as (api_url, seen):
            write_config(workspace, "max_tokens: 1000",
                         ["seed_database_config", "seed_api_config"],
                         {"seed_database_config": f"{{db_connection: '{url}'}}",
                          "seed_api_config": f"{{api_base_url: '{api_url}', api_key: k-123}}"})
            env = {**fake.env(), "PYTHONPATH": install(PACKAGE, tmp_path / "site")}
            async with lsp_server(workspace, env) as victor:
                _, from_db = await chat(victor, fake, "hello", sessionId="from-db")
                _, from_api = await chat(victor, fake, "hello", sessionId="from-api")
                _, both = await chat(victor, fake, "hello", sessionId="both")
                _, neither = await chat(victor, fake, "hello", sessionId="neither")
                config = await victor.request("victor/getConfig", {"sessionId": "both"})
        assert from_db["max_tokens"] == 444
        assert from_api["max_tokens"] == 333
        # the database (priority 100) outranks the API (50) key by key; the API fills the rest
        assert both["max_tokens"] == 445
        assert neither["max_tokens"] == 1000
        assert "errors" not in config, config.get("errors")
        assert config["sources"]["max_tokens"] == "seed_database_config"
        assert config["sources"]["temperature"] == "seed_api_config"
        assert config["config"]["temperature"] == 0.35
        assert {"path": "/config/both", "authorization": "Bearer k-123"} in seen
    finally:
        await db.close()


# ---- example 3: prompt contributors driven by the request's context ---------------------------

async def test_the_prompt_contributors_follow_the_request_context(
        workspace: Path, tmp_path: Path, fake: FakeAnthropic) -> None:
    write_config(workspace, "max_tokens: 1000",
                 ["seed_compliance_requirements", "seed_code_style", "seed_multilingual"],
                 {"seed_code_style": "{style_guide: {max_line_length: 100, "
                                     "indentation: 4 spaces, naming_convention: PEP8}}"})
    env = {**fake.env(), "PYTHONPATH": install(PACKAGE, tmp_path / "site")}
    async with lsp_server(workspace, env) as victor:
        _, asked = await chat(victor, fake, "write a parser", context={
            "task": "code_generation", "requiresCompliance": True, "language": "es"})
        _, plain = await chat(victor, fake, "hello")
        config = await victor.request("victor/getConfig", {})
    assert "errors" not in config, config.get("errors")
    system = system_of(asked)
    parts = ["## Compliance Requirements", "Language: Responde en español.",
             "## Code Style Guidelines"]
    # higher priority first: compliance 80, language 70, code style 60
    assert [system.index(p) for p in parts] == sorted(system.index(p) for p in parts)
    assert "- Max line length: 100" in system and "Use 4 spaces for indentation" in system
    assert "Follow PEP8 naming convention" in system
    system = system_of(plain)
    assert "Language: Respond in English." in system
    assert "Compliance Requirements" not in system and "Code Style" not in system


# ---- example 5: the database and Prometheus exporters ----------------------------------------

@pytest.mark.slow
async def test_the_database_and_prometheus_exporters_receive_the_turns_events(
        workspace: Path, tmp_path: Path, fake: FakeAnthropic,
        pg_cluster: Any) -> None:
    import asyncpg
    from prometheus_client.parser import text_string_to_metric_families

    url = pg_cluster.new_database("events")
    db = await asyncpg.connect(url)
    try:
        await db.execute("CREATE TABLE analytics (session_id TEXT, event_type TEXT, "
                         "event_data JSONB, timestamp TIMESTAMP)")
        (workspace / "README.md").write_text("hello\n")
        with HttpSink() as gateway:
            write_config(workspace, "analytics_export_interval: 0.2\n"
                         "analytics: {exporters: [sqlite, seed_database, seed_prometheus]}",
                         ["seed_database", "seed_prometheus"],
                         {"seed_database": f"{{db_connection: '{url}'}}",
                          "seed_prometheus": f"{{pushgateway_url: '{gateway.url}', "
                                             "job_name: victor-analytics}"})
            env = {**fake.env(), "PYTHONPATH": install(PACKAGE, tmp_path / "site")}
            fake.queue(tool_use("read", {"path": "README.md"}), text("It says hello."))
            async with lsp_server(workspace, env) as victor:
                sid = (await victor.request("victor/chat", {"message": "read it"}))["sessionId"]

                async def rows() -> list[Any]:
                    found: list[Any] = await db.fetch(
                        "SELECT event_type, event_data, timestamp FROM analytics "
                        "WHERE session_id = $1 ORDER BY timestamp", sid)
                    types = {r["event_type"] for r in found}
                    return found if {"token_usage", "tool_call"} <= types else []

                stored = await until(rows, "the turn's rows")

                def pushed() -> dict[str, float]:
                    gauges: dict[str, float] = {}
                    for put in list(gateway.received):
                        if put.method == "PUT" and put.path == "/metrics/job/victor-analytics":
                            for family in text_string_to_metric_families(put.body.decode()):
                                for sample in family.samples:
                                    gauges[sample.name] = gauges.get(sample.name, 0) + \
                                        sample.value
                    return gauges if "victor_analytics_token_usage" in gauges else {}

                gauges = await until(pushed, "a push with token usage")
                config = await victor.request("victor/getConfig", {})
        assert "errors" not in config, config.get("errors")
        usage = next(r for r in stored if r["event_type"] == "token_usage")
        assert json.loads(usage["event_data"])["total_tokens"] > 0
        assert usage["timestamp"].year >= 2026
        tool = next(r for r in stored if r["event_type"] == "tool_call")
        assert json.loads(tool["event_data"])["tool"] == "read"
        assert gauges["victor_analytics_token_usage"] >= 1
        assert gauges.get("victor_analytics_tool_call", 0) >= 1
    finally:
        await db.close()


# ---- example 4: the semantic and task-aware compaction strategies ----------------------------

PADDING = " ".join(["lorem ipsum dolor sit amet"] * 40)  # ~200 words: a long message


@pytest.mark.slow  # embeds with the server's model
async def test_the_semantic_compaction_example_embeds_and_keeps_the_last_ten(
        workspace: Path, tmp_path: Path, fake: FakeAnthropic) -> None:
    write_config(workspace, "context_compaction_strategy: semantic_example",
                 ["semantic_example"], {})
    env = {**fake.env(), "PYTHONPATH": install(PACKAGE, tmp_path / "site")}
    async with lsp_server(workspace, env) as victor:
        sid = (await victor.request("victor/chat", {"message": "turn 0"}))["sessionId"]
        for n in range(1, 8):
            await victor.request("victor/chat", {"message": f"turn {n}", "sessionId": sid})
        compacted = await victor.request("victor/compactContext", {"sessionId": sid})
        config = await victor.request("victor/getConfig", {})
    assert "errors" not in config, config.get("errors")
    assert compacted["strategy"] == compacted["ran"] == "semantic_example", compacted
    assert compacted["fallback"] is None  # every message embedded, none failed
    assert compacted["before"]["messages"] == 16 and compacted["after"]["messages"] == 10


async def test_the_task_aware_compaction_example_keeps_the_current_tasks_messages(
        workspace: Path, tmp_path: Path, fake: FakeAnthropic) -> None:
    write_config(workspace, "context_compaction_strategy: task_aware_example\n"
                 "context_window: 3000",
                 ["task_aware_example"], {})
    env = {**fake.env(), "PYTHONPATH": install(PACKAGE, tmp_path / "site")}
    async with lsp_server(workspace, env) as victor:
        topics = ["the parser drops commas", "weather in Lisbon", "parser tokens again",
                  "lunch plans", "parser error on line 9", "the football score"]
        sid = None
        for topic in topics:
            fake.queue(text(f"noted: {topic}"))
            params: dict[str, Any] = {"message": f"{topic}. {PADDING}"}
            if sid:
                params["sessionId"] = sid
            sid = (await victor.request("victor/chat", params))["sessionId"]
        before = len(fake.message_requests)
        fake.queue(text("the parser is fixed"))
        await victor.request("victor/chat", {"message": "fix the parser now", "sessionId": sid,
                                             "context": {"currentTask": "parser"}})
        context = await victor.request("victor/getContext", {"sessionId": sid})
    sent = fake.message_requests[before].body["messages"]
    said = json.dumps(sent)
    assert context["compaction"]["ran"] == "task_aware_example"
    assert context["compaction"]["fallback"] is None
    # the task's messages from the start of the conversation stay; the others went
    assert "the parser drops commas" in said and "parser error on line 9" in said
    assert "weather in Lisbon" not in said and "football" not in said
    assert "fix the parser now" in said


TOPICS = ["the parser drops commas", "lunch in Lisbon", "rename the config loader",
          "please fix the flaky login test", "please fix the flaky login test",
          "deploy to staging tonight", "football results", "write the release notes"]


@pytest.mark.slow  # embeds with the server's model
async def test_the_kmeans_compaction_recipe_keeps_one_message_per_cluster(
        workspace: Path, tmp_path: Path, fake: FakeAnthropic) -> None:
    write_config(workspace, "context_compaction_strategy: semantic_kmeans",
                 ["semantic_kmeans"], {})
    env = {**fake.env(), "PYTHONPATH": install(PACKAGE, tmp_path / "site")}
    async with lsp_server(workspace, env) as victor:
        sid = None
        for n, topic in enumerate(TOPICS):
            fake.queue(text(f"answer {n}: about {topic.split()[-1]} and number {n * 7}"))
            params: dict[str, Any] = {"message": topic}
            if sid:
                params["sessionId"] = sid
            sid = (await victor.request("victor/chat", params))["sessionId"]
        compacted = await victor.request("victor/compactContext", {"sessionId": sid})
        _, body = await chat(victor, fake, "what is left?", sessionId=sid)
        config = await victor.request("victor/getConfig", {})
    assert "errors" not in config, config.get("errors")
    assert compacted["strategy"] == compacted["ran"] == "semantic_kmeans", compacted
    assert compacted["fallback"] is None
    # ten chosen, one per cluster; the server's invariants (turns alternate, each tool call
    # with its result) may drop a few more
    assert compacted["before"]["messages"] == 16 and compacted["after"]["messages"] <= 10
    # the two identical requests, both among the last ten, fall in one cluster: one is kept
    said = json.dumps(body["messages"])
    assert said.count("please fix the flaky login test") == 1


# ---- recipe 8: the domain-specific tool selection strategy -----------------------------------

DOMAINS = "{coding: [code, bug, file, python], web: [website, url, browse]}"


async def test_the_domain_specific_strategy_offers_the_classified_domains_tools(
        workspace: Path, tmp_path: Path, fake: FakeAnthropic) -> None:
    write_config(workspace, "tools: {bash: {enabled: true}}\n"
                 "tool_selection: {strategy: domain_specific}",
                 ["domain_specific"], {"domain_specific": f"{{domain_classifier: {DOMAINS}}}"})
    env = {**fake.env(), "PYTHONPATH": install(PACKAGE, tmp_path / "site")}
    async with lsp_server(workspace, env) as victor:
        coding = await victor.request("victor/selectTools", {"query": "fix the bug in this file"})
        web = await victor.request("victor/selectTools", {"query": "browse the website"})
        _, body = await chat(victor, fake, "a python bug: find the code")
        config = await victor.request("victor/getConfig", {})
    assert "errors" not in config, config.get("errors")
    assert coding["strategy"] == "domain_specific" and coding["fallback"] is None
    # the recipe's coding tools that are installed; edit, ls and plan are not among them
    assert {t["name"] for t in coding["tools"]} == {"read", "write", "search", "bash"}
    # the web domain's tools (web_search, ...) are not installed: none is offered
    assert web["fallback"] is None and web["tools"] == []
    assert {t["name"] for t in body["tools"]} == {"read", "write", "search", "bash"}


async def test_a_domain_classifier_that_is_not_a_mapping_of_words_fails_at_construction(
        workspace: Path, tmp_path: Path, fake: FakeAnthropic) -> None:
    write_config(workspace, "tool_selection: {strategy: domain_specific}",
                 ["domain_specific"], {"domain_specific": "{domain_classifier: {coding: [1, 2]}}"})
    env = {**fake.env(), "PYTHONPATH": install(PACKAGE, tmp_path / "site")}
    async with lsp_server(workspace, env) as victor:
        selected = await victor.request("victor/selectTools", {"query": "fix the bug"})
        config = await victor.request("victor/getConfig", {})
    assert selected["fallback"].startswith("keyword (") and selected["tools"]
    (error,) = [e for e in config["errors"] if "domain_specific" in e]
    assert "failed at construction" in error
    assert "domain_classifier.coding: expected a list of words" in error
