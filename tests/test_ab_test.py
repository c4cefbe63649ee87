"""A/B tests: the experiment's parsing and weighted choice, first-writer-wins assignment in
the store, and end to end through the LSP face: a 50/50 split over 400 sessions that is sticky
across a restart, the variant's config in the provider request, the variant in chat results,
and the comparison in ``victor/analytics/summary``."""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

from fake_anthropic import FakeAnthropic
from lsp_harness import VictorClient, lsp_server

from victor_server.config import ConfigCoordinator, StaticConfigProvider
from victor_server.store import Store
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
    first, second = Store(tmp_path / "ab.db"), Store(tmp_path / "ab.db")
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
                                    {"experiment": "ab_test", "variant": "control"})]
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
    store = await Store(tmp_path / "p.db").open()
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
        result = await victor.request("victor/chat", {"message": "hi", "sessionId": thrifty})
        assert result["variant"] == "thrifty"
        assert fake.message_requests[-1].body["model"] == "claude-thrifty-1"
        assert fake.message_requests[-1].body["max_tokens"] == 1024

        summary = await victor.request("victor/analytics/summary", {})
        assert summary["events"]["ab_assignment"] == SESSIONS
        for name in ("control", "thrifty"):
            arm = summary["variants"][name]
            assert arm["sessions"] == counts[name]
            assert arm["requests"] == 1 and arm["tokens"] > 0 and arm["errors"] == 0
            assert arm["latencyMs"] > 0

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
