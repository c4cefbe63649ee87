"""``victor-server``: the command line.

Protocol faces write only protocol messages to stdout; every log line goes to stderr (warnings
by default, ``-v`` info, ``-vv`` debug) and optionally to ``--log-file``. Heavy modules are
imported inside the subcommand that needs them so ``--version`` and ``lsp`` start fast.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # one line, exit 2
        sys.stderr.write(f"victor-server: {message}\n")
        raise SystemExit(2)


class _VersionAction(argparse.Action):
    """Prints ``versions.version_report()``, importing the SDKs it reads only when asked."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        import os

        from victor_server.versions import version_report

        try:
            print(version_report(), flush=True)
        except BrokenPipeError:  # `victor-server --version | head -1`: the reader is satisfied
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    # The common options are accepted before and after the subcommand. SUPPRESS keeps a
    # subcommand's unset option from overwriting what was given before it; defaults are
    # filled in by ``main``.
    common = _Parser(add_help=False, argument_default=argparse.SUPPRESS)
    common.add_argument("--workspace", type=Path,
                        help="workspace root (default: the current directory)")
    common.add_argument("--config", type=Path, help="project config file")
    common.add_argument("--db", help="SQLite store or database URL (default .victor/victor.db)")
    common.add_argument("-v", "--verbose", action="count")
    common.add_argument("--log-file", type=Path)

    parser = _Parser(prog="victor-server", parents=[common],
                     description="An agent orchestrator for editors and AI clients.")
    parser.add_argument("--version", action=_VersionAction, nargs=0,
                        help="the server's version and each face's protocol versions")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    sub.add_parser("lsp", parents=[common], help="LSP-style JSON-RPC over stdio")
    mcp = sub.add_parser("mcp", parents=[common], help="MCP server over stdio (or --http)")
    mcp.add_argument("--http", action="store_true", help="serve streamable HTTP on loopback")
    mcp.add_argument("--host", default="127.0.0.1")
    mcp.add_argument("--port", type=int, default=8766)
    mcp.add_argument("--token-file", type=Path, default=None,
                     help="bearer token for --http (needed to listen beyond loopback)")
    sub.add_parser("acp", parents=[common], help="Agent Client Protocol over stdio")
    chat = sub.add_parser("chat", parents=[common], help="one turn, streamed to the terminal")
    chat.add_argument("--session", default=None)
    chat.add_argument("message", nargs="+")
    sessions = sub.add_parser("sessions", parents=[common], help="list, show, delete, export")
    sessions.add_argument("action", choices=["list", "show", "delete", "export"])
    sessions.add_argument("session_id", nargs="?")
    sessions.add_argument("--json", action="store_true")
    analytics = sub.add_parser("analytics", parents=[common], help="analytics summary")
    analytics.add_argument("action", choices=["summary", "export"])
    analytics.add_argument("--session", default=None)
    analytics.add_argument("--json", action="store_true")
    analytics.add_argument("--since", default=None,
                           help="epoch seconds, ISO date/time, or an age such as 90m, 24h, 7d")
    analytics.add_argument("--until", default=None, help="like --since")
    analytics.add_argument("--format", choices=["json", "csv"], default="json",
                           help="export format (default json)")
    analytics.add_argument("--output", type=Path, default=None,
                           help="export to this file (default stdout)")
    config = sub.add_parser("config", parents=[common],
                            help="the effective config, each key's source, and config errors")
    config.add_argument("--json", action="store_true")
    permissions = sub.add_parser("permissions", parents=[common],
                                 help='remembered "always allow" approvals: list, revoke')
    permissions.add_argument("action", choices=["list", "revoke"])
    permissions.add_argument("approval_id", nargs="?", type=int,
                             help="the id `permissions list` shows")
    permissions.add_argument("--all", action="store_true", help="revoke every approval")
    permissions.add_argument("--json", action="store_true")
    plugins = sub.add_parser("plugins", parents=[common],
                             help="every extension: kind, name, package, status, last error")
    plugins.add_argument("--json", action="store_true")
    dashboard = sub.add_parser("dashboard", parents=[common], help="live analytics page")
    dashboard.add_argument("--host", default="127.0.0.1")
    dashboard.add_argument("--port", type=int, default=8765)
    dashboard.add_argument("--token-file", type=Path, default=None,
                           help="bearer token (needed to listen beyond loopback)")
    return parser


COMMON_DEFAULTS: dict[str, Any] = {"workspace": None, "config": None, "db": None, "verbose": 0,
                                   "log_file": None}


def setup_logging(verbose: int, log_file: Path | None) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    logging.basicConfig(level=level, handlers=handlers, force=True,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from victor_server.logging_redaction import install_redaction

    install_redaction()


def main(argv: Sequence[str] | None = None) -> int:
    try:
        code = _main(argv)
        sys.stdout.flush()  # here, where a closed pipe is caught, rather than at exit
        return code
    except BrokenPipeError:
        # The reader went away (``analytics export | head``): stop quietly, as ``yes | head``
        # does. stdout goes to /dev/null so the flush at exit does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141  # the shell's status for a writer stopped by SIGPIPE


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    for name, default in COMMON_DEFAULTS.items():
        if not hasattr(args, name):
            setattr(args, name, default)
    if args.command is None:
        build_parser().print_help(sys.stderr)
        return 2
    setup_logging(args.verbose, args.log_file)
    workspace = (args.workspace or Path.cwd()).resolve()
    if args.workspace is not None and not workspace.is_dir():
        sys.stderr.write(f"victor-server: --workspace {workspace} is not a directory\n")
        return 2
    args.workspace_explicit = args.workspace is not None
    args.workspace = workspace
    problem = path_argument_problem(args.config, args.db)
    if problem:
        sys.stderr.write(f"victor-server: {problem}\n")
        return 2
    if args.command == "lsp":
        return run_lsp(args)
    if args.command == "mcp":
        return run_mcp(args)
    if args.command == "acp":
        from victor_server.adapters import acp

        return int(acp.run(args))
    if args.command == "dashboard":
        from victor_server.analytics import dashboard

        return int(dashboard.run(args))
    if args.command == "config":
        from victor_server.commands import show_config

        return asyncio.run(show_config(args))
    from victor_server.commands import run_command

    try:
        return asyncio.run(run_command(args))
    except KeyboardInterrupt:
        return 130


def path_argument_problem(config: Path | None, db: str | None) -> str | None:
    """Why ``--config`` or ``--db`` cannot be used, checked before anything starts.

    A named config file must exist (carrying on with defaults would hide the mistake). The
    store's own ``.victor`` directory is created when missing, as the default store's is; any
    other missing directory in ``--db`` is a typo, not something to create."""
    if config is not None and not config.is_file():
        return f"--config {config}: no such file"
    if db and db != ":memory:" and (db.startswith("sqlite:") or "://" not in db):
        from victor_server.store.factory import sqlite_path

        parent = sqlite_path(db).expanduser().absolute().parent
        if not parent.is_dir() and not (parent.name == ".victor" and parent.parent.is_dir()):
            return f"--db {db}: directory {parent} does not exist"
    return None


def run_lsp(args: argparse.Namespace) -> int:
    from victor_server.adapters.lsp import create_server

    async def factory(root: Path | None, init_options: dict[str, Any]) -> Any:
        # the core loads after `initialize` has been answered
        from victor_server.adapters.common import build_app, credentials

        workspace = args.workspace if args.workspace_explicit or root is None else root
        return await build_app("lsp", workspace, args.config, args.db,
                               credentials(init_options.get("authToken")))

    from victor_server.adapters.stdio_claim import claim_stdout

    create_server(factory).start_io(stdout=claim_stdout())
    return 0


def run_mcp(args: argparse.Namespace) -> int:
    if args.http:
        from victor_server.adapters import mcp

        return int(mcp.run(args))
    # The SDK imports (about a second) in a thread while the first frame is read and, when it
    # is an initialize we have answered before, answered from the cache at once.
    import threading

    from victor_server.adapters.mcp_fast_start import start_reading

    loaded: dict[str, Any] = {}

    def load() -> None:
        try:
            loaded["module"] = importlib.import_module("victor_server.adapters.mcp")
        except BaseException as exc:  # re-raised in the main thread below
            loaded["error"] = exc

    loader = threading.Thread(target=load, name="victor-mcp-import", daemon=True)
    loader.start()
    first = start_reading()
    loader.join()
    if "error" in loaded:
        raise loaded["error"]
    return int(loaded["module"].run(args, first))
