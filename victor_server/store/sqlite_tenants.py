"""The SQLite store's tenants, A/B assignments and embedding cache.

A mixin of ``SqliteStore``: small keyed tables, one statement each, every one inside the
store's ``guarded()`` block like the rest of the store.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    import aiosqlite


class SqliteTenants:
    """Tenant configuration and prompt templates, A/B assignments, the embedding cache."""

    if TYPE_CHECKING:
        def guarded(self) -> AbstractAsyncContextManager[aiosqlite.Connection]: ...

    # ---- tenants and A/B -------------------------------------------------------------------

    async def get_tenant_config(self, tenant_id: str) -> dict[str, Any]:
        async with self.guarded() as db, db.execute(
                "SELECT config FROM tenant_configs WHERE tenant_id = ?", (tenant_id,)) as cursor:
            row = await cursor.fetchone()
        return dict(json.loads(row[0])) if row else {}

    async def set_tenant_config(self, tenant_id: str, config: dict[str, Any]) -> None:
        async with self.guarded() as db:
            await db.execute("INSERT OR REPLACE INTO tenant_configs VALUES (?, ?, ?)",
                             (tenant_id, json.dumps(config), time.time()))
            await db.commit()

    async def get_tenant_prompt_template(self, tenant_id: str) -> str | None:
        async with self.guarded() as db, db.execute(
                "SELECT template FROM tenant_prompt_templates WHERE tenant_id = ?",
                (tenant_id,)) as cursor:
            row = await cursor.fetchone()
        return str(row[0]) if row else None

    async def set_tenant_prompt_template(self, tenant_id: str, template: str) -> None:
        async with self.guarded() as db:
            await db.execute("INSERT OR REPLACE INTO tenant_prompt_templates VALUES (?, ?, ?)",
                             (tenant_id, template, time.time()))
            await db.commit()

    async def get_ab_assignment(self, session_id: str) -> tuple[str, str] | None:
        async with self.guarded() as db, db.execute(
                "SELECT experiment, variant FROM ab_assignments WHERE session_id = ?",
                (session_id,)) as cursor:
            row = await cursor.fetchone()
        return (str(row[0]), str(row[1])) if row else None

    async def set_ab_assignment(self, session_id: str, experiment: str, variant: str) -> bool:
        """First writer wins (two processes racing agree on one variant); True if ours."""
        async with self.guarded() as db:
            cursor = await db.execute("INSERT OR IGNORE INTO ab_assignments VALUES (?, ?, ?, ?)",
                                      (session_id, experiment, variant, time.time()))
            await db.commit()
        return cursor.rowcount > 0

    # ---- embedding cache (tool selection) -------------------------------------------------

    async def get_embeddings(self, model: str, keys: list[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            marks = ",".join("?" * len(chunk))
            async with self.guarded() as db, db.execute(
                    f"SELECT key, vector FROM tool_embeddings WHERE model = ? AND key IN ({marks})",
                    (model, *chunk)) as cursor:
                found.update({r[0]: bytes(r[1]) for r in await cursor.fetchall()})
        return found

    async def put_embeddings(self, model: str, items: dict[str, bytes]) -> None:
        async with self.guarded() as db:
            await db.executemany("INSERT OR REPLACE INTO tool_embeddings VALUES (?, ?, ?)",
                                 [(model, key, vector) for key, vector in items.items()])
            await db.commit()


__all__ = ["SqliteTenants"]
