"""Session operations, scoped by tenant: ``Sessions``, a part the orchestrator is composed of.

A chat may name a session that does not exist yet (it is created under that id, titled with
the first line of its first message); every other method needs a session the caller can see.
An authenticated caller's bare ids get its tenant's prefix, and a session of another tenant is
reported as not found (-32001), never as forbidden, so ids do not leak across tenants. Deleted
ids are never reused.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from victor_server.api_models import Session, SessionList, SessionWithMessages, StoredMessage
from victor_server.errors import InvalidParams, SessionNotFound
from victor_server.scope import DEFAULT_SCOPE, RequestScope, tenant_of
from victor_server.store import SessionRow

if TYPE_CHECKING:
    from collections.abc import Mapping

    from victor_server.analytics import AnalyticsCoordinator
    from victor_server.context.coordinator import ContextCoordinator
    from victor_server.store import Store


class Sessions:
    """The session methods over a store. ``contexts`` are the context coordinators whose
    per-session state (a carried compaction) a deleted session must not leave behind."""

    def __init__(self, store: Store, analytics: AnalyticsCoordinator,
                 contexts: Mapping[Any, ContextCoordinator] | None = None) -> None:
        self.store = store
        self.analytics = analytics
        self.contexts: Mapping[Any, ContextCoordinator] = contexts if contexts is not None \
            else {}

    # ---- sessions ------------------------------------------------------------------------

    async def session_for_chat(self, session_id: str | None,
                               scope: RequestScope) -> tuple[str, SessionRow | None]:
        """The id a chat writes to and its row, None when new (a chat may name a new id).

        A new session is created by the chat itself, once the turn can run, so a chat that
        fails before anything is stored leaves no empty session behind."""
        if not session_id:
            session_id = scope.qualify(uuid.uuid4().hex)
        else:
            session_id = scope.qualify(session_id)
        row = await self.store.get_session(session_id)
        if row is not None:
            if not scope.can_see(row.tenant_id):
                raise SessionNotFound(session_id)
        return session_id, row

    async def create_session(self, session_id: str | None = None, tenant_id: str | None = None,
                             title: str | None = None,
                             scope: RequestScope = DEFAULT_SCOPE) -> SessionRow:
        session_id = scope.qualify(session_id or uuid.uuid4().hex)
        owner = tenant_of(session_id)
        if tenant_id is not None and owner is not None and tenant_id != owner:
            raise InvalidParams("tenantId", f"session id {session_id!r} belongs to {owner!r}")
        owner = owner or tenant_id
        if owner and not scope.can_see(owner):
            raise SessionNotFound(session_id)
        if await self.store.get_session(session_id) is not None:
            raise InvalidParams("sessionId", f"session {session_id!r} already exists")
        if await self.store.was_deleted(session_id):
            raise InvalidParams("sessionId", f"session {session_id!r} was deleted; "
                                "session ids are never reused")
        row = await self.store.create_session(session_id, owner, title)
        self.analytics.record("session_start", session_id, owner)
        return row

    async def visible_session(self, session_id: str, scope: RequestScope) -> SessionRow:
        if not isinstance(session_id, str) or not session_id:
            raise InvalidParams("sessionId", "a non-empty string is required")
        qualified = scope.qualify(session_id)
        row = await self.store.get_session(qualified)
        if row is None or not scope.can_see(row.tenant_id):
            raise SessionNotFound(session_id)
        return row

    async def validate_session(self, session_id: str | None,
                               scope: RequestScope = DEFAULT_SCOPE) -> bool:
        """True when ``session_id`` names a stored session the scope may see (the check victor-ai's
        authentication middleware example makes)."""
        if not isinstance(session_id, str) or not session_id:
            return False
        row = await self.store.get_session(scope.qualify(session_id))
        return row is not None and scope.can_see(row.tenant_id)

    async def get_session(self, session_id: str,
                          scope: RequestScope = DEFAULT_SCOPE) -> SessionWithMessages:
        row = await self.visible_session(session_id, scope)
        messages = await self.store.get_messages(row.session_id)
        return SessionWithMessages.from_row(row, messages=[
            StoredMessage(role=m.role, content=m.content, created_at=m.created_at, seq=m.seq,
                          complete=m.complete, pinned=m.pinned) for m in messages])

    async def list_sessions(self, tenant_id: str | None = None, limit: int = 50,
                            cursor: str | None = None,
                            scope: RequestScope = DEFAULT_SCOPE) -> SessionList:
        if scope.authenticated:
            if tenant_id is not None and tenant_id != scope.tenant_id:
                return SessionList(sessions=[])
            tenant_id, all_tenants = scope.tenant_id, False
        else:
            all_tenants = tenant_id is None
        rows, next_cursor = await self.store.list_sessions(tenant_id, limit, cursor, all_tenants)
        return SessionList(sessions=[Session.from_row(r) for r in rows],
                           next_cursor=next_cursor or None)

    async def delete_session(self, session_id: str, scope: RequestScope = DEFAULT_SCOPE) -> bool:
        row = await self.visible_session(session_id, scope)
        for coordinator in self.contexts.values():
            coordinator.forget(row.session_id)
        return await self.store.delete_session(row.session_id)



def title_from(message: str) -> str:
    """A session's title from its first message: the first non-blank line, at most 60 chars."""
    line = next((ln.strip() for ln in message.splitlines() if ln.strip()), "")
    return line if len(line) <= 60 else line[:59].rstrip() + "…"
