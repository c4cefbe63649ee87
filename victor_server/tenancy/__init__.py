"""Tenancy: tenant config and prompts from the store, and A/B tests over sessions.

``Tenancy`` is one of the parts an ``AgentOrchestrator`` is built with (its ``tenancy``
argument; the default reads ``tenants:`` and ``ab_test:`` from the config). Once the store is
open, ``start()`` asks it to seed ``tenants:`` into the store and for the sources it
contributes: ``TenantConfigProvider`` and ``ABTestConfigProvider`` (when there is an
experiment) as config sources, ``TenantPromptContributor`` in every prompt coordinator the
orchestrator builds. Nothing here reaches into the orchestrator. Visibility (who may see which
session) is the request scope's job (``victor_server.scope``), set by the auth middleware.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from victor_server.tenancy.ab_test import ABTestConfigProvider, Experiment
from victor_server.tenancy.tenants import (
    TenantConfigProvider,
    TenantPromptContributor,
    seed_tenants,
)

if TYPE_CHECKING:
    from victor_server.store import Store

_FROM_CONFIG: Any = object()


class Tenancy:
    """Tenant rows and the A/B experiment, from the arguments or else from the config.

    ``Tenancy()`` takes ``tenants:`` and ``ab_test:`` from the settings the orchestrator
    resolves at start; ``Tenancy(tenants={...}, ab_test={...})`` fixes them (``ab_test=None``:
    no experiment, whatever the config says)."""

    def __init__(self, tenants: Mapping[str, Any] | None = _FROM_CONFIG,
                 ab_test: Any = _FROM_CONFIG) -> None:
        self._tenants = tenants
        self._ab_test = ab_test

    def _tenants_in(self, settings: Any) -> Mapping[str, Any]:
        if self._tenants is _FROM_CONFIG:
            return getattr(settings, "tenants", None) or {}
        return self._tenants or {}

    def experiment(self, settings: Any) -> Experiment | None:
        raw = getattr(settings, "ab_test", None) if self._ab_test is _FROM_CONFIG \
            else self._ab_test
        return Experiment.from_config(raw)

    async def seed(self, store: Store, settings: Any) -> list[str]:
        """Write the tenants into the store (rows that differ only); returns their names."""
        return await seed_tenants(store, self._tenants_in(settings))

    def config_providers(self, store: Store, experiment: Experiment | None,
                         analytics: Any = None) -> list[Any]:
        """The config sources: tenant rows, then the A/B variant when there is an experiment
        (``experiment(settings)``; its assignments are recorded through ``analytics``)."""
        providers: list[Any] = [TenantConfigProvider(store)]
        if experiment is not None:
            providers.append(ABTestConfigProvider(store, experiment, analytics))
        return providers

    def prompt_contributors(self, store: Store) -> list[Any]:
        """The prompt contributors: the tenant's template."""
        return [TenantPromptContributor(store)]


__all__ = ["ABTestConfigProvider", "Experiment", "Tenancy", "TenantConfigProvider",
           "TenantPromptContributor", "seed_tenants"]
