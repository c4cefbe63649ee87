"""The ``auth`` middleware: a token names a tenant, and the call then acts for that tenant.

Config: ``{auth: {tokens: {"token-for-acme": acme}}}``. A client presents its token as LSP
``initializationOptions.authToken``, env ``VICTOR_AUTH_TOKEN`` or MCP/ACP ``_meta.authToken``;
the face hands it over as ``credentials["auth_token"]``. A missing or unknown token is
``Unauthorized`` (-32004); a known one sets ``call.scope`` to the tenant, authenticated, which
the orchestrator applies to every session and analytics lookup.

Besides that, auth refuses early (-32001) a call naming a session outside the caller's tenant,
whatever the method, so isolation does not rest on each handler remembering to check; and it
trims ``victor/getConfig`` to what a tenant may see (its own ``tenants`` entry, middleware by
name only), because the server's config lists every tenant and who holds which token.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from victor_server.errors import SessionNotFound, Unauthorized
from victor_server.logging_redaction import add_secret
from victor_server.middleware.chain import CallNext, MethodCall
from victor_server.scope import RequestScope, tenant_of

logger = logging.getLogger(__name__)


class AuthMiddleware:
    name = "auth"

    def __init__(self, tokens: dict[str, str] | None = None, **unknown: Any) -> None:
        if unknown:
            logger.warning("auth middleware: unknown options ignored: %s", sorted(unknown))
        if tokens is not None and not isinstance(tokens, dict):
            raise ValueError("auth.tokens must map token -> tenant")
        self._tokens = {str(token): str(tenant) for token, tenant in (tokens or {}).items()}
        for tenant in self._tokens.values():
            if not tenant or ":" in tenant:
                raise ValueError(f"auth.tokens: {tenant!r} is not a tenant name (no ':')")
        for token in self._tokens:
            add_secret(token)
        if not self._tokens:
            logger.warning("auth middleware has no tokens: every request will be refused")

    def tenant_for(self, token: Any) -> str | None:
        if not isinstance(token, str) or not token:
            return None
        found = None
        for known, tenant in self._tokens.items():
            # compare against every token: the time taken says nothing about which one matched
            if hmac.compare_digest(known.encode(), token.encode()):
                found = tenant
        return found

    async def __call__(self, call: MethodCall, call_next: CallNext) -> Any:
        tenant = self.tenant_for(call.credentials.get("auth_token"))
        if tenant is None:
            raise Unauthorized()
        call.scope = RequestScope(tenant, authenticated=True)
        session_id = call.session_id
        if session_id and tenant_of(call.scope.qualify(session_id)) != tenant:
            raise SessionNotFound(session_id)
        result = await call_next(call)
        if call.method == "victor/getConfig" and isinstance(result, dict):
            return tenant_view_of_config(result, tenant)
        return result


def tenant_view_of_config(result: dict[str, Any], tenant: str) -> dict[str, Any]:
    config = dict(result.get("config") or {})
    tenants = config.get("tenants")
    if isinstance(tenants, dict):
        config["tenants"] = {k: v for k, v in tenants.items() if k == tenant}
    middleware = config.get("middleware")
    if isinstance(middleware, list):
        config["middleware"] = [entry if isinstance(entry, str) else next(iter(entry), "?")
                                for entry in middleware if isinstance(entry, str | dict)]
    return {**result, "config": config}
