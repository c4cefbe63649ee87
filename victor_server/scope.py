"""Who is asking: the tenant a request acts for, set by the auth middleware of each face.

``tenant_id`` None with ``authenticated`` False is the single-user default (no auth configured):
such a caller sees every session. An authenticated caller sees only its tenant's.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RequestScope:
    tenant_id: str | None = None
    authenticated: bool = False

    def qualify(self, session_id: str) -> str:
        """An authenticated client's bare session ids get its tenant's prefix."""
        if self.authenticated and self.tenant_id and ":" not in session_id:
            return f"{self.tenant_id}:{session_id}"
        return session_id

    def can_see(self, session_tenant: str | None) -> bool:
        if not self.authenticated:
            return True
        return session_tenant == self.tenant_id


def tenant_of(session_id: str) -> str | None:
    """``tenant:rest`` belongs to ``tenant``; ids without a prefix belong to no tenant."""
    prefix, sep, rest = session_id.partition(":")
    return prefix if sep and prefix and rest else None


DEFAULT_SCOPE = RequestScope()
