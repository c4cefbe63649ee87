"""The PostgreSQL store (asyncpg): the ``Store`` protocol, as ``SqliteStore`` implements it,
for a team that points every developer's server at one database.

Every face and the orchestrator hold a ``Store`` and call only its methods, so this class is
a drop-in: sessions, messages (full-text search on a ``tsvector``), tenants, A/B assignments,
tool permissions, the embedding cache, analytics events and dead letters. The schema is
``postgres_migrations.PG_MIGRATIONS``, numbered like SQLite's.

Concurrency: a pool of connections (``min_size``..``max_size``) is shared by all requests of
the process; each method is one statement or one short transaction that commits before it
returns, like SQLite's. Appending a message takes the session row's lock first, so two
servers writing the same session still number messages 1, 2, 3... without gaps or clashes.
A/B assignment is first-writer-wins through ``ON CONFLICT DO NOTHING``.

Failure: when the database goes away (refused, reset, shut down, or the pool cannot hand out a
connection within ``acquire_timeout``), a method raises ``StoreUnavailable`` (JSON-RPC
-32005, ``data.reason``) and the server keeps running; the pool reconnects on its own once the
database is back. Any other database error is reported the same way, as SQLite's are.

asyncpg is imported when a store is opened, never by a server that uses SQLite.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Self

from victor_server.errors import StoreUnavailable
from victor_server.logging_redaction import redact_text
from victor_server.messages import Message, Usage
from victor_server.store.approval_queries import PostgresApprovals
from victor_server.store.postgres_events import EventWriter, PostgresAnalyticsQueries, pg_text
from victor_server.store.postgres_migrations import apply_migrations
from victor_server.store.queries import MessageHit, SessionRow, page, parse_cursor


def describe(url: str) -> str:
    """``postgresql://user@host:port/db``: the URL without its password, for messages."""
    scheme, sep, rest = url.partition("://")
    credentials, at, location = rest.rpartition("@")
    if not at:
        return url
    return f"{scheme}{sep}{credentials.split(':', 1)[0]}@{location}"


POSTGRES_EXTRA_HINT = "PostgreSQL needs the postgres extra: pip install -e '.[postgres]'"


class PostgresStore(PostgresAnalyticsQueries, PostgresApprovals):
    def __init__(self, url: str, min_size: int = 1, max_size: int = 10,
                 acquire_timeout: float = 5.0, command_timeout: float = 30.0) -> None:
        self.url = url
        self.min_size = min_size
        self.max_size = max_size
        self.acquire_timeout = acquire_timeout
        self.command_timeout = command_timeout
        self._db: Any = None  # the asyncpg pool while open
        self._events = EventWriter()

    def __repr__(self) -> str:
        return f"PostgresStore({describe(self.url)!r})"

    @property
    def is_open(self) -> bool:
        return self._db is not None

    async def open(self) -> Self:
        try:
            import asyncpg
        except ImportError as exc:  # the minimal install leaves the PostgreSQL driver out
            raise StoreUnavailable(f"{describe(self.url)}: {POSTGRES_EXTRA_HINT}") from exc
        try:
            self._db = await asyncpg.create_pool(
                self.url, min_size=self.min_size, max_size=self.max_size,
                timeout=self.acquire_timeout, command_timeout=self.command_timeout)
            async with self._db.acquire() as conn:
                await apply_migrations(conn)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            await self.close()
            raise StoreUnavailable(f"{describe(self.url)}: {redact_text(str(exc))}") from exc
        return self

    async def close(self) -> None:
        if self._db is not None:
            pool, self._db = self._db, None
            try:
                await pool.close()
            except Exception:  # the database may already be gone; nothing left to flush
                pool.terminate()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        """A pooled connection; "cannot reach the database" becomes -32005."""
        import asyncpg

        if self._db is None:
            raise StoreUnavailable("store is not open")
        try:
            async with self._db.acquire(timeout=self.acquire_timeout) as conn:
                yield conn
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise StoreUnavailable(redact_text(str(exc)) or type(exc).__name__) from exc

    # ---- sessions -----------------------------------------------------------------------

    async def create_session(self, session_id: str, tenant_id: str | None,
                             title: str | None = None) -> SessionRow:
        now = time.time()
        async with self.connection() as conn:
            await conn.execute(
                "INSERT INTO sessions (id, tenant_id, title, created_at, updated_at) "
                "VALUES ($1, $2, $3, $4, $4)", session_id, tenant_id, title, now)
        row = await self.get_session(session_id)
        assert row is not None
        return row

    async def title_if_untitled(self, session_id: str, title: str) -> None:
        async with self.connection() as conn:
            await conn.execute("UPDATE sessions SET title = $1 WHERE id = $2 AND title IS NULL",
                               title, session_id)

    async def was_deleted(self, session_id: str) -> bool:
        async with self.connection() as conn:
            found = await conn.fetchval("SELECT 1 FROM deleted_sessions WHERE id = $1",
                                        session_id)
        return found is not None

    async def get_session(self, session_id: str) -> SessionRow | None:
        async with self.connection() as conn:
            row = await conn.fetchrow(f"{SessionRow.SELECT} WHERE s.id = $1", session_id)
        return SessionRow.from_row(row) if row else None

    async def list_sessions(self, tenant_id: str | None = None, limit: int = 50,
                            cursor: str | None = None,
                            all_tenants: bool = False) -> tuple[list[SessionRow], str | None]:
        """Newest first; ``cursor`` is ``updated_at|id`` of the last row, as with SQLite."""
        clauses: list[str] = []
        args: list[Any] = []
        if not all_tenants:
            args.append(tenant_id)
            clauses.append(f"s.tenant_id IS NOT DISTINCT FROM ${len(args)}")
        if cursor:
            args += list(parse_cursor(cursor))
            clauses.append(f"(s.updated_at, s.id) < (${len(args) - 1}, ${len(args)})")
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        args.append(limit + 1)
        sql = f"{SessionRow.SELECT}{where} ORDER BY s.updated_at DESC, s.id DESC LIMIT ${len(args)}"
        async with self.connection() as conn:
            rows = [SessionRow.from_row(r) for r in await conn.fetch(sql, *args)]
        return page(rows, limit)

    async def delete_session(self, session_id: str) -> bool:
        async with self.connection() as conn, conn.transaction():
            status = await conn.execute("DELETE FROM sessions WHERE id = $1", session_id)
            deleted = str(status) != "DELETE 0"
            if deleted:  # messages go with the session (ON DELETE CASCADE), search rows too
                await conn.execute(
                    "INSERT INTO deleted_sessions VALUES ($1, $2) ON CONFLICT (id) "
                    "DO UPDATE SET deleted_at = excluded.deleted_at", session_id, time.time())
        return deleted

    async def add_usage(self, session_id: str, usage: Usage) -> None:
        async with self.connection() as conn:
            await conn.execute(
                "UPDATE sessions SET input_tokens = input_tokens + $1, "
                "output_tokens = output_tokens + $2, total_tokens = total_tokens + $3, "
                "updated_at = $4 WHERE id = $5", usage.input_tokens, usage.output_tokens,
                usage.total_tokens, time.time(), session_id)

    # ---- messages -----------------------------------------------------------------------

    async def add_message(self, session_id: str, message: Message) -> int:
        """Append and commit; returns the message's ``seq``."""
        now = time.time()
        async with self.connection() as conn, conn.transaction():
            # the session row's lock orders concurrent appends from any number of servers
            await conn.execute("UPDATE sessions SET updated_at = $1 WHERE id = $2",
                               now, session_id)
            seq = await conn.fetchval(
                "INSERT INTO messages (session_id, seq, role, content, pinned, complete, "
                "created_at, body) SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4, $5, $6, $7 "
                "FROM messages WHERE session_id = $1 RETURNING seq",
                session_id, message.role, pg_text(json.dumps(message.content)),
                message.pinned, message.complete, now, pg_text(message.text()))
        message.seq, message.created_at = int(seq), now
        return int(seq)

    async def get_messages(self, session_id: str) -> list[Message]:
        async with self.connection() as conn:
            rows = await conn.fetch(
                "SELECT seq, role, content, pinned, complete, created_at FROM messages "
                "WHERE session_id = $1 ORDER BY seq", session_id)
        return [Message(role=r["role"], content=json.loads(r["content"]), seq=r["seq"],
                        pinned=r["pinned"], complete=r["complete"], created_at=r["created_at"])
                for r in rows]

    async def search_messages(self, query: str, tenant_id: str | None = None,
                              all_tenants: bool = False,
                              limit: int = 20) -> list[MessageHit]:
        # phraseto_tsquery: the user's words as a phrase, never query syntax (as with FTS5)
        tenant_clause = "" if all_tenants else " AND s.tenant_id IS NOT DISTINCT FROM $3"
        args: list[Any] = [pg_text(query), limit] + ([] if all_tenants else [tenant_id])
        sql = ("SELECT m.session_id, m.seq, ts_headline('simple', m.body, q, "
               "'StartSel=[, StopSel=], MaxWords=12, MinWords=3, MaxFragments=1, "
               "FragmentDelimiter=...') FROM messages m JOIN sessions s ON s.id = m.session_id, "
               "phraseto_tsquery('simple', $1) q "
               f"WHERE m.search @@ q{tenant_clause} "
               "ORDER BY ts_rank(m.search, q) DESC, m.created_at DESC LIMIT $2")
        async with self.connection() as conn:
            rows = await conn.fetch(sql, *args)
        return [MessageHit(r[0], r[1], r[2]) for r in rows]

    # ---- tenants and A/B -------------------------------------------------------------------

    async def get_tenant_config(self, tenant_id: str) -> dict[str, Any]:
        async with self.connection() as conn:
            raw = await conn.fetchval("SELECT config::text FROM tenant_configs "
                                      "WHERE tenant_id = $1 AND active", tenant_id)
        return dict(json.loads(raw)) if raw else {}

    async def set_tenant_config(self, tenant_id: str, config: dict[str, Any]) -> None:
        async with self.connection() as conn:
            await conn.execute(
                "INSERT INTO tenant_configs (tenant_id, config, updated_at) VALUES ($1, $2, $3) "
                "ON CONFLICT (tenant_id) DO UPDATE SET config = excluded.config, active = true, "
                "updated_at = excluded.updated_at", tenant_id, pg_text(json.dumps(config)),
                time.time())

    async def get_tenant_prompt_template(self, tenant_id: str) -> str | None:
        async with self.connection() as conn:
            found = await conn.fetchval(
                "SELECT template FROM tenant_prompt_templates WHERE tenant_id = $1", tenant_id)
        return str(found) if found is not None else None

    async def set_tenant_prompt_template(self, tenant_id: str, template: str) -> None:
        async with self.connection() as conn:
            await conn.execute(
                "INSERT INTO tenant_prompt_templates VALUES ($1, $2, $3) ON CONFLICT (tenant_id) "
                "DO UPDATE SET template = excluded.template, updated_at = excluded.updated_at",
                tenant_id, pg_text(template), time.time())

    async def get_ab_assignment(self, session_id: str) -> tuple[str, str] | None:
        async with self.connection() as conn:
            row = await conn.fetchrow("SELECT experiment, variant FROM ab_assignments "
                                      "WHERE session_id = $1", session_id)
        return (str(row[0]), str(row[1])) if row else None

    async def set_ab_assignment(self, session_id: str, experiment: str, variant: str) -> bool:
        """First writer wins (servers racing agree on one variant); True if ours."""
        async with self.connection() as conn:
            status = await conn.execute(
                "INSERT INTO ab_assignments VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                session_id, experiment, variant, time.time())
        return str(status) == "INSERT 0 1"

    # ---- the embedding cache ------------------------------------------

    async def get_embeddings(self, model: str, keys: list[str]) -> dict[str, bytes]:
        async with self.connection() as conn:
            rows = await conn.fetch("SELECT key, vector FROM tool_embeddings WHERE model = $1 "
                                    "AND key = ANY($2::text[])", model, keys)
        return {r[0]: bytes(r[1]) for r in rows}

    async def put_embeddings(self, model: str, items: dict[str, bytes]) -> None:
        async with self.connection() as conn:
            await conn.execute(
                "INSERT INTO tool_embeddings SELECT $1, * FROM unnest($2::text[], $3::bytea[]) "
                "ON CONFLICT (model, key) DO UPDATE SET vector = excluded.vector",
                model, list(items), list(items.values()))

    async def integrity_check(self) -> str:
        """``ok`` when the database answers and is at this build's schema version."""
        from victor_server.store.postgres_migrations import PG_MIGRATIONS

        async with self.connection() as conn:
            version = await conn.fetchval("SELECT max(version) FROM victor_schema")
        expected = len(PG_MIGRATIONS)
        return "ok" if version == expected else f"schema version {version}, expected {expected}"


__all__ = ["PostgresStore", "describe"]
