"""The store: everything the server keeps, behind one protocol with two backends.

``Store`` (``protocols.py``) is the type the rest of the server holds, split by concern into
narrower protocols (sessions, messages, events, dead letters, tenants, approvals, the embedding
cache). ``SqliteStore`` (``sqlite.py``, the embedded default) and ``PostgresStore``
(``postgres.py``, a team's shared database) implement it; ``factory.make_store`` picks one from
the settings. The store owns its schema (numbered migrations per backend) and is the only
place that writes SQL.

``PostgresStore`` is not imported here: asyncpg and the PostgreSQL modules load only when a
PostgreSQL URL is configured.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from victor_server.store.protocols import (
    ApprovalStore,
    DeadLetterStore,
    EmbeddingCache,
    EventStore,
    MessageStore,
    SessionStore,
    Store,
    StoreLifecycle,
    TenantStore,
)
from victor_server.store.queries import SessionRow
from victor_server.store.sqlite import SqliteStore, describe_failure

if TYPE_CHECKING:
    from victor_server.store.postgres import PostgresStore

    def _both_backends_are_stores(sqlite: SqliteStore, postgres: PostgresStore) -> list[Store]:
        """Never called: mypy proves here that each backend satisfies the whole protocol."""
        return [sqlite, postgres]

__all__ = ["ApprovalStore", "DeadLetterStore", "EmbeddingCache", "EventStore", "MessageStore",
           "SessionRow", "SessionStore", "SqliteStore", "Store", "StoreLifecycle", "TenantStore",
           "describe_failure"]
