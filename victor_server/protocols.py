"""The extension shapes under the names victor-ai's coordinator API exports them by.

A class written against victor-ai's ``victor.protocols`` (and its coordinator modules' base
classes) runs here with its import lines pointed at this module; nothing else changes. Each
name is the server's own type, or a small base class beside its Protocol:

======================================  ==================================================
``IConfigProvider``                     ``priority()``, ``async get_config(session_id)``
``ConfigCoordinator``                   ``async load_config(session_id)`` (an A/B test)
``IPromptContributor``,                 ``priority()``, ``async get_contribution(context)``
``BasePromptContributor``, ``PromptContext``
``Context``, ``Message``,               ``async compact(context) -> Context``
``BaseCompactionStrategy``
``IAnalyticsExporter``,                 ``async export(events) -> ExportResult``
``BaseAnalyticsExporter``, ``ExportResult``, ``AnalyticsEvent``
``IToolSelectionStrategy``, ``Tool``,   ``async select_tools(query, available_tools,
``IToolSelectionCoordinator``           selection_coordinator) -> list[Tool]``
``KeywordDomainClassifier``             ``async classify(query) -> domain`` from config words
``AuthenticationError``                 raised by a middleware to refuse a call (-32004)
======================================  ==================================================

How each is found and configured is in docs/plugins.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from victor_server.analytics.events import PublishedEvent as AnalyticsEvent
from victor_server.analytics.protocol import BaseAnalyticsExporter, ExportResult
from victor_server.context.strategies.base import BaseCompactionStrategy
from victor_server.domain_classifier import KeywordDomainClassifier
from victor_server.messages import Context, Message
from victor_server.middleware.chain import AuthenticationError
from victor_server.prompts.contributors import BasePromptContributor
from victor_server.prompts.coordinator import PromptContext
from victor_server.selection.coordinator import ToolSelectionCoordinator
from victor_server.tools.base import ToolSpec as Tool

IPromptContributor = BasePromptContributor
IAnalyticsExporter = BaseAnalyticsExporter
IToolSelectionCoordinator = ToolSelectionCoordinator


class IConfigProvider:
    """A config source: a nested dict per session. Installed providers rank above the project
    file and below A/B variants, tenants and per-request values; set ``absolute_priority =
    True`` to be placed by ``priority()`` among the built-in sources instead."""

    absolute_priority = False

    def priority(self) -> int:
        return 50

    async def get_config(self, session_id: str) -> dict[str, Any]:
        return {}


class ConfigCoordinator(IConfigProvider):
    """victor-ai's ``ConfigCoordinator``, for a subclass that decides a session's whole config
    (an A/B test assigning sessions to variants): override
    ``async load_config(session_id, config_override=None)``. Installed as a config provider, it
    ranks where the built-in ``ab_test`` does (above the project file and other installed
    providers, below tenant rows and per-request values). A ``session_assignments`` mapping
    (session id -> variant name) on the object names the session's variant, which chat results
    and analytics events then carry as they do the built-in experiment's. Server-wide lookups
    (no session) get nothing from it, so no variant leaks into the base config."""

    absolute_priority = True
    session_scoped = True  # not asked for server-wide lookups

    def priority(self) -> int:
        return 30  # the built-in A/B test's rank

    async def load_config(self, session_id: str,
                          config_override: dict[str, Any] | None = None) -> dict[str, Any]:
        return {}

    async def get_config(self, session_id: str) -> dict[str, Any]:
        if not session_id:
            return {}
        config = dict(await self.load_config(session_id) or {})
        assignments = getattr(self, "session_assignments", None)
        variant = assignments.get(session_id) if isinstance(assignments, Mapping) else None
        if variant is not None:
            config.setdefault("ab_variant", str(variant))
        return config


class IToolSelectionStrategy:
    """Which tools the model is offered: override ``select_tools``."""

    async def select_tools(self, query: str, available_tools: list[Tool],
                           selection_coordinator: ToolSelectionCoordinator) -> list[Tool]:
        return list(available_tools)


__all__ = [
    "AnalyticsEvent", "AuthenticationError", "BaseAnalyticsExporter", "BaseCompactionStrategy",
    "BasePromptContributor", "ConfigCoordinator", "Context", "ExportResult",
    "IAnalyticsExporter", "IConfigProvider", "IPromptContributor", "IToolSelectionCoordinator",
    "IToolSelectionStrategy", "KeywordDomainClassifier", "Message", "PromptContext", "Tool",
]
