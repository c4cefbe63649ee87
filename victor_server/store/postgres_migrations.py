"""The PostgreSQL store's schema as numbered migrations, one for one with ``migrations.py``.

Migration N here creates what SQLite's migration N creates, in PostgreSQL's terms, so a
database's version means the same thing on both backends. Append; never edit a shipped one.
The version lives in ``victor_schema``; ``apply_migrations`` runs under a transaction-scoped
advisory lock, so the first of several servers starting on one database migrates and the
others wait for it and find nothing to do.

Differences from SQLite, and why:

* message search is a generated ``tsvector`` column over the message's plain text with a GIN
  index (instead of FTS5). The ``simple`` configuration neither stems nor drops stop words,
  which is what FTS5's default tokenizer does too, so both backends find the same messages.
* ``analytics_events`` (``EVENTS_DDL``, shared with the ``postgresql`` analytics exporter) is
  range-partitioned by month on ``timestamp`` (epoch seconds, as the event carries it), so old
  months can be detached or dropped whole; a partition's key must be in every unique
  constraint, so the primary key is ``(id, timestamp)``. An event keeps both forever, so
  ``ON CONFLICT DO NOTHING`` still makes a redelivered event a no-op. ``seq`` stands in for
  SQLite's ``rowid`` when tailing.
* ``tenant_configs.active``: an operator can switch a tenant's row off without deleting it.
"""

from __future__ import annotations

from typing import Any

# A constant key for pg_advisory_xact_lock: "victor" in ASCII.
MIGRATION_LOCK = 0x766963746F72

EVENTS_DDL = """
CREATE TABLE IF NOT EXISTS analytics_events (
    id TEXT NOT NULL,
    seq BIGSERIAL,
    session_id TEXT,
    tenant_id TEXT,
    type TEXT NOT NULL,
    data JSONB NOT NULL,
    "timestamp" DOUBLE PRECISION NOT NULL,
    occurred_at TIMESTAMPTZ GENERATED ALWAYS AS (to_timestamp("timestamp")) STORED,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (id, "timestamp")
) PARTITION BY RANGE ("timestamp");
CREATE TABLE IF NOT EXISTS analytics_events_default PARTITION OF analytics_events DEFAULT;
CREATE INDEX IF NOT EXISTS analytics_events_session ON analytics_events (session_id, "timestamp");
CREATE INDEX IF NOT EXISTS analytics_events_tenant ON analytics_events (tenant_id, "timestamp");
CREATE INDEX IF NOT EXISTS analytics_events_type ON analytics_events (type, "timestamp");
CREATE INDEX IF NOT EXISTS analytics_events_time ON analytics_events ("timestamp");
CREATE INDEX IF NOT EXISTS analytics_events_seq ON analytics_events (seq);
"""

PG_MIGRATIONS: list[str] = [
    # 1: sessions, messages (full-text indexed), analytics events, tenants, A/B assignments
    """
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        tenant_id TEXT,
        title TEXT,
        created_at DOUBLE PRECISION NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL,
        input_tokens BIGINT NOT NULL DEFAULT 0,
        output_tokens BIGINT NOT NULL DEFAULT 0,
        total_tokens BIGINT NOT NULL DEFAULT 0
    );
    CREATE INDEX sessions_tenant ON sessions (tenant_id, updated_at);
    CREATE INDEX sessions_updated ON sessions (updated_at, id);
    CREATE TABLE deleted_sessions (id TEXT PRIMARY KEY, deleted_at DOUBLE PRECISION NOT NULL);
    CREATE TABLE messages (
        session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        role TEXT NOT NULL,
        content TEXT NOT NULL,
        pinned BOOLEAN NOT NULL DEFAULT false,
        complete BOOLEAN NOT NULL DEFAULT true,
        created_at DOUBLE PRECISION NOT NULL,
        body TEXT NOT NULL DEFAULT '',
        search TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED,
        PRIMARY KEY (session_id, seq)
    );
    CREATE INDEX messages_search ON messages USING GIN (search);
    """ + EVENTS_DDL + """
    CREATE TABLE tenant_configs (
        tenant_id TEXT PRIMARY KEY,
        config JSONB NOT NULL,
        active BOOLEAN NOT NULL DEFAULT true,
        updated_at DOUBLE PRECISION NOT NULL
    );
    CREATE TABLE tenant_prompt_templates (
        tenant_id TEXT PRIMARY KEY,
        template TEXT NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL
    );
    CREATE TABLE ab_assignments (
        session_id TEXT PRIMARY KEY,
        experiment TEXT NOT NULL,
        variant TEXT NOT NULL,
        assigned_at DOUBLE PRECISION NOT NULL
    );
    """,
    # 2: embedding cache for tool selection, keyed by model and a hash of the text
    """
    CREATE TABLE tool_embeddings (
        model TEXT NOT NULL,
        key TEXT NOT NULL,
        vector BYTEA NOT NULL,
        PRIMARY KEY (model, key)
    );
    """,
    # 3: events an exporter could not deliver, retried later; remembered permissions
    """
    CREATE TABLE dead_letters (
        exporter TEXT NOT NULL,
        event_id TEXT NOT NULL,
        event TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        next_attempt_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (exporter, event_id)
    );
    CREATE INDEX dead_letters_due ON dead_letters (exporter, next_attempt_at);
    CREATE TABLE tool_permissions (
        project TEXT NOT NULL,
        tool TEXT NOT NULL,
        decision TEXT NOT NULL,
        decided_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (project, tool)
    );
    """,
    # 4: "always allow" answers per tenant, workspace, tool and command prefix (see SQLite's 4)
    """
    DROP TABLE tool_permissions;
    CREATE TABLE tool_approvals (
        id BIGSERIAL PRIMARY KEY,
        tenant TEXT NOT NULL,
        workspace TEXT NOT NULL,
        tool TEXT NOT NULL,
        prefix TEXT NOT NULL,
        face TEXT NOT NULL DEFAULT '',
        granted_at DOUBLE PRECISION NOT NULL,
        UNIQUE (tenant, workspace, tool, prefix)
    );
    """,
]


async def apply_migrations(conn: Any) -> int:
    """Bring the database forward; returns its version. ``conn`` is an asyncpg connection."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        await conn.execute("CREATE TABLE IF NOT EXISTS victor_schema (version INTEGER NOT NULL)")
        version = await conn.fetchval("SELECT max(version) FROM victor_schema")
        if version is None:
            await conn.execute("INSERT INTO victor_schema VALUES (0)")
            version = 0
        for number, script in enumerate(PG_MIGRATIONS[version:], start=version + 1):
            await conn.execute(script)
            await conn.execute("UPDATE victor_schema SET version = $1", number)
            version = number
    return int(version)


async def ensure_events_table(conn: Any) -> None:
    """The analytics table alone (the exporter's target database may hold no store)."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        await conn.execute(EVENTS_DDL)
