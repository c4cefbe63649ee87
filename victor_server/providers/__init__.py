"""LLM providers behind one Protocol; chosen by config ``provider`` through the registry."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from victor_server.errors import ProviderUnavailable, VictorError
from victor_server.plugins import REGISTRY, PluginFailed, PluginNotFound
from victor_server.providers.base import LLMProvider, ModelRequest, ProviderEvent
from victor_server.settings import Settings


def create_provider(settings: Settings) -> LLMProvider:
    """The provider config names, with the options its section gives."""
    name = settings.provider
    options: dict[str, Any] = dict(getattr(settings, name, None) or {}) \
        if isinstance(getattr(settings, name, None), dict) else {}
    if name == "openai" and settings.base_url and "base_url" not in options:
        options["base_url"] = settings.base_url
    try:
        provider: LLMProvider = REGISTRY.create("victor_server.providers", name, options,
                                                disabled=settings.plugins.disabled)
    except (PluginNotFound, PluginFailed) as exc:
        raise ProviderUnavailable(name, str(exc)) from exc
    if not REGISTRY.get("providers", name).builtin:
        return PluginProvider(name, provider)
    return provider


class PluginProvider:
    """An installed provider: an unexpected exception from its stream is that provider failing
    (-32002 naming it, recorded and logged once as a call-time failure), not a server bug."""

    def __init__(self, name: str, provider: Any) -> None:
        self.plugin = provider
        self.name = str(getattr(provider, "name", name) or name)
        self._entry = name

    async def stream(self, request: ModelRequest) -> AsyncIterator[ProviderEvent]:
        try:
            async for event in self.plugin.stream(request):
                yield event
        except VictorError:
            raise
        except Exception as exc:
            reason = REGISTRY.call_failed("providers", self._entry, exc)
            raise ProviderUnavailable(self._entry, reason) from exc

    async def count_tokens(self, request: ModelRequest) -> int | None:
        counter = getattr(self.plugin, "count_tokens", None)
        if counter is None:
            return None
        try:
            count = await counter(request)
        except Exception as exc:  # a count is an estimate's refinement: fall back to the estimate
            REGISTRY.call_failed("providers", self._entry, exc)
            return None
        return int(count) if count is not None else None

    async def aclose(self) -> None:
        closer = getattr(self.plugin, "aclose", None)
        if closer is not None:
            await closer()

    def __getattr__(self, name: str) -> Any:  # check_ready and whatever else it offers
        return getattr(self.plugin, name)


class Providers:
    """The providers a server uses, one per distinct provider config, built on first use and
    closed together; or the one ``fixed`` provider, whatever the config says (an embedding
    program or a test passes its own)."""

    def __init__(self, fixed: LLMProvider | None = None) -> None:
        self.fixed = fixed
        self._built: dict[str, LLMProvider] = {}

    def for_settings(self, settings: Settings) -> LLMProvider:
        if self.fixed is not None:
            return self.fixed
        key = self.key(settings)
        if key not in self._built:
            self._built[key] = create_provider(settings)
        return self._built[key]

    @staticmethod
    def key(settings: Settings) -> str:
        return json.dumps([settings.provider, settings.base_url,
                           getattr(settings, settings.provider, None)], default=str)

    async def aclose(self) -> None:
        for provider in self._built.values():
            try:
                await provider.aclose()
            except Exception as exc:
                logging.getLogger(__name__).debug("provider close failed: %s", exc)


__all__ = ["LLMProvider", "ModelRequest", "PluginProvider", "Providers", "create_provider"]
