"""A/B tests: the experiment's parsing and weighted choice, first-writer-wins assignment in
the store, and end to end through the LSP face: a 50/50 split over 400 sessions that is sticky
across a restart, the variant's config in the provider request, the variant in chat results,
and the comparison in ``victor/analytics/summary``."""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import acp
from fake_anthropic import FakeAnthropic, text, tool_use
from lsp_harness import VictorClient, lsp_server
from mcp_face_harness import mcp_client, structured
from server_env import server_env

from victor_server.config import ConfigCoordinator, StaticConfigProvider
from victor_server.store import SqliteStore
from victor_server.tenancy import ABTestConfigProvider, Experiment, TenantConfigProvider

EXPERIMENT = {"variants": {"control": {"model": "claude-control-1"},
                           "thrifty": {"model": "claude-thrifty-1", "max_tokens": 1024}},
              "weights": {"control": 0.5, "thrifty": 0.5}}


class RecordedEvents:
    def __init__(self) -> None:
        self.events: list[tuple[str, str | None, str | None, dict[str, Any]]] = []

    def record(self, event_type: str, session_id: str | None = None,
               tenant_id: str | None = None, **data: Any) -> None:
        self.events.append((event_type, session_id, tenant_id, data))


def test_experiment_parsing() -> None:
    assert Experiment.from_config(None) is None
    assert Experiment.from_config({"weights": {"a": 1}}) is None
    assert Experiment.from_config({"variants": {"a": "not a mapping"}}) is None
    parsed = Experiment.from_config({"variants": {"a": {}, "b": None},
                                     "weights": {"a": 3, "zzz": 1}})
    assert parsed is not None and parsed.name == "ab_test"
    assert parsed.weights == {"a": 3.0, "b": 1.0}
    even = Experiment.from_config({"name": "e2", "variants": {"a": {}, "b": {}},
                                   "weights": {"a": 0, "b": 0}})
    assert even is not None and even.weights == {"a": 1.0, "b": 1.0} and even.name == "e2"


def test_weighted_choice_follows_the_weights() -> None:
    experiment = Experiment.from_config({"variants": {"a": {}, "b": {}},
                                         "weights": {"a": 0.9, "b": 0.1}})
    assert experiment is not None
    rng = random.Random(7)
    counts = Counter(experiment.choose(rng) for _ in range(2000))
    assert 0.85 < counts["a"] / 2000 < 0.95


async def test_assignment_is_first_writer_wins_across_processes(tmp_path: Path) -> None:
    experiment = Experiment.from_config(EXPERIMENT)
    assert experiment is not None
    first, second = SqliteStore(tmp_path / "ab.db"), SqliteStore(tmp_path / "ab.db")
    await first.open()
    await second.open()
    try:
        events_a, events_b = RecordedEvents(), RecordedEvents()
        # two "processes" whose coins disagree: the one that writes first decides for both
        a = ABTestConfigProvider(first, experiment, events_a, _Fixed("control"))
        b = ABTestConfigProvider(second, experiment, events_b, _Fixed("thrifty"))
        config = await a.get_config("acme:s1")
        assert config == {"model": "claude-control-1", "ab_variant": "control"}
        assert await b.get_config("acme:s1") == config
        assert events_a.events == [("ab_assignment", "acme:s1", "acme",
                                    {"experiment": "ab_test", "variant": "control",
                                     "settings": {"model": "claude-control-1"}})]
        assert events_b.events == []  # recorded once, by the process that assigned
        assert await a.get_config(None) == {}
        # a later experiment does not re-assign sessions of an earlier one
        later = Experiment.from_config({**EXPERIMENT, "name": "later"})
        assert later is not None
        assert await ABTestConfigProvider(second, later).get_config("acme:s1") == {}
    finally:
        await first.close()
        await second.close()


async def test_priorities_tenant_over_variant_over_file(tmp_path: Path) -> None:
    experiment = Experiment.from_config(EXPERIMENT)
    assert experiment is not None
    store = await SqliteStore(tmp_path / "p.db").open()
    try:
        await store.set_tenant_config("acme", {"model": "claude-acme"})
        coordinator = ConfigCoordinator([
            StaticConfigProvider("file", {"model": "claude-file", "max_tokens": 10}),
            ABTestConfigProvider(store, experiment, rng=_Fixed("thrifty")),
            TenantConfigProvider(store)])
        resolved = await coordinator.resolve("acme:1")
        assert resolved.settings.model == "claude-acme" and resolved.sources["model"] == "tenant"
        assert resolved.settings.max_tokens == 1024
        assert resolved.sources["max_tokens"] == "ab_test"
        assert resolved.sources["ab_variant"] == "ab_test"
        plain = await coordinator.resolve("other:1")
        assert plain.settings.model == "claude-thrifty-1"
    finally:
        await store.close()


class _Fixed(random.Random):
    def __init__(self, choice: str) -> None:
        super().__init__(0)
        self.choice = choice

    def choices(self, population: Any, weights: Any = None, *, cum_weights: Any = None,
                k: int = 1) -> list[Any]:
        return [self.choice] * k


CONFIG = """
provider: anthropic
model: claude-file-model
ab_test:
  variants: {control: {model: claude-control-1},
             thrifty: {model: claude-thrifty-1, max_tokens: 1024}}
  weights: {control: 0.5, thrifty: 0.5}
"""
SESSIONS = 400


async def variants_of(victor: VictorClient, ids: list[str]) -> dict[str, str]:
    configs = await asyncio.gather(*[victor.request("victor/getConfig", {"sessionId": sid})
                                     for sid in ids])
    assert all(c["sources"]["model"] == "ab_test" for c in configs)
    return {sid: c["config"]["ab_variant"] for sid, c in zip(ids, configs, strict=True)}


async def test_split_sticky_and_reported(workspace: Path, fake: FakeAnthropic) -> None:
    (workspace / ".victor" / "config.yml").write_text(CONFIG)
    ids = [f"s{n}" for n in range(SESSIONS)]
    async with lsp_server(workspace, fake.env()) as victor:
        await asyncio.gather(*[victor.request("victor/session/create", {"sessionId": sid})
                               for sid in ids])
        assigned = await variants_of(victor, ids)
        counts = Counter(assigned.values())
        # 400 fair coins land outside 30-70% with probability below 1e-15
        assert set(counts) == {"control", "thrifty"}
        assert all(0.3 * SESSIONS < n < 0.7 * SESSIONS for n in counts.values())

        control = next(s for s in ids if assigned[s] == "control")
        thrifty = next(s for s in ids if assigned[s] == "thrifty")
        result = await victor.request("victor/chat", {"message": "hi", "sessionId": control})
        assert result["variant"] == "control"
        assert fake.message_requests[-1].body["model"] == "claude-control-1"
        assert fake.message_requests[-1].body["max_tokens"] == 4096
        fake.queue(tool_use("ls", {"path": "."}), text("listed"))  # thrifty calls a tool
        result = await victor.request("victor/chat", {"message": "hi", "sessionId": thrifty})
        assert result["variant"] == "thrifty"
        assert fake.message_requests[-1].body["model"] == "claude-thrifty-1"
        assert fake.message_requests[-1].body["max_tokens"] == 1024

        summary = await victor.request("victor/analytics/summary", {})
        assert summary["events"]["ab_assignment"] == SESSIONS
        arms = summary["variants"]
        # each arm is compared on what it changed ...
        assert arms["control"]["settings"] == {"model": "claude-control-1"}
        assert arms["thrifty"]["settings"] == {"model": "claude-thrifty-1", "max_tokens": 1024}
        for name in ("control", "thrifty"):
            arm = arms[name]
            assert arm["sessions"] == counts[name]
            assert arm["requests"] == arm["turns"] == 1 and arm["errors"] == 0
            assert arm["tokens"]["total"] > 0 and arm["latencyMs"] > 0
            assert set(arm["tokens"]) == {"input", "output", "total", "cacheRead", "cacheWrite"}
            assert arm["perTurn"]["tokens"] == arm["tokens"]["total"]
            assert set(arm["cost"]) == {"usd", "byModel", "unpriced"}
        # ... and on what followed: the turns' models, tokens and tool calls, arm by arm
        assert list(arms["control"]["cost"]["byModel"]) + arms["control"]["cost"]["unpriced"] \
            == ["claude-control-1"]
        assert list(arms["thrifty"]["cost"]["byModel"]) + arms["thrifty"]["cost"]["unpriced"] \
            == ["claude-thrifty-1"]
        assert arms["control"]["toolCalls"] == {} and arms["thrifty"]["toolCalls"] == {"ls": 1}
        assert arms["thrifty"]["toolCallCount"] == arms["thrifty"]["perTurn"]["toolCalls"] == 1
        for kind in ("input", "output", "total", "cacheRead", "cacheWrite"):
            assert summary["tokens"][kind] == sum(arm["tokens"][kind] for arm in arms.values())
        # a summary of one session still says what its variant set
        alone = await victor.request("victor/analytics/summary", {"sessionId": thrifty})
        assert alone["variants"]["thrifty"]["settings"]["max_tokens"] == 1024
        assert alone["variants"]["thrifty"]["sessions"] == 1

    # the command line prints the same comparison
    shown = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "victor_server", "analytics", "summary",
                         "--workspace", str(workspace)],
        env=server_env(fake.env()), capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert "variant control: model=claude-control-1\n" in shown.stdout
    assert "variant thrifty: model=claude-thrifty-1, max_tokens=1024\n" in shown.stdout
    thrifty_block = shown.stdout.split("variant thrifty:")[1]
    assert "turns 1, errors 0, tool calls 1" in thrifty_block

    async with lsp_server(workspace, fake.env()) as victor:  # a restart on the same store
        assert await variants_of(victor, ids) == assigned
        summary = await victor.request("victor/analytics/summary", {})
        assert summary["events"]["ab_assignment"] == SESSIONS  # assigned once, ever


async def test_a_variant_changes_the_prompt_actually_sent(workspace: Path,
                                                          fake: FakeAnthropic) -> None:
    (workspace / ".victor" / "config.yml").write_text(
        "ab_test:\n"
        "  variants: {pirate: {prompts: {base: 'Talk like a pirate.'}}, plain: {}}\n"
        "  weights: {pirate: 1, plain: 0.000000001}\n")
    async with lsp_server(workspace, fake.env()) as victor:
        chat = await victor.request("victor/chat", {"message": "hello"})
        system = json.dumps(fake.message_requests[-1].body["system"])
        assert "Talk like a pirate." in system and "You are Victor" not in system
        built = await victor.request("victor/buildPrompt", {"sessionId": chat["sessionId"]})
        assert built["systemPrompt"].startswith("Talk like a pirate.")
        plain = await victor.request("victor/buildPrompt", {})  # no session: no variant
        assert plain["systemPrompt"].startswith("You are Victor")


async def test_a_variant_reaches_everything_it_sets(workspace: Path, fake: FakeAnthropic) -> None:
    """Strategies, plugin options, disabled contributors and prompt sections, not only model
    parameters: each part the variant sets is what that part does for its sessions."""
    (workspace / ".victor" / "config.yml").write_text(
        "tool_selection: {strategy: keyword}\n"
        "ab_test:\n"
        "  variants:\n"
        "    lean:\n"
        "      tool_selection: {strategy: all}\n"
        "      context_compaction_strategy: recent\n"
        "      plugins: {disabled: [language]}\n"
        "      prompts: {base: 'Be terse.'}\n"
        "    plain: {}\n"
        "  weights: {lean: 1, plain: 0.000000001}\n")
    async with lsp_server(workspace, fake.env()) as victor:
        sid = (await victor.request("victor/chat", {"message": "hello"}))["sessionId"]
        assert (await victor.request("victor/getConfig", {"sessionId": sid}))[
            "config"]["ab_variant"] == "lean"
        selected = await victor.request("victor/selectTools",
                                        {"query": "read a file", "sessionId": sid})
        assert selected["strategy"] == "all"
        unassigned = await victor.request("victor/selectTools", {"query": "read a file"})
        assert unassigned["strategy"] == "keyword"
        compacted = await victor.request("victor/compactContext", {"sessionId": sid})
        assert compacted["strategy"] == "recent"
        spanish = {"language": "es"}
        built = await victor.request("victor/buildPrompt", {"sessionId": sid,
                                                            "context": spanish})
        names = [c["name"] for c in built["contributions"]]
        assert built["systemPrompt"].startswith("Be terse.") and "language" not in names
        assert "Respond in Spanish" not in built["systemPrompt"]
        plain = await victor.request("victor/buildPrompt", {"context": spanish})
        assert "language" in [c["name"] for c in plain["contributions"]]
        assert "Respond in Spanish" in plain["systemPrompt"]
        summary = await victor.request("victor/analytics/summary", {})
        assert summary["variants"]["lean"]["settings"]["tool_selection"] == {"strategy": "all"}


async def test_mcp_summary_compares_variants_in_snake_case(workspace: Path, tmp_path: Path,
                                                           fake: FakeAnthropic) -> None:
    (workspace / ".victor" / "config.yml").write_text(
        "ab_test:\n"
        "  variants: {thrifty: {max_tokens: 1024}, control: {}}\n"
        "  weights: {thrifty: 1, control: 0.000000001}\n")
    fake.queue(tool_use("ls", {"path": "."}), text("listed"))
    async with mcp_client(workspace, workspace / ".victor" / "victor.db", fake.env()) as client:
        chat = structured(await client.call_tool("chat", {"message": "what is here?"}))
        assert chat["variant"] == "thrifty"
        summary = structured(await client.call_tool("analytics_summary", {}))
    arm = summary["variants"]["thrifty"]
    assert arm["settings"] == {"max_tokens": 1024}
    assert arm["turns"] == 1 and arm["tool_calls"] == {"ls": 1} and arm["tool_call_count"] == 1
    assert arm["tokens"] == summary["tokens"]  # the only arm with turns: all of them
    assert set(arm["tokens"]) == {"input", "output", "total", "cache_read", "cache_write"}
    assert set(arm["per_turn"]) == {"tokens", "cost_usd", "tool_calls"}
    assert arm["latency_ms"] > 0 and arm["errors"] == 0 and "by_model" in arm["cost"]
async def test_tenancy_is_given_to_the_orchestrator_at_construction(tmp_path: Path) -> None:
    from victor_server.orchestrator import AgentOrchestrator
    from victor_server.providers.scripted import ScriptedProvider
    from victor_server.tenancy import Tenancy

    template = "You serve ACME's engineers."
    tenancy = Tenancy(tenants={"acme": {"prompt_template": template}},
                      ab_test={"variants": {"wide": {"prompts": {"max_contribution_chars": 9000}}}})
    async with AgentOrchestrator(workspace=tmp_path, provider=ScriptedProvider(),
                                 tenancy=tenancy) as agent:
        sources = [p.name for p in agent.config.providers]
        assert "tenant" in sources and "ab_test" in sources
        settings = (await agent.config.resolve("acme:s1")).settings
        assert getattr(settings, "ab_variant", None) == "wide"
        # the variant's prompt settings get a prompt coordinator of their own, which has the
        # tenant's template too
        assert agent.prompts_for(settings) is not agent.prompts
        built = await agent.build_prompt(None, "acme:s1")
        assert template in built.system_prompt
        assert template not in (await agent.build_prompt(None, "globex:s1")).system_prompt

    # no experiment, whatever the config says; the tenant rows stay in the store
    async with AgentOrchestrator(workspace=tmp_path, provider=ScriptedProvider(),
                                 tenancy=Tenancy(tenants={}, ab_test=None)) as agent:
        assert "ab_test" not in [p.name for p in agent.config.providers]
        assert template in (await agent.build_prompt(None, "acme:s2")).system_prompt


async def test_acp_summary_compares_variants(workspace: Path, fake: FakeAnthropic) -> None:
    """ACP offers the summary as the extension method ``_victor/analytics/summary``: the arms
    come in camelCase, as on LSP, with what each variant sets."""
    (workspace / ".victor" / "config.yml").write_text(
        "tool_selection: {strategy: keyword}\n"
        "ab_test:\n"
        "  variants: {thrifty: {max_tokens: 1024}, control: {}}\n"
        "  weights: {thrifty: 1, control: 0.000000001}\n")

    class Client:
        async def session_update(self, session_id: str, update: Any, **kwargs: Any) -> None:
            pass

    env = {**os.environ, **fake.env()}
    env.pop("VICTOR_AUTH_TOKEN", None)
    fake.queue(text("done"))
    cwd = str(workspace)
    async with acp.spawn_agent_process(Client(), sys.executable, "-m", "victor_server", "acp",
                                       "--workspace", cwd, env=env) as (conn, _process):
        await conn.initialize(protocol_version=1)
        sid = (await conn.new_session(cwd=cwd, mcp_servers=[])).session_id
        done = await conn.prompt(session_id=sid, prompt=[acp.text_block("hello")])
        assert done.stop_reason == "end_turn"
        summary = await conn.ext_method("victor/analytics/summary", {})
    assert fake.message_requests[-1].body["max_tokens"] == 1024
    arm = summary["variants"]["thrifty"]
    assert arm["settings"] == {"max_tokens": 1024} and arm["turns"] == 1
    assert arm["tokens"]["total"] == summary["tokens"]["total"] > 0
    assert set(arm["perTurn"]) == {"tokens", "costUsd", "toolCalls"}
