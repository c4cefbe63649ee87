"""``db_connection``: what a plugin written against victor-ai's coordinator API gets to query.

victor-ai's database-backed classes (a tenant config provider, a tenant prompt contributor, a
config provider reading sessions, an analytics exporter) take a ``db_connection`` and call
asyncpg's methods on it: ``await db.fetchrow("... WHERE tenant_id = $1", tenant)``,
``fetch``, ``fetchval``, ``execute``, ``executemany``. In config the option is a URL::

    plugins:
      seed_tenant_config: {db_connection: "postgresql://victor@db/tenants"}

and the registry hands the constructor a ``DatabaseConnection`` for it instead of the string:
one lazily created asyncpg pool per URL, shared by every plugin naming that URL, with JSON and
JSONB columns read as Python values and written from dicts and lists (a ``str`` is taken as JSON
text already, as asyncpg itself takes it). asyncpg is the ``postgres`` extra; it is imported at
the first query, and its absence is a clear error at that call, reported like any other plugin
failure. Anything but a ``postgresql://`` URL is refused when the plugin is built, naming the
option.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from typing import Any

SCHEMES = ("postgresql://", "postgres://")


class DatabaseConnectionError(ValueError):
    """A ``db_connection`` option that is not a database URL this server can open."""


def is_database_url(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(SCHEMES)


def _encode(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


async def _json_codecs(connection: Any) -> None:
    for kind in ("json", "jsonb"):
        await connection.set_type_codec(kind, schema="pg_catalog", encoder=_encode,
                                        decoder=json.loads, format="text")


class DatabaseConnection:
    """asyncpg's query methods over a pool opened at the first query."""

    _shared: dict[str, DatabaseConnection] = {}

    def __init__(self, url: str) -> None:
        if not is_database_url(url):
            raise DatabaseConnectionError(
                f"db_connection must be a postgresql:// URL, got {_masked(url)!r}")
        self.url = url
        self._pool: Any = None
        self._lock = asyncio.Lock()

    @classmethod
    def shared(cls, url: str) -> DatabaseConnection:
        """One connection object (one pool) per URL in this process."""
        connection = cls._shared.get(url)
        if connection is None:
            connection = cls._shared[url] = cls(url)
        return connection

    async def pool(self) -> Any:
        if self._pool is None:
            async with self._lock:
                if self._pool is None:
                    try:
                        import asyncpg
                    except ImportError as exc:
                        raise DatabaseConnectionError(
                            "db_connection needs asyncpg: pip install 'victor-server[postgres]'"
                        ) from exc
                    self._pool = await asyncpg.create_pool(self.url, min_size=0, max_size=4,
                                                           init=_json_codecs)
        return self._pool

    async def fetchrow(self, query: str, *args: Any) -> Any:
        return await (await self.pool()).fetchrow(query, *args)

    async def fetch(self, query: str, *args: Any) -> list[Any]:
        rows: list[Any] = await (await self.pool()).fetch(query, *args)
        return rows

    async def fetchval(self, query: str, *args: Any) -> Any:
        return await (await self.pool()).fetchval(query, *args)

    async def execute(self, query: str, *args: Any) -> str:
        status: str = await (await self.pool()).execute(query, *args)
        return status

    async def executemany(self, query: str, args: Iterable[Any]) -> None:
        await (await self.pool()).executemany(query, list(args))

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()
        if DatabaseConnection._shared.get(self.url) is self:
            del DatabaseConnection._shared[self.url]

    def __repr__(self) -> str:
        return f"DatabaseConnection({_masked(self.url)!r})"


async def close_all() -> None:
    """Close every pool opened for plugins (at server exit)."""
    for connection in list(DatabaseConnection._shared.values()):
        try:
            await connection.close()
        except Exception:  # a dead server at exit: nothing left to release
            pass


def _masked(value: Any) -> str:
    from victor_server.logging_redaction import redact

    return str(redact(value))
