"""Tenants: a session id ``tenant:rest`` belongs to ``tenant``.

A tenant's config (``tenant_configs``) and prompt template (``tenant_prompt_templates``) live in
the store, so every process serving the same store agrees on them and an operator can change a
tenant without restarting. ``tenants:`` in the project config seeds those rows at start::

    tenants:
      acme: {config: {max_tokens: 2048}, prompt_template: "You serve ACME's engineers."}

They enter a turn through two extension points: ``TenantConfigProvider`` (source
name ``tenant``, above the A/B variant and below a per-request override) and
``TenantPromptContributor``. Both read the store on every call rather than caching, because
another process may have changed the row; each read is one primary-key lookup.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from victor_server.config.providers import PRIORITY
from victor_server.scope import tenant_of
from victor_server.store import Store

logger = logging.getLogger(__name__)


class TenantConfigProvider:
    name = "tenant"

    def __init__(self, store: Store) -> None:
        self.store = store

    def priority(self) -> int:
        return PRIORITY["tenant"]

    async def get_config(self, session_id: str | None) -> dict[str, Any]:
        tenant = tenant_of(session_id) if session_id else None
        if tenant is None:
            return {}
        return await self.store.get_tenant_config(tenant)


class TenantPromptContributor:
    """The tenant's template, right after the base prompt and before the project's files."""

    name = "tenant_prompt"

    def __init__(self, store: Store) -> None:
        self.store = store

    def priority(self) -> int:
        return 95

    async def get_contribution(self, context: Mapping[str, Any]) -> str:
        tenant = context.get("tenant_id")
        if not tenant and context.get("session_id"):
            tenant = tenant_of(str(context["session_id"]))
        if not tenant:
            return ""
        return await self.store.get_tenant_prompt_template(str(tenant)) or ""


async def seed_tenants(store: Store, tenants: Mapping[str, Any]) -> list[str]:
    """Write ``tenants:`` from config into the store; returns the tenants seeded.

    The file is the source of truth for the tenants it names, so a changed entry replaces the
    stored row; rows are written only when they differ, so many processes starting on one store
    do not contend for the write lock. An invalid entry is logged and skipped.
    """
    seeded = []
    for tenant, entry in (tenants or {}).items():
        if not isinstance(tenant, str) or not tenant or ":" in tenant:
            logger.error("tenants: %r is not a tenant name (no ':'); skipped", tenant)
            continue
        if not isinstance(entry, Mapping):
            logger.error("tenants.%s: expected {config: {...}, prompt_template: ...}", tenant)
            continue
        config, template = entry.get("config"), entry.get("prompt_template")
        if config is not None and not isinstance(config, Mapping):
            logger.error("tenants.%s.config must be a mapping; skipped", tenant)
            config = None
        if template is not None and not isinstance(template, str):
            logger.error("tenants.%s.prompt_template must be text; skipped", tenant)
            template = None
        if config is not None and await store.get_tenant_config(tenant) != dict(config):
            await store.set_tenant_config(tenant, dict(config))
        if template is not None and await store.get_tenant_prompt_template(tenant) != template:
            await store.set_tenant_prompt_template(tenant, template)
        seeded.append(tenant)
    return seeded
