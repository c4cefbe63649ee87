"""The plugin registry and the adapters beside each extension Protocol, in process.

The end-to-end behaviour (installed packages, a real server) is in test_seed_plugins.py; these
pin the rules: where a config provider ranks, how options reach a constructor, how failures are
recorded and logged once, how victor-ai-style middleware and exporter results are read.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from victor_server.analytics import AnalyticsCoordinator, AnalyticsEvent, ExportResult
from victor_server.analytics.exporters import SQLiteExporter
from victor_server.analytics.protocol import PluginExporter
from victor_server.config import ConfigCoordinator, PluginConfigProvider, StaticConfigProvider
from victor_server.errors import SessionNotFound, Unauthorized
from victor_server.middleware.chain import (
    AuthenticationError,
    FunctionMiddleware,
    MethodCall,
    build_chain,
)
from victor_server.plugins import PluginFailed, Registry, instantiate
from victor_server.store import SqliteStore


class Seeded:
    """victor-ai's config provider shape with a high priority."""

    def __init__(self, config: dict[str, Any], priority: int = 100,
                 absolute: bool = False) -> None:
        self.config = config
        self._priority = priority
        self.absolute_priority = absolute

    def priority(self) -> int:
        return self._priority

    async def get_config(self, session_id: str) -> dict[str, Any]:
        return self.config


async def test_a_plugin_provider_ranks_above_the_file_below_tenant_and_override() -> None:
    coordinator = ConfigCoordinator([
        StaticConfigProvider("file", {"model": "from-file", "max_tokens": 1, "temperature": 0.1}),
        PluginConfigProvider("team", Seeded({"model": "from-plugin", "max_tokens": 2,
                                             "temperature": 0.2})),
        StaticConfigProvider("tenant", {"max_tokens": 3})])
    resolved = await coordinator.resolve(None, {"temperature": 0.4})
    assert resolved.settings.model == "from-plugin" and resolved.sources["model"] == "team"
    assert resolved.settings.max_tokens == 3 and resolved.sources["max_tokens"] == "tenant"
    assert resolved.settings.temperature == 0.4  # the per-request value


async def test_plugins_rank_by_their_own_priority_and_may_opt_out_explicitly() -> None:
    coordinator = ConfigCoordinator([
        PluginConfigProvider("high", Seeded({"model": "high"}, 100)),
        PluginConfigProvider("low", Seeded({"model": "low", "max_tokens": 5}, 50)),
        StaticConfigProvider("tenant", {"max_tokens": 3}),
        PluginConfigProvider("boss", Seeded({"max_tokens": 9, "temperature": 0.9}, 45,
                                            absolute=True))])
    resolved = await coordinator.resolve(None, {"temperature": 0.5})
    assert resolved.settings.model == "high"
    assert resolved.settings.max_tokens == 9  # 45 on the built-in scale: above tenant (40)
    assert resolved.settings.temperature == 0.5  # a per-request value always wins


async def test_a_failing_provider_is_an_empty_source_reported_through_the_hook() -> None:
    class Broken:
        def priority(self) -> int:
            return 1

        def get_config(self, session_id: str) -> Any:
            return ["not", "a", "mapping"]

    seen: list[Any] = []
    coordinator = ConfigCoordinator([PluginConfigProvider(
        "broken", Broken(), lambda name, exc: seen.append((name, exc)))])
    resolved = await coordinator.resolve("s")
    assert resolved.settings.model == "claude-sonnet-4-5"
    assert seen[0][0] == "broken" and "not a mapping" in str(seen[0][1])


def test_options_resolve_paths_against_the_workspace_and_fill_injected_names(
        tmp_path: Path) -> None:
    class Provider:
        def __init__(self, config_path: Path, project_path: str, log_file: str = "",
                     url: str = "") -> None:
            self.config_path, self.project_path = config_path, project_path
            self.log_file, self.url = log_file, url

    built = instantiate(Provider, {"config_path": "conf/team.yml", "log_file": "x.log",
                                   "url": "http://h/a"}, inject={"workspace": tmp_path})
    assert built.config_path == tmp_path / "conf" / "team.yml"
    assert built.project_path == str(tmp_path) and built.log_file == str(tmp_path / "x.log")
    assert built.url == "http://h/a"

    def factory(options: dict[str, Any]) -> dict[str, Any]:
        return options

    assert instantiate(factory, {"a": 1, "b": 2}, inject={"workspace": tmp_path}) == \
        {"a": 1, "b": 2}


def test_failures_are_recorded_with_their_package_and_logged_once(
        caplog: pytest.LogCaptureFixture) -> None:
    registry = Registry()
    registry._scanned = True  # this registry sees only what the test registers
    registry.register("prompt_contributors", "base", "victor_server.prompts.defaults:base",
                      builtin=True)
    shadow = registry.register("prompt_contributors", "base", "elsewhere:Base", "evil-pkg")
    assert shadow.status == "shadowed"
    registry.register("compaction_strategies", "gone", "no_such_module_here:X", "gone-pkg")
    registry.register("config_providers", "boom", f"{__name__}:Exploding", "boom-pkg")
    with caplog.at_level(logging.ERROR):
        for _ in range(3):
            with pytest.raises(PluginFailed):
                registry.load("compaction_strategies", "gone")
            assert registry.try_create("config_providers", "boom") is None
    logged = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(logged) == 2  # once each, not once per attempt
    errors = registry.errors()
    assert any("compaction_strategies/gone (gone-pkg) failed at import" in e for e in errors)
    assert any("config_providers/boom (boom-pkg) failed at construction: RuntimeError: no"
               in e for e in errors)
    assert [e.status for e in registry.installed("config_providers", ["boom"])] == []
    assert registry.get("config_providers", "boom").status == "disabled"


class Exploding:
    def __init__(self) -> None:
        raise RuntimeError("no")


def call(session: str | None = "s1") -> MethodCall:
    return MethodCall("lsp", "victor/getConfig", {"sessionId": session} if session else {})


async def endpoint(call: MethodCall) -> dict[str, Any]:
    return {"ok": call.method}


async def test_seed_middleware_functions_continue_answer_early_and_wrap() -> None:
    seen: list[Any] = []

    async def continues(orchestrator: Any, func: Any, *args: Any, **kwargs: Any) -> None:
        seen.append((func.__name__, args, kwargs["session_id"]))

    async def answers(orchestrator: Any, func: Any, *args: Any, **kwargs: Any) -> Any:
        return {"cached": True}

    async def wraps(orchestrator: Any, func: Any, *args: Any, **kwargs: Any) -> Any:
        result = await func(*args, **kwargs)
        await func(*args, **kwargs)  # calling it twice runs the chain once
        return {**result, "wrapped": True}

    chain = build_chain([FunctionMiddleware("c", continues, None)], endpoint)
    assert await chain(call()) == {"ok": "victor/getConfig"}
    assert seen == [("victor/getConfig", ({"sessionId": "s1"},), "s1")]
    assert await build_chain([FunctionMiddleware("a", answers, None)], endpoint)(call()) == \
        {"cached": True}
    assert await build_chain([FunctionMiddleware("w", wraps, None)], endpoint)(call()) == \
        {"ok": "victor/getConfig", "wrapped": True}


async def test_seed_middleware_errors_pass_skip_or_fail_closed() -> None:
    async def refuses(orchestrator: Any, func: Any, *args: Any, **kwargs: Any) -> None:
        if not kwargs.get("session_id"):
            raise AuthenticationError("No session_id provided")

    async def buggy(orchestrator: Any, func: Any, *args: Any, **kwargs: Any) -> None:
        raise KeyError("bug")

    async def logs(orchestrator: Any, func: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await func(*args, **kwargs)
        except Exception as exc:
            raise RuntimeError("logged") from exc

    async def missing(call: MethodCall) -> Any:
        raise SessionNotFound("s1")

    with pytest.raises(Unauthorized, match="No session_id provided"):
        await build_chain([FunctionMiddleware("auth", refuses, None)], endpoint)(call(None))
    reported: list[Any] = []
    skipped = FunctionMiddleware("b", buggy, None, on_error=lambda n, e: reported.append(n))
    assert await build_chain([skipped], endpoint)(call()) == {"ok": "victor/getConfig"}
    assert reported == ["b"]
    closed = FunctionMiddleware("my_auth", buggy, None, fails_closed=True)
    with pytest.raises(Unauthorized, match="my_auth failed: KeyError"):
        await build_chain([closed], endpoint)(call())
    with pytest.raises(SessionNotFound):  # the chain's own error reaches the client unchanged
        await build_chain([FunctionMiddleware("l", logs, None)], missing)(call())


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    opened = await SqliteStore(tmp_path / "victor.db").open()
    yield opened
    await opened.close()


class SeedExporter:
    """Returns victor-ai's ExportResult; down until told otherwise."""

    def __init__(self) -> None:
        self.down = True
        self.delivered: list[Any] = []

    async def export(self, events: list[Any]) -> ExportResult:
        if self.down:
            return ExportResult(success=False, error="receiver down")
        self.delivered += events
        return ExportResult(success=True, exported_count=len(events))


async def test_a_failed_export_result_is_parked_and_retried(store: SqliteStore) -> None:
    seed = SeedExporter()
    analytics = AnalyticsCoordinator(store, [SQLiteExporter(store),
                                             PluginExporter("seed", seed)])
    event = analytics.record("tool_call", "s1", None, name="read")
    assert event is not None
    await analytics.flush()
    assert await analytics.drain(10)
    assert await store.dead_letter_counts() == {"seed": 1}
    seed.down = False
    assert await analytics.retry_dead_letters(now=time.time() + 10**6) == 1
    (published,) = seed.delivered
    assert published.data["tool"] == "read" and published.timestamp.year >= 2026
    assert await store.dead_letter_counts() == {}
    await analytics.close()


def test_the_published_event_keeps_epoch_and_old_names() -> None:
    event = AnalyticsEvent("token_usage", "s", "acme", {"input_tokens": 3, "output_tokens": 4,
                                                         "variant": "b"}, timestamp=0.5)
    data = event.to_json()
    assert data["timestamp"] == "1970-01-01T00:00:00.500000Z" and data["epoch"] == 0.5
    assert data["data"]["total_tokens"] == 7 and data["data"]["input_tokens"] == 3
    assert data["tenant"] == data["tenant_id"] == "acme" and data["variant"] == "b"
    assert AnalyticsEvent.from_json(data).timestamp == 0.5
    assert AnalyticsEvent.from_json({**data, "epoch": None, "timestamp": 2.0}).timestamp == 2.0


def test_published_events_match_the_shipped_schema() -> None:
    import json
    from importlib.resources import files

    import jsonschema

    schema = json.loads(files("victor_server.analytics").joinpath("event.schema.json")
                        .read_text())
    for event in (AnalyticsEvent("token_usage", "s", None, {"input_tokens": 1,
                                                            "output_tokens": 2}),
                  AnalyticsEvent("tool_call", "s", "acme", {"name": "read"})):
        jsonschema.validate(event.to_json(), schema,
                            format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


async def test_plugins_disabled_applies_to_strategies_too() -> None:
    from victor_server.context import ContextCoordinator
    from victor_server.messages import Message
    from victor_server.selection.coordinator import ToolSelectionCoordinator
    from victor_server.tools.base import ToolSpec

    history = [Message("user" if i % 2 == 0 else "assistant", f"turn {i}", seq=i)
               for i in range(12)]
    compacted = await ContextCoordinator("recent", disabled=["recent"],
                                         use_shared_embedder=False).compact(history)
    assert compacted.ran == "recent_important"
    assert compacted.fallback is not None and "plugins.disabled" in compacted.fallback
    tools = [ToolSpec("read", "Read a file"), ToolSpec("write", "Write a file")]
    selection = ToolSelectionCoordinator("cost_aware", {"plugins_disabled": ["cost_aware"]})
    result = await selection.select("read the file", tools)
    assert result.fallback is not None and "plugins.disabled" in result.fallback
    assert result.tools[0].spec.name == "read"


async def test_wired_built_ins_are_listed_but_not_names_config_can_use() -> None:
    from victor_server.plugins import REGISTRY, available

    listed = {f"{e.kind}/{e.name}" for e in REGISTRY.extensions() if e.wired}
    assert {"config_providers/env", "config_providers/file", "tools/bash",
            "prompt_contributors/tenant_prompt"} <= listed
    assert "bash" not in available("tools") and "env" not in available("config_providers")
    assert "base" in available("prompt_contributors")  # built like a plugin: a usable name
    # so a top-level key that is a wired built-in's name is still an unknown key
    resolved = await ConfigCoordinator([StaticConfigProvider("file", {
        "bash": {"enabled": True}})]).resolve()
    assert any("unknown config key `bash`" in e for e in resolved.errors), resolved.errors
