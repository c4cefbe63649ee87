"""A throwaway PostgreSQL cluster for tests and benchmarks: initdb under a temp dir, started on
127.0.0.1 with a random port, password authentication over TCP, fsync off (speed: only the
server process ever crashes here, never the machine, so the page cache keeps what it wrote;
``synchronous_commit`` stays on, or a ``stop -m immediate`` would lose acknowledged commits).

The ``pg_cluster`` fixture (tests/conftest.py, session-scoped: one cluster for the whole run)
skips, saying why (``unavailable()``), when PostgreSQL's server binaries are not installed
(``scripts/install-system-test-deps.sh`` installs Debian's ``postgresql``). Root cannot run
initdb, so as root the cluster runs as the ``postgres`` user through ``runuser``. Each test asks
for its own database with ``new_database()``; outage tests ``stop()`` and ``start()`` the shared
cluster and must restart it in a ``finally``.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

USER = "victor"


def find_bindir() -> Path | None:
    found = shutil.which("initdb")
    if found:  # often a symlink into /usr/lib/postgresql/N/bin, where createdb and psql live
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                        key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PgCluster:
    def __init__(self, bindir: Path, root: Path) -> None:
        self.bindir = bindir
        self.root = root
        self.data = root / "data"
        self.port = _free_port()
        self.password = "pw-" + secrets.token_hex(8)
        self._as_other_user = os.geteuid() == 0

    # ---- running the server's tools --------------------------------------------------------

    def _run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / argv[0]), *argv[1:]]
        if self._as_other_user:
            command = ["runuser", "-u", "postgres", "--", *command]
        env = {**os.environ, "PGPASSWORD": self.password, "LC_ALL": "C.UTF-8"}
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60,
                              cwd="/")
        if check and done.returncode:
            raise RuntimeError(f"{' '.join(argv[:1])} failed: {done.stderr.strip()}")
        return done

    def init(self) -> PgCluster:
        if self._as_other_user:
            shutil.chown(self.root, "postgres", "postgres")
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n")
        if self._as_other_user:
            shutil.chown(pwfile, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", USER, "--pwfile", str(pwfile),
                  "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8",
                  "--no-sync", "--no-instructions")
        pwfile.unlink()
        return self

    durable = False  # fsync on, as a real server runs (benchmarks set it)

    def start(self) -> None:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
                   "-c max_connections=200")
        if not self.durable:
            options += " -c fsync=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-o", options,
                  "-w", "-t", "30", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def is_running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.data), "status", check=False).returncode == 0

    # ---- databases -----------------------------------------------------------------------

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}:{self.password}@127.0.0.1:{self.port}/{database}"

    def new_database(self, prefix: str = "t") -> str:
        """A fresh empty database; returns its URL (with the password)."""
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, name)
        return self.url(name)

    def psql(self, url: str, sql: str) -> str:
        """One query through psql (an independent client); returns its unaligned output."""
        database = url.rsplit("/", 1)[1]
        return self._run("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, "-d",
                         database, "-XAtc", sql).stdout.strip()


def start_cluster(durable: bool = False) -> PgCluster | None:
    bindir = find_bindir()
    if bindir is None:
        return None
    root = Path(tempfile.mkdtemp(prefix="victor-pg-"))
    os.chmod(root, 0o755)
    cluster = PgCluster(bindir, root)
    cluster.durable = durable
    try:
        cluster.init().start()
    except BaseException:
        remove_cluster(cluster)  # never leave a server or its files behind
        raise
    return cluster


def remove_cluster(cluster: PgCluster) -> None:
    cluster.stop("immediate")
    shutil.rmtree(cluster.root, ignore_errors=True)


def unavailable() -> str | None:
    """Why no cluster can be started here, or None when one can."""
    if find_bindir() is None:
        return ("PostgreSQL server binaries (initdb) not installed; run "
                "scripts/install-system-test-deps.sh or apt-get install postgresql")
    try:
        import asyncpg  # noqa: F401
    except ImportError:
        return "asyncpg not installed (pip install asyncpg)"
    return None
