"""Choosing the store: SQLite (the embedded default) or PostgreSQL (a team's shared database).

``store.url`` picks the backend by scheme: ``postgresql://`` or ``postgres://`` opens a
``PostgresStore``; a path or ``sqlite:///path`` opens a ``SqliteStore``; nothing means the
default path (``.victor/victor.db`` in the workspace, or ``--db``/``VICTOR_DB``).

Credentials stay out of project files and logs:

* a URL that carries a password is accepted from the environment (``VICTOR_STORE__URL``) or from
  ``store.url_file``, a file only its owner can read (mode 0600 or stricter; anything looser is
  refused). A password in the project config file is refused with a message saying where to put
  it; a passwordless URL can live anywhere (``~/.pgpass``, ``PGPASSWORD`` and peer auth work as
  with any libpq client).
* the password is registered with the log redaction filter before a connection is tried, and
  ``describe`` (the URL without it) is what messages show.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from victor_server.errors import StoreUnavailable
from victor_server.logging_redaction import add_secret

if TYPE_CHECKING:
    from victor_server.store import Store

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(url: str | None) -> bool:
    return bool(url) and str(url).lower().startswith(POSTGRES_SCHEMES)


def read_url_file(path: str | Path) -> str:
    """The URL in ``path``, refused unless only its owner can read it."""
    file = Path(path).expanduser()
    try:
        mode = file.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise StoreUnavailable(
                f"store.url_file {file} is readable by others (mode {stat.S_IMODE(mode):o}); "
                f"run: chmod 600 {file}")
        return file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise StoreUnavailable(f"store.url_file {file}: {exc.strerror or exc}") from exc


def store_url(settings: Any, source: str | None = None) -> str | None:
    """The configured store URL (``store.url`` or the contents of ``store.url_file``).

    ``settings`` is ``Settings``, its ``store`` section, or a URL string; ``source`` is the
    config source ``store.url`` came from (``ResolvedConfig.sources``), used to refuse a
    password committed to the project file."""
    section = getattr(settings, "store", settings)
    if section is None or isinstance(section, str | Path):
        url = str(section) if section else None
    else:
        url = getattr(section, "url", None)
        url_file = getattr(section, "url_file", None)
        if url_file and not url:
            url, source = read_url_file(url_file), "url_file"
    if url and is_postgres_url(url):
        password = urlsplit(url).password
        if password and source == "file":
            raise StoreUnavailable(
                "store.url in the project config file carries a password; set it in "
                "VICTOR_STORE__URL or store.url_file (mode 0600) instead")
        if password:
            add_secret(password)
            add_secret(unquote(password))
    return url


def sqlite_path(url: str) -> Path:
    """``sqlite:///abs/path``, ``sqlite:rel/path`` or a plain path, as a path."""
    if url.startswith("sqlite://"):
        return Path(url[len("sqlite://"):])
    if url.startswith("sqlite:"):
        return Path(url[len("sqlite:"):])
    return Path(url).expanduser()


def make_store(settings_or_url: Any, default_path: Path | str,
               source: str | None = None) -> Store:
    """The store the settings name, not yet opened (asyncpg is imported only for PostgreSQL).

    Returning either class as a ``Store`` is where mypy checks that both backends satisfy the
    protocol (and every narrower one it combines)."""
    url = store_url(settings_or_url, source)
    if url and is_postgres_url(url):
        from victor_server.store.postgres import PostgresStore

        section = getattr(settings_or_url, "store", settings_or_url)
        pool = getattr(section, "pool_size", None) if not isinstance(section, str) else None
        return PostgresStore(url, max_size=int(pool or 10))
    from victor_server.store.sqlite import SqliteStore

    busy = getattr(getattr(settings_or_url, "store", settings_or_url), "busy_timeout_ms", 5000)
    return SqliteStore(sqlite_path(url) if url else Path(default_path),
                       busy_timeout_ms=int(busy))


async def open_store(settings_or_url: Any, default_path: Path | str,
                     source: str | None = None) -> Store:
    """``make_store`` and open it (migrations applied); raises ``StoreUnavailable``."""
    store = make_store(settings_or_url, default_path, source)
    await store.open()
    return store


def uses_postgres(settings: Any) -> bool:
    section = getattr(settings, "store", settings)
    if isinstance(section, str):
        return is_postgres_url(section)
    return is_postgres_url(getattr(section, "url", None)) or bool(
        getattr(section, "url_file", None) and not getattr(section, "url", None))


__all__ = ["is_postgres_url", "make_store", "open_store", "read_url_file", "store_url",
           "uses_postgres"]
