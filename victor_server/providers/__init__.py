"""LLM providers behind one Protocol; chosen by config ``provider`` through the registry."""

from __future__ import annotations

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


__all__ = ["LLMProvider", "ModelRequest", "create_provider"]
