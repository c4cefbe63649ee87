"""What a store is, split by concern: the ``typing.Protocol``s both backends satisfy.

``Store`` combines them and is the type the rest of the server holds; ``SqliteStore``
(``sqlite.py``) and ``PostgresStore`` (``postgres.py``) implement it, and mypy checks that they
do wherever one is taken as a ``Store`` (``store/__init__.py`` checks both; so does
``factory.make_store``, which returns either). Code that needs one
concern only (the dashboard tails events, the approval policy reads grants) may ask for the
narrower protocol, so a test double has less to fake.

Every method commits before it returns. A store that cannot do what it was asked (the file or
database is unreachable, read-only, full, locked past its timeout) raises ``StoreUnavailable``
(JSON-RPC -32005) with a one-line reason; the process keeps running.

The groups:

* ``StoreLifecycle``: ``open`` (creating the schema or migrating it), ``close``, ``is_open``,
  ``integrity_check``.
* ``SessionStore``: sessions, their titles, token usage and paging.
* ``MessageStore``: a session's messages, numbered 1, 2, 3... in order, and their search.
* ``EventStore``: analytics events (insert, summary, tailing, export, retention).
* ``DeadLetterStore``: events an exporter could not deliver, parked for a retry.
* ``TenantStore``: per-tenant configuration, prompt templates and A/B assignments.
* ``ApprovalStore``: remembered "always allow" answers for tool calls.
* ``EmbeddingCache``: tool-description vectors, by model and key.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol, Self

if TYPE_CHECKING:
    from victor_server.analytics.events import AnalyticsEvent
    from victor_server.analytics.pricing import PriceTable
    from victor_server.api_models import AnalyticsSummary
    from victor_server.messages import Message, Usage
    from victor_server.store.approval_queries import ApprovalRow
    from victor_server.store.queries import MessageHit, SessionRow


class StoreLifecycle(Protocol):
    @property
    def is_open(self) -> bool:
        """True between a successful ``open`` and ``close``."""
        ...

    async def open(self) -> Self:
        """Connect and bring the schema to this build's version; returns the store."""
        ...

    async def close(self) -> None: ...

    async def integrity_check(self) -> str:
        """``ok`` when the store is sound, else one line saying what is wrong."""
        ...


class SessionStore(Protocol):
    async def create_session(self, session_id: str, tenant_id: str | None,
                             title: str | None = None) -> SessionRow: ...

    async def title_if_untitled(self, session_id: str, title: str) -> None:
        """Set the title of a session made without one; a title already set is kept."""
        ...

    async def get_session(self, session_id: str) -> SessionRow | None: ...

    async def list_sessions(self, tenant_id: str | None = None, limit: int = 50,
                            cursor: str | None = None,
                            all_tenants: bool = False) -> tuple[list[SessionRow], str | None]:
        """Newest first, ``limit`` at a time; the second item is the next page's cursor."""
        ...

    async def delete_session(self, session_id: str) -> bool:
        """Delete a session with its messages; False when there was none."""
        ...

    async def was_deleted(self, session_id: str) -> bool: ...

    async def add_usage(self, session_id: str, usage: Usage) -> None: ...


class MessageStore(Protocol):
    async def add_message(self, session_id: str, message: Message) -> int:
        """Append; returns the message's ``seq`` (also set on ``message``)."""
        ...

    async def get_messages(self, session_id: str) -> list[Message]:
        """A session's messages in ``seq`` order."""
        ...

    async def search_messages(self, query: str, tenant_id: str | None = None,
                              all_tenants: bool = False,
                              limit: int = 20) -> list[MessageHit]:
        """``query`` as a phrase (never query syntax): the matching messages, best first."""
        ...


class EventStore(Protocol):
    async def insert_events(self, events: Iterable[AnalyticsEvent]) -> int:
        """Store a batch; an event already stored (same id) is skipped."""
        ...

    async def event_summary(self, session_id: str | None = None, tenant_id: str | None = None,
                            since: float | None = None, all_tenants: bool = False,
                            until: float | None = None,
                            prices: PriceTable | None = None) -> AnalyticsSummary: ...

    async def events_after(self, rowid: int, limit: int = 1000) \
            -> list[tuple[int, AnalyticsEvent]]:
        """Events stored after position ``rowid``, oldest first, with their positions."""
        ...

    async def recent_events(self, limit: int = 500) -> list[tuple[int, AnalyticsEvent]]: ...

    async def export_events(self, session_id: str | None = None, tenant_id: str | None = None,
                            since: float | None = None, until: float | None = None,
                            all_tenants: bool = False) -> list[AnalyticsEvent]: ...

    async def prune_events(self, before: float) -> int:
        """Drop events older than ``before`` (epoch seconds); returns how many."""
        ...


class DeadLetterStore(Protocol):
    async def add_dead_letters(self, exporter: str, events: Iterable[AnalyticsEvent],
                               error: str, next_attempt_at: float) -> int: ...

    async def due_dead_letters(self, exporter: str, now: float,
                               limit: int = 500) -> list[tuple[AnalyticsEvent, int]]: ...

    async def delete_dead_letters(self, exporter: str, event_ids: list[str]) -> None: ...

    async def reschedule_dead_letters(self, exporter: str, event_ids: list[str], error: str,
                                      next_attempt_at: float) -> None: ...

    async def dead_letter_counts(self) -> dict[str, int]: ...


class TenantStore(Protocol):
    async def get_tenant_config(self, tenant_id: str) -> dict[str, Any]: ...

    async def set_tenant_config(self, tenant_id: str, config: dict[str, Any]) -> None: ...

    async def get_tenant_prompt_template(self, tenant_id: str) -> str | None: ...

    async def set_tenant_prompt_template(self, tenant_id: str, template: str) -> None: ...

    async def get_ab_assignment(self, session_id: str) -> tuple[str, str] | None: ...

    async def set_ab_assignment(self, session_id: str, experiment: str, variant: str) -> bool:
        """First writer wins; True if this call's variant was stored."""
        ...


class ApprovalStore(Protocol):
    async def approval_granted(self, tenant: str, workspace: str, tool: str,
                               prefixes: list[str]) -> bool: ...

    async def add_approval(self, tenant: str, workspace: str, tool: str, prefix: str,
                           face: str) -> None: ...

    async def list_approvals(self) -> list[ApprovalRow]: ...

    async def revoke_approvals(self, approval_id: int | None = None) -> int:
        """Remove one grant by id, or all of them when ``approval_id`` is None; the count."""
        ...


class EmbeddingCache(Protocol):
    async def get_embeddings(self, model: str, keys: list[str]) -> dict[str, bytes]: ...

    async def put_embeddings(self, model: str, items: dict[str, bytes]) -> None: ...


class Store(StoreLifecycle, SessionStore, MessageStore, EventStore, DeadLetterStore,
            TenantStore, ApprovalStore, EmbeddingCache, Protocol):
    """Everything the server keeps: what ``factory.make_store`` returns."""


__all__ = ["ApprovalStore", "DeadLetterStore", "EmbeddingCache", "EventStore", "MessageStore",
           "SessionStore", "Store", "StoreLifecycle", "TenantStore"]
