"""Choosing the store from config, and keeping PostgreSQL credentials out of files and logs."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest
from pg_cluster import PgCluster

from victor_server.config import ConfigCoordinator, EnvironmentConfigProvider, FileConfigProvider
from victor_server.errors import StoreUnavailable
from victor_server.logging_redaction import RedactingFilter, redact_text
from victor_server.orchestrator import AgentOrchestrator
from victor_server.settings import Settings, StoreSettings
from victor_server.store import SqliteStore
from victor_server.store.factory import is_postgres_url, make_store, read_url_file, store_url
from victor_server.store.postgres import PostgresStore, describe

URL = "postgresql://alice:s3cret-pw@db.internal:5432/victor"


def test_backend_by_scheme(tmp_path: Path) -> None:
    assert is_postgres_url(URL) and is_postgres_url("postgres://h/db")
    assert not is_postgres_url("sqlite:///x.db") and not is_postgres_url(None)
    assert isinstance(make_store(URL, tmp_path / "d.db"), PostgresStore)
    assert make_store(Settings(), tmp_path / "d.db").path == tmp_path / "d.db"  # type: ignore[union-attr]
    chosen = make_store(StoreSettings(url=f"sqlite://{tmp_path}/team.db"), tmp_path / "d.db")
    assert isinstance(chosen, SqliteStore) and chosen.path == tmp_path / "team.db"
    assert describe(URL) == "postgresql://alice@db.internal:5432/victor"


def test_password_refused_from_project_file_accepted_from_env() -> None:
    with pytest.raises(StoreUnavailable, match="VICTOR_STORE__URL"):
        store_url(StoreSettings(url=URL), source="file")
    assert store_url(StoreSettings(url="postgresql://alice@db/victor"), source="file")
    assert store_url(StoreSettings(url=URL), source="env") == URL
    assert "s3cret-pw" not in redact_text(f"connecting to {URL}")  # registered as a secret


def test_url_file_must_be_owner_only(tmp_path: Path) -> None:
    secret = tmp_path / "pg-url"
    secret.write_text(URL + "\n")
    secret.chmod(0o640)
    with pytest.raises(StoreUnavailable, match="chmod 600"):
        read_url_file(secret)
    secret.chmod(0o600)
    assert store_url(StoreSettings(url_file=str(secret))) == URL  # type: ignore[call-arg]
    with pytest.raises(StoreUnavailable, match="No such file"):
        read_url_file(tmp_path / "missing")


async def test_config_and_logs_never_show_the_password(caplog: pytest.LogCaptureFixture) -> None:
    config = ConfigCoordinator([EnvironmentConfigProvider({"VICTOR_STORE__URL": URL})])
    resolved = await config.resolve()
    assert resolved.settings.store.url == URL and resolved.sources["store.url"] == "env"
    assert "s3cret-pw" not in str(resolved.public_config())
    store_url(resolved.settings, resolved.sources["store.url"])
    logger = logging.getLogger("victor_server.test_pg")
    logger.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO):
        logger.info("store %s", URL)
    assert "s3cret-pw" not in caplog.text and "alice" in caplog.text


async def test_orchestrator_opens_postgres_from_url_file(
        tmp_path: Path, workspace: Path, pg_cluster: PgCluster) -> None:
    secret = tmp_path / "pg-url"
    secret.write_text(pg_cluster.new_database("orch"))
    secret.chmod(0o600)
    (workspace / ".victor" / "config.yml").write_text(f"store:\n  url_file: {secret}\n")
    orchestrator = AgentOrchestrator(workspace=workspace)
    await orchestrator.start()
    try:
        assert isinstance(orchestrator.store, PostgresStore)
        assert orchestrator.analytics.store is orchestrator.store
        await orchestrator.store.create_session("from-orchestrator", None)
    finally:
        await orchestrator.close()
    assert not (workspace / ".victor" / "victor.db").exists()


async def test_orchestrator_refuses_a_password_in_the_project_file(workspace: Path) -> None:
    (workspace / ".victor" / "config.yml").write_text(f"store:\n  url: {URL}\n")
    orchestrator = AgentOrchestrator(workspace=workspace)
    with pytest.raises(StoreUnavailable, match="url_file"):
        await orchestrator.start()
    await orchestrator.close()


def test_sqlite_servers_never_import_asyncpg(workspace: Path) -> None:
    code = ("import asyncio, sys\n"
            "from victor_server.orchestrator import AgentOrchestrator\n"
            "async def main():\n"
            f"    o = AgentOrchestrator(workspace={str(workspace)!r})\n"
            "    await o.start(); await o.close()\n"
            "asyncio.run(main())\n"
            "print('asyncpg' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert done.stdout.strip() == "False", done.stderr


def test_file_provider_is_the_source_named_file() -> None:
    assert FileConfigProvider.name == "file"  # what store_url's refusal keys on
