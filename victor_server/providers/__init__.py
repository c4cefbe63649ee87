"""LLM providers behind one Protocol; chosen by config ``provider`` through the registry."""

from __future__ import annotations

import json
import logging
from typing import Any

from victor_server.errors import ProviderUnavailable
from victor_server.plugins import REGISTRY, PluginFailed, PluginNotFound
from victor_server.providers.base import LLMProvider, ModelRequest
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
    return provider


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


__all__ = ["LLMProvider", "ModelRequest", "Providers", "create_provider"]
