"""ConfigCoordinator: merge providers by priority, validate, and remember each key's source.

A key that fails validation is dropped from the source that gave it (the next source down
takes over) and reported in ``errors`` naming key and source, so a bad project file degrades to
defaults instead of stopping the server. A bad per-request override is the caller's mistake and
raises ``InvalidParams`` naming the key. Unknown keys (``provder:``) and files that do not parse
are reported there too. ``errors`` is the one list every config problem goes to (it is what
``victor/getConfig`` answers); each distinct message is also logged once per process, however
many requests resolve the same config.
"""

from __future__ import annotations

import copy
import json
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from victor_server.config.providers import (
    ConfigProvider,
    PluginConfigProvider,
    StaticConfigProvider,
)
from victor_server.config.unknown_keys import unknown_key_errors
from victor_server.errors import InvalidParams
from victor_server.logging_redaction import redact
from victor_server.settings import NESTED_SECTIONS, Settings

logger = logging.getLogger(__name__)



@dataclass
class ResolvedConfig:
    settings: Settings
    sources: dict[str, str]
    errors: list[str] = field(default_factory=list)

    def public_config(self) -> dict[str, Any]:
        """The merged config with secret-looking values masked, for clients and logs."""
        public: dict[str, Any] = redact(self.settings.model_dump(mode="json"))
        return public


class ConfigCoordinator:
    def __init__(self, providers: list[ConfigProvider] | None = None) -> None:
        self._providers: list[ConfigProvider] = []
        for provider in providers or []:
            self.add_provider(provider)
        self._defaults = Settings().model_dump()
        from victor_server.plugins import REGISTRY

        REGISTRY.in_use("config_providers", "default")  # always the first layer
        REGISTRY.in_use("config_providers", "override")  # per-request values, always last
        # Resolved configs by the exact layers they came from: most requests see the same
        # layers, and validation is the expensive part.
        self._cache: OrderedDict[str, ResolvedConfig] = OrderedDict()
        self._logged: set[str] = set()

    def source_file(self, source: str) -> Path | None:
        """The file behind a config source (the project file's path), or None."""
        for provider in self._providers:
            if provider.name == source:
                path = getattr(provider, "path", None)
                return Path(path) if path else None
        return None

    def add_provider(self, provider: ConfigProvider) -> None:
        from victor_server.plugins import REGISTRY

        self._providers.append(_adapted(provider))
        REGISTRY.in_use("config_providers", str(getattr(provider, "name", "")))

    @property
    def providers(self) -> list[ConfigProvider]:
        # plugin providers share one rank and are ordered by their own priority within it
        return sorted(self._providers,
                      key=lambda p: (p.priority(), getattr(p, "plugin_priority", 0)))

    async def resolve(self, session_id: str | None = None,
                      override: dict[str, Any] | None = None) -> ResolvedConfig:
        layers: list[tuple[str, dict[str, Any]]] = [("default", self._defaults)]
        providers = self.providers
        if override:
            providers = [*providers, StaticConfigProvider("override", override)]
        errors: list[str] = []
        for provider in providers:
            try:
                data = await provider.get_config(session_id)
            except Exception as exc:  # a broken plugin provider is skipped, not fatal
                errors.append(f"{provider.name}: {exc}")
                continue
            if data:
                layers.append((provider.name, data))
            last_error = getattr(provider, "last_error", None)
            if last_error:
                errors.append(str(last_error))
        key = json.dumps([layers[1:], errors], sort_keys=True, default=str)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        # origins name the file behind a source, for error messages; only a cache miss
        # validates, so only then are the providers' paths looked up (a stat each)
        origins: dict[str, str] = {}
        for provider in providers:
            path = getattr(provider, "path", None)
            origins[provider.name] = f"{provider.name} ({path})" if path else provider.name
        resolved = self._validate(copy.deepcopy(layers), errors, origins)
        resolved.errors.extend(unknown_key_errors(layers, origins))
        self._log_once(resolved.errors)
        self._cache[key] = resolved
        if len(self._cache) > 256:
            self._cache.popitem(last=False)
        return resolved

    def _validate(self, layers: list[tuple[str, dict[str, Any]]], errors: list[str],
                  origins: dict[str, str]) -> ResolvedConfig:
        for _ in range(64):  # each pass drops one offending key
            merged, sources = merge_layers(layers)
            try:
                return ResolvedConfig(Settings.model_validate(merged), sources, errors)
            except ValidationError as exc:
                first = exc.errors()[0]
                loc = [str(p) for p in first["loc"]]
                key = ".".join(loc)
                source = source_of(sources, loc)
                if source == "override":
                    raise InvalidParams(f"config.{key}", first["msg"]) from exc
                origin = origins.get(source, source)
                errors.append(f"invalid config key {key} from {origin}: {first['msg']}; "
                              "using the next source's value")
                if not drop_key(layers, source, loc):
                    break
        return ResolvedConfig(Settings(), {}, [*errors, "config invalid; using defaults"])

    def _log_once(self, errors: list[str]) -> None:
        for message in errors:
            if message not in self._logged:
                if len(self._logged) > 1024:
                    self._logged.clear()
                self._logged.add(message)
                logger.error("%s", message)


def _adapted(provider: Any) -> Any:
    """A user's provider object, handed in directly (as victor-ai's examples do), ranks and
    fails like an installed one, under its class name."""
    if type(provider).__module__.startswith("victor_server."):
        return provider
    return PluginConfigProvider(str(getattr(provider, "name", type(provider).__name__)),
                                provider)


def merge_layers(layers: list[tuple[str, dict[str, Any]]]) -> tuple[dict[str, Any], dict[str, str]]:
    merged: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name, data in layers:
        for key, value in data.items():
            if key in NESTED_SECTIONS and isinstance(value, dict):
                section = merged.setdefault(key, {})
                if not isinstance(section, dict):
                    section = merged[key] = {}
                for sub, sub_value in value.items():
                    section[sub] = sub_value
                    sources[f"{key}.{sub}"] = name
            else:
                merged[key] = value
                sources[key] = name
    return merged, sources


def source_of(sources: dict[str, str], loc: list[str]) -> str:
    for depth in range(len(loc), 0, -1):
        found = sources.get(".".join(loc[:depth]))
        if found:
            return found
    return "default"


def drop_key(layers: list[tuple[str, dict[str, Any]]], source: str, loc: list[str]) -> bool:
    for name, data in reversed(layers):
        if name != source or name == "default":
            continue
        node: Any = data
        for part in loc[:-1]:
            if not isinstance(node, dict) or part not in node:
                break
            if part in NESTED_SECTIONS:
                node = node[part]
                continue
            # a key deeper than we report (list item, mcp server field): drop the whole key
            data.pop(loc[0], None)
            return True
        else:
            if isinstance(node, dict) and loc[-1] in node:
                node.pop(loc[-1])
                return True
        if loc[0] in data:
            data.pop(loc[0])
            return True
    return False
