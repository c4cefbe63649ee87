"""The SQLite store (aiosqlite, WAL), the embedded default: sessions, messages, analytics
events, tenants, A/B assignments, tool approvals and caches (the ``Store`` protocol).

Every write commits before it returns, so a message the server acknowledged survives a kill -9.
Every way the file can fail us (read-only file or file system, a directory missing or not ours
to write, a corrupt file, a full disk, a lock held past the busy timeout) becomes one
``StoreUnavailable`` (-32005) whose reason is one line naming the cause (``describe_failure``
asks the file system when sqlite only says "unable to open"); a failed open leaves no
connection thread behind. One connection per process serialises our own writes and WAL lets
other processes read while we write.

Every statement, read or write, runs inside ``guarded()``: one block at a time per process.
The connection is shared by every coroutine, so a statement outside the block could commit
another coroutine's half-done transaction (or roll it back); the analytics and approval mixins
(``analytics_queries.py``, ``approval_queries.py``) and the tenant, A/B and embedding-cache
one (``sqlite_tenants.py``) use the same block.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Self

import aiosqlite

from victor_server.errors import StoreUnavailable
from victor_server.messages import Message, Usage
from victor_server.store.analytics_queries import SqliteAnalytics
from victor_server.store.approval_queries import SqliteApprovals
from victor_server.store.gitignore import ignore_store_files
from victor_server.store.migrations import MIGRATIONS
from victor_server.store.queries import MessageHit, SessionRow, page, parse_cursor
from victor_server.store.sqlite_tenants import SqliteTenants


async def _worker_stopped(connection: aiosqlite.Connection) -> None:
    """Wait for aiosqlite's worker thread to end: it is told to stop without being waited for,
    and a command that exits at once would close the loop under it (the thread then prints a
    traceback) or, if it were still running, be kept alive by it."""
    worker = getattr(connection, "_thread", None)
    if worker is not None and worker.is_alive():
        await asyncio.to_thread(worker.join, 5)


def describe_failure(path: Path, exc: BaseException) -> str:
    """A one-line cause: sqlite's "unable to open database file" says nothing about why, so
    the file system is asked (read-only mount, a directory we may not write, a missing one)."""
    if isinstance(exc, OSError) and not isinstance(exc, sqlite3.Error):
        return (exc.strerror or str(exc)).lower()
    text = str(exc) or type(exc).__name__
    if "unable to open" in text or "readonly" in text:
        folder = path.parent
        if path.is_dir():
            return f"{text} ({path} is a directory)"
        if not folder.is_dir():
            return f"{text} (directory {folder} does not exist)"
        with contextlib.suppress(OSError):
            if os.statvfs(folder).f_flag & os.ST_RDONLY:
                return f"{text} (read-only file system)"
        for target in (path, folder):
            if target.exists() and not os.access(target, os.W_OK):
                return f"{text} (permission denied: {target} is not writable)"
    return text


class SqliteStore(SqliteAnalytics, SqliteApprovals, SqliteTenants):
    def __init__(self, path: Path | str, busy_timeout_ms: int = 5000) -> None:
        self.path = Path(path)
        self.busy_timeout_ms = busy_timeout_ms
        self._db: aiosqlite.Connection | None = None
        self._turn = asyncio.Lock()

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.path)!r})"

    @property
    def is_open(self) -> bool:
        return self._db is not None

    async def open(self) -> Self:
        """Open (creating the file 0600 and its directory 0700 when new) and migrate.

        Every way this can fail (read-only file or file system, missing or forbidden
        directory, a corrupt or locked file, a full disk) is one ``StoreUnavailable`` naming
        the path and the cause, and leaves no connection thread behind to keep the process
        alive."""
        try:
            if str(self.path) != ":memory:":
                self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # private
                if not self.path.exists():  # created 0600: conversations are private
                    os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
                    ignore_store_files(self.path)
            # IMMEDIATE: a write takes the lock when its transaction begins, waiting out the busy
            # timeout; a deferred one upgrading from a stale WAL snapshot fails at once with
            # "database is locked" when another process wrote in between.
            self._db = await self._connect()
            self._db.row_factory = aiosqlite.Row
            await self._db.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            await self._db.execute("PRAGMA journal_mode = WAL")
            await self._db.execute("PRAGMA synchronous = NORMAL")
            await self._db.execute("PRAGMA foreign_keys = ON")
            await self._migrate()
        except (OSError, sqlite3.Error) as exc:
            with contextlib.suppress(Exception):
                await self.close()
            raise StoreUnavailable(f"{self.path}: {describe_failure(self.path, exc)}") from exc
        return self

    async def _connect(self) -> aiosqlite.Connection:
        connection = aiosqlite.connect(str(self.path), timeout=self.busy_timeout_ms / 1000,
                                       isolation_level="IMMEDIATE")
        # aiosqlite's worker thread must not keep the interpreter alive: a store never
        # closed (an orchestrator left open in a REPL) would hang the exit. Every write has
        # committed before it returned, so nothing is lost when the thread is not joined.
        connection._thread.daemon = True
        try:
            return await connection
        except BaseException:
            await _worker_stopped(connection)
            raise

    async def close(self) -> None:
        if self._db is not None:
            db, self._db = self._db, None
            try:
                await db.close()
            finally:
                await _worker_stopped(db)

    @property
    def db(self) -> aiosqlite.Connection:
        """The open connection, for the store's own use: statements go through ``guarded()``."""
        if self._db is None:
            raise StoreUnavailable("store is not open")
        return self._db

    async def _user_version(self) -> int:
        async with self.db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def _migrate(self) -> None:
        version = await self._user_version()
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            try:
                await self.db.executescript(
                    f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
            except sqlite3.OperationalError:
                # Processes starting together on a new file race to migrate it; the lock makes
                # them take turns, and the losers find the step done ("already exists").
                if self.db.in_transaction:
                    await self.db.rollback()
                if await self._user_version() < number:
                    raise

    @asynccontextmanager
    async def guarded(self) -> AsyncIterator[aiosqlite.Connection]:
        """Run statements, turning sqlite's "locked" and "cannot open" into -32005.

        One block at a time per process: the connection is shared, and a transaction another
        coroutine interleaved with would hold the write lock (and other processes) for longer,
        or be committed by the other coroutine's ``commit`` half done. A block that fails for
        any reason (a database error, a bug, a cancelled request) rolls back, so a failed
        write never keeps that lock nor lingers for the next block to commit."""
        async with self._turn:
            try:
                yield self.db
            except BaseException as exc:
                if self._db is not None and self._db.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        await asyncio.shield(self._db.rollback())
                if isinstance(exc, sqlite3.DatabaseError):  # OperationalError ("locked") too
                    raise StoreUnavailable(describe_failure(self.path, exc)) from exc
                raise

    # ---- sessions -----------------------------------------------------------------------

    async def create_session(self, session_id: str, tenant_id: str | None,
                             title: str | None = None) -> SessionRow:
        now = time.time()
        async with self.guarded() as db:
            await db.execute(
                "INSERT INTO sessions (id, tenant_id, title, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?)", (session_id, tenant_id, title, now, now))
            await db.commit()
        row = await self.get_session(session_id)
        assert row is not None
        return row

    async def title_if_untitled(self, session_id: str, title: str) -> None:
        """Give a session made without a title (ACP ``session/new``, ``session/create``) the
        one its first chat suggests; a title already set is kept."""
        async with self.guarded() as db:
            await db.execute("UPDATE sessions SET title = ? WHERE id = ? AND title IS NULL",
                             (title, session_id))
            await db.commit()

    async def was_deleted(self, session_id: str) -> bool:
        async with self.guarded() as db, db.execute(
                "SELECT 1 FROM deleted_sessions WHERE id = ?", (session_id,)) as cursor:
            return await cursor.fetchone() is not None

    async def get_session(self, session_id: str) -> SessionRow | None:
        # execute_fetchall: one hop to aiosqlite's thread instead of three (execute, fetch,
        # close); reads on every request's path, so the hops are most of their cost
        async with self.guarded() as db:
            rows = list(await db.execute_fetchall(
                f"{SessionRow.SELECT} WHERE s.id = ?", (session_id,)))
        return SessionRow.from_row(rows[0]) if rows else None

    async def list_sessions(self, tenant_id: str | None = None, limit: int = 50,
                            cursor: str | None = None,
                            all_tenants: bool = False) -> tuple[list[SessionRow], str | None]:
        """Newest first; ``cursor`` is opaque to clients (``updated_at|id`` of the last row)."""
        clauses: list[str] = []
        args: list[Any] = []
        if not all_tenants:
            clauses.append("s.tenant_id IS ?")
            args.append(tenant_id)
        if cursor:
            updated, last_id = parse_cursor(cursor)
            clauses.append("(s.updated_at < ? OR (s.updated_at = ? AND s.id < ?))")
            args += [updated, updated, last_id]
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"{SessionRow.SELECT}{where} ORDER BY s.updated_at DESC, s.id DESC LIMIT ?"
        async with self.guarded() as db, db.execute(sql, (*args, limit + 1)) as cur:
            rows = [SessionRow.from_row(r) for r in await cur.fetchall()]
        return page(rows, limit)

    async def delete_session(self, session_id: str) -> bool:
        async with self.guarded() as db:
            cursor = await db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
            deleted = cursor.rowcount > 0
            if deleted:
                await db.execute("DELETE FROM messages_fts WHERE session_id = ?", (session_id,))
                await db.execute("INSERT OR REPLACE INTO deleted_sessions VALUES (?, ?)",
                                 (session_id, time.time()))
            await db.commit()
        return deleted

    async def add_usage(self, session_id: str, usage: Usage) -> None:
        async with self.guarded() as db:
            await db.execute(
                "UPDATE sessions SET input_tokens = input_tokens + ?, "
                "output_tokens = output_tokens + ?, total_tokens = total_tokens + ?, "
                "updated_at = ? WHERE id = ?",
                (usage.input_tokens, usage.output_tokens, usage.total_tokens, time.time(),
                 session_id))
            await db.commit()

    # ---- messages -----------------------------------------------------------------------

    async def add_message(self, session_id: str, message: Message) -> int:
        """Append and commit; returns the message's ``seq``."""
        now = time.time()
        content = json.dumps(message.content)
        async with self.guarded() as db:
            # One statement picks the next seq and inserts it inside the write transaction, so
            # two processes appending to one session never pick the same number.
            async with db.execute(
                    "INSERT INTO messages (session_id, seq, role, content, pinned, complete, "
                    "created_at) SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ?, ? "
                    "FROM messages WHERE session_id = ? RETURNING seq",
                    (session_id, message.role, content, int(message.pinned),
                     int(message.complete), now, session_id)) as cursor:
                row = await cursor.fetchone()
            seq = int(row[0]) if row else 1
            await db.execute("INSERT INTO messages_fts (text, session_id, seq) VALUES (?, ?, ?)",
                             (message.text(), session_id, seq))
            await db.execute("UPDATE sessions SET updated_at = ? WHERE id = ?", (now, session_id))
            await db.commit()
        message.seq, message.created_at = seq, now
        return seq

    async def get_messages(self, session_id: str) -> list[Message]:
        async with self.guarded() as db:
            rows = await db.execute_fetchall(
                "SELECT seq, role, content, pinned, complete, created_at FROM messages "
                "WHERE session_id = ? ORDER BY seq", (session_id,))
        return [Message(role=r["role"], content=json.loads(r["content"]), seq=r["seq"],
                        pinned=bool(r["pinned"]), complete=bool(r["complete"]),
                        created_at=r["created_at"]) for r in rows]

    async def search_messages(self, query: str, tenant_id: str | None = None,
                              all_tenants: bool = False,
                              limit: int = 20) -> list[MessageHit]:
        tenant_clause = "" if all_tenants else " AND s.tenant_id IS ?"
        phrase = '"' + query.replace('"', '""') + '"'  # user text, never FTS syntax
        args: list[Any] = [phrase] + ([] if all_tenants else [tenant_id]) + [limit]
        sql = ("SELECT f.session_id, f.seq, snippet(messages_fts, 0, '[', ']', '...', 12) "
               "FROM messages_fts f JOIN sessions s ON s.id = f.session_id "
               f"WHERE messages_fts MATCH ?{tenant_clause} ORDER BY rank LIMIT ?")
        async with self.guarded() as db, db.execute(sql, args) as cursor:
            rows = await cursor.fetchall()
        return [MessageHit(r[0], r[1], r[2]) for r in rows]

    async def integrity_check(self) -> str:
        async with self.guarded() as db, db.execute("PRAGMA integrity_check") as cursor:
            row = await cursor.fetchone()
        return str(row[0]) if row else "unknown"


__all__ = ["SqliteStore", "describe_failure"]
