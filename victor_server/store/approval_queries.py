"""Remembered "always allow" answers (``tool_approvals``), for both backends.

A row is one grant: a tenant ('' for none), a workspace path, a tool and, for ``bash``, a command
prefix ('' for the whole tool). ``approval_granted`` asks "does any grant cover this call" with
the call's candidate prefixes, so the lookup is one indexed query. Rows are only ever added by a
user's "always allow" and removed by ``victor-server permissions revoke``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    import aiosqlite

COLUMNS = "id, tenant, workspace, tool, prefix, face, granted_at"


@dataclass
class ApprovalRow:
    """One remembered grant."""

    id: int
    tenant: str  # '' for none
    workspace: str
    tool: str
    prefix: str  # bash's command prefix; '' for the whole tool
    face: str  # where it was granted
    granted_at: float  # Unix time


def approval_row(row: Any) -> ApprovalRow:
    return ApprovalRow(int(row[0]), str(row[1]), str(row[2]), str(row[3]), str(row[4]),
                       str(row[5]), float(row[6]))


class SqliteApprovals:
    """The SQLite store's grants (a mixin of ``SqliteStore``)."""

    if TYPE_CHECKING:
        def guarded(self) -> AbstractAsyncContextManager[aiosqlite.Connection]: ...

    async def approval_granted(self, tenant: str, workspace: str, tool: str,
                               prefixes: list[str]) -> bool:
        if not prefixes:
            return False
        marks = ",".join("?" * len(prefixes))
        async with self.guarded() as db, db.execute(
                "SELECT 1 FROM tool_approvals WHERE tenant = ? AND workspace = ? AND tool = ? "
                f"AND prefix IN ({marks}) LIMIT 1",
                (tenant, workspace, tool, *prefixes)) as cursor:
            return await cursor.fetchone() is not None

    async def add_approval(self, tenant: str, workspace: str, tool: str, prefix: str,
                           face: str) -> None:
        async with self.guarded() as db:
            await db.execute(
                "INSERT OR IGNORE INTO tool_approvals (tenant, workspace, tool, prefix, face, "
                "granted_at) VALUES (?, ?, ?, ?, ?, ?)",
                (tenant, workspace, tool, prefix, face, time.time()))
            await db.commit()

    async def list_approvals(self) -> list[ApprovalRow]:
        async with self.guarded() as db, db.execute(
                f"SELECT {COLUMNS} FROM tool_approvals ORDER BY id") as cursor:
            return [approval_row(r) for r in await cursor.fetchall()]

    async def revoke_approvals(self, approval_id: int | None = None) -> int:
        """Remove one grant by id, or every grant when ``approval_id`` is None; the count."""
        async with self.guarded() as db:
            if approval_id is None:
                cursor = await db.execute("DELETE FROM tool_approvals")
            else:
                cursor = await db.execute("DELETE FROM tool_approvals WHERE id = ?",
                                          (approval_id,))
            await db.commit()
        return int(cursor.rowcount)


class PostgresApprovals:
    """The PostgreSQL store's grants (a mixin of ``PostgresStore``)."""

    if TYPE_CHECKING:
        def connection(self) -> AbstractAsyncContextManager[Any]: ...

    async def approval_granted(self, tenant: str, workspace: str, tool: str,
                               prefixes: list[str]) -> bool:
        if not prefixes:
            return False
        async with self.connection() as conn:
            found = await conn.fetchval(
                "SELECT 1 FROM tool_approvals WHERE tenant = $1 AND workspace = $2 AND tool = $3 "
                "AND prefix = ANY($4::text[]) LIMIT 1", tenant, workspace, tool, prefixes)
        return found is not None

    async def add_approval(self, tenant: str, workspace: str, tool: str, prefix: str,
                           face: str) -> None:
        async with self.connection() as conn:
            await conn.execute(
                "INSERT INTO tool_approvals (tenant, workspace, tool, prefix, face, granted_at) "
                "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                tenant, workspace, tool, prefix, face, time.time())

    async def list_approvals(self) -> list[ApprovalRow]:
        async with self.connection() as conn:
            rows = await conn.fetch(f"SELECT {COLUMNS} FROM tool_approvals ORDER BY id")
        return [approval_row(r) for r in rows]

    async def revoke_approvals(self, approval_id: int | None = None) -> int:
        async with self.connection() as conn:
            if approval_id is None:
                status = await conn.execute("DELETE FROM tool_approvals")
            else:
                status = await conn.execute("DELETE FROM tool_approvals WHERE id = $1",
                                            approval_id)
        return int(str(status).rsplit(" ", 1)[-1])


__all__ = ["ApprovalRow", "PostgresApprovals", "SqliteApprovals", "approval_row"]
