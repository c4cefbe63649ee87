"""The store's schema as numbered migrations, applied in order on open.

Append a migration; never edit one that has shipped. ``PRAGMA user_version`` records how far a
database has come, so an old file is brought forward on start.
"""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: sessions, messages (full-text indexed), analytics events, tenants, A/B assignments
    """
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        tenant_id TEXT,
        title TEXT,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        input_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        total_tokens INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX sessions_tenant ON sessions(tenant_id, updated_at);
    CREATE TABLE deleted_sessions (id TEXT PRIMARY KEY, deleted_at REAL NOT NULL);
    CREATE TABLE messages (
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        role TEXT NOT NULL,
        content TEXT NOT NULL,
        pinned INTEGER NOT NULL DEFAULT 0,
        complete INTEGER NOT NULL DEFAULT 1,
        created_at REAL NOT NULL,
        PRIMARY KEY (session_id, seq)
    );
    CREATE VIRTUAL TABLE messages_fts USING fts5(text, session_id UNINDEXED, seq UNINDEXED);
    CREATE TABLE analytics_events (
        id TEXT PRIMARY KEY,
        session_id TEXT,
        tenant_id TEXT,
        type TEXT NOT NULL,
        data TEXT NOT NULL,
        timestamp REAL NOT NULL
    );
    CREATE INDEX analytics_events_session ON analytics_events(session_id, timestamp);
    CREATE INDEX analytics_events_tenant ON analytics_events(tenant_id, timestamp);
    CREATE INDEX analytics_events_time ON analytics_events(timestamp);
    CREATE TABLE tenant_configs (
        tenant_id TEXT PRIMARY KEY,
        config TEXT NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE TABLE tenant_prompt_templates (
        tenant_id TEXT PRIMARY KEY,
        template TEXT NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE TABLE ab_assignments (
        session_id TEXT PRIMARY KEY,
        experiment TEXT NOT NULL,
        variant TEXT NOT NULL,
        assigned_at REAL NOT NULL
    );
    """,
    # 2: embedding cache for tool selection, keyed by model and a hash of the text
    """
    CREATE TABLE tool_embeddings (
        model TEXT NOT NULL,
        key TEXT NOT NULL,
        vector BLOB NOT NULL,
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
        next_attempt_at REAL NOT NULL,
        PRIMARY KEY (exporter, event_id)
    );
    CREATE TABLE tool_permissions (
        project TEXT NOT NULL,
        tool TEXT NOT NULL,
        decision TEXT NOT NULL,
        decided_at REAL NOT NULL,
        PRIMARY KEY (project, tool)
    );
    """,
    # 4: "always allow" answers per tenant, workspace, tool and command prefix. The old
    # per-project, per-tool decisions are dropped: one "always" for bash covered every command
    # for every tenant, so each of them is asked again.
    """
    DROP TABLE tool_permissions;
    CREATE TABLE tool_approvals (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant TEXT NOT NULL,
        workspace TEXT NOT NULL,
        tool TEXT NOT NULL,
        prefix TEXT NOT NULL,
        face TEXT NOT NULL DEFAULT '',
        granted_at REAL NOT NULL,
        UNIQUE (tenant, workspace, tool, prefix)
    );
    """,
]
