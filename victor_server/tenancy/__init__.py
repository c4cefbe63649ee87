"""Tenancy: tenant config and prompts from the store, and A/B tests over sessions.

``install_tenancy(orchestrator, settings)`` is what ``AgentOrchestrator.start()`` calls once the
store is open: it seeds ``tenants:`` into the store and adds ``TenantConfigProvider``,
``ABTestConfigProvider`` (when ``ab_test:`` is set) and ``TenantPromptContributor`` to the
orchestrator's coordinators. Visibility (who may see which session) is the request scope's
job (``victor_server.scope``), set by the auth middleware.
"""

from __future__ import annotations

from typing import Any

from victor_server.tenancy.ab_test import ABTestConfigProvider, Experiment
from victor_server.tenancy.tenants import (
    TenantConfigProvider,
    TenantPromptContributor,
    seed_tenants,
)


async def install_tenancy(orchestrator: Any, settings: Any) -> None:
    await seed_tenants(orchestrator.store, getattr(settings, "tenants", None) or {})
    present = {getattr(p, "name", None) for p in orchestrator.config.providers}
    if "tenant" not in present:
        orchestrator.config.add_provider(TenantConfigProvider(orchestrator.store))
    experiment = Experiment.from_config(getattr(settings, "ab_test", None))
    if experiment is not None:  # the summary names what each variant sets
        orchestrator.analytics.variant_settings = {
            name: experiment.settings_of(name) for name in experiment.variants}
    if experiment is not None and "ab_test" not in present:
        orchestrator.config.add_provider(
            ABTestConfigProvider(orchestrator.store, experiment, orchestrator.analytics))
    prompts = orchestrator.prompts
    if prompts is not None and not any(getattr(c, "name", None) == "tenant_prompt"
                                       for c in prompts.contributors):
        prompts.add_contributor(TenantPromptContributor(orchestrator.store))


__all__ = ["ABTestConfigProvider", "Experiment", "TenantConfigProvider",
           "TenantPromptContributor", "install_tenancy", "seed_tenants"]
