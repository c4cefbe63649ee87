"""The non-protocol subcommands: ``chat``, ``sessions``, ``analytics``, ``config``,
``permissions``, ``plugins``."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
import time
import traceback
from typing import Any, TextIO

from victor_server.app import build_application
from victor_server.errors import SessionNotFound, VictorError
from victor_server.scope import DEFAULT_SCOPE

logger = logging.getLogger(__name__)

# The command's own output. While a command runs, ``sys.stdout`` points at stderr, so a
# plugin's print() never mixes into an answer or an export a script reads.
_STDOUT: TextIO = sys.stdout


async def run_command(args: argparse.Namespace) -> int:
    global _STDOUT
    _STDOUT = sys.stdout
    with contextlib.redirect_stdout(sys.stderr):
        return await _run(args)


async def _run(args: argparse.Namespace) -> int:
    """Run one command; a ``VictorError`` (a store that cannot be opened or queried included)
    is one line on stderr and exit 1, with the traceback only at ``-vv``."""
    if args.command == "permissions" and args.action == "revoke" and (
            (args.approval_id is None) == (not args.all)):
        sys.stderr.write("victor-server: permissions revoke needs an id or --all (not both)\n")
        return 2
    try:
        app = await build_application("cli", args.workspace, args.config, args.db)
    except VictorError as exc:
        return _report(exc, args)
    try:
        handler = {"chat": _chat, "sessions": _sessions, "analytics": _analytics,
                   "permissions": _permissions, "plugins": _plugins}[args.command]
        return await handler(app, args)
    except SessionNotFound as exc:
        sys.stderr.write(f"victor-server: error {exc.code}: {exc.message} "
                         "(`victor-server sessions list` shows the stored sessions)\n")
        return 1
    except VictorError as exc:
        return _report(exc, args)
    finally:
        try:
            await app.close()
        except VictorError as exc:  # e.g. the last analytics flush into a store gone away
            logger.warning("closing the store: %s", exc.message)


def _report(exc: VictorError, args: argparse.Namespace) -> int:
    if getattr(args, "verbose", 0) >= 2:
        traceback.print_exception(exc, file=sys.stderr)
    sys.stderr.write(f"victor-server: error {exc.code}: {exc.message}\n")
    return 1


def _out(text: str) -> None:
    _STDOUT.write(text)
    _STDOUT.flush()


async def _chat(app: Any, args: argparse.Namespace) -> int:
    def on_tool(info: dict[str, Any]) -> None:
        if info["status"] not in ("pending", "running"):
            sys.stderr.write(f"\n[tool {info['name']}: {info['status']}]\n")

    if args.session:
        # The protocol's chat creates a session it is given a new id for; on the command line
        # ``--session`` resumes one, and a mistyped id must not start a fresh conversation.
        await app.orchestrator.visible_session(args.session, DEFAULT_SCOPE)
    result = await app.call("victor/chat", {"message": " ".join(args.message),
                                            "sessionId": args.session},
                            on_delta=lambda sid, text: _out(text), on_tool=on_tool)
    usage = result["usage"]
    _out("\n")
    cached = usage.get("cacheReadTokens") or 0
    sys.stderr.write(f"[session {result['sessionId']} · {usage['inputTokens']} in / "
                     f"{usage['outputTokens']} out tokens"
                     f"{f' · {cached} read from cache' if cached else ''} · "
                     f"{result['stopReason']}]\n")
    return 0


async def _sessions(app: Any, args: argparse.Namespace) -> int:
    if args.action == "list":
        listed = await app.call("victor/session/list", {"limit": 1000})
        if args.json:
            _out(json.dumps(listed, indent=2) + "\n")
        else:
            for s in listed["sessions"]:
                _out(f"{s['sessionId']}\t{s['messageCount']} messages\t"
                     f"{s['usage']['totalTokens']} tokens\t{s['title'] or ''}\n")
        return 0
    if not args.session_id:
        sys.stderr.write(f"victor-server: sessions {args.action} needs a session id\n")
        return 2
    if args.action == "delete":
        result = await app.call("victor/session/delete", {"sessionId": args.session_id})
        _out(json.dumps(result) + "\n" if args.json else "deleted\n")
        return 0
    session = await app.call("victor/session/get", {"sessionId": args.session_id})
    if args.json or args.action == "export":
        _out(json.dumps(session, indent=2) + "\n")
        return 0
    for m in session["messages"]:
        content = m["content"]
        if not isinstance(content, str):
            content = "\n".join(b.get("text") or json.dumps(b) for b in content)
        _out(f"--- {m['role']} ---\n{content}\n")
    return 0


async def _analytics(app: Any, args: argparse.Namespace) -> int:
    from victor_server.analytics.export import parse_time, write_csv, write_json

    try:
        since = parse_time(args.since) if args.since else None
        until = parse_time(args.until) if args.until else None
    except ValueError as exc:
        sys.stderr.write(f"victor-server: {exc}\n")
        return 2
    analytics = app.orchestrator.analytics
    if args.action == "export":
        await analytics.flush()
        events = await app.orchestrator.store.export_events(
            args.session, since=since, until=until, all_tenants=True)
        write = write_csv if args.format == "csv" else write_json
        if args.output is None:
            write(events, _STDOUT)
        else:
            with args.output.open("w", encoding="utf-8", newline="") as handle:
                write(events, handle)
            sys.stderr.write(f"{len(events)} events written to {args.output}\n")
        return 0
    from victor_server.api_models import AnalyticsSummary

    if until is not None:  # the protocol method has no upper bound; ask the core directly
        summary = await analytics.summary(args.session, since=since, until=until,
                                          all_tenants=True)
    else:  # through the middleware, as every face: camelCase JSON, read back as the model
        summary = AnalyticsSummary.model_validate(await app.call(
            "victor/analytics/summary", {"sessionId": args.session, "since": since}))
    if args.json:
        _out(json.dumps(summary.render("camel"), indent=2) + "\n")
        return 0
    tokens = summary.tokens
    _out(f"sessions: {summary.sessions}\n"
         f"tokens:   {tokens.input} in / {tokens.output} out / {tokens.total} total\n")
    for name, count in sorted(summary.events.items()):
        _out(f"event {name}: {count}\n")
    for name, count in sorted(summary.tool_calls.items()):
        _out(f"tool {name}: {count}\n")
    cost = summary.cost
    _out(f"cost:     ${cost.usd if cost else 0:.4f} (estimate)\n")
    for model, usd in sorted((cost.by_model if cost else {}).items()):
        _out(f"model {model}: ${usd:.4f}\n")
    if summary.variants:
        from victor_server.analytics.ab_summary import variant_lines

        _out("".join(variant_lines(summary.variants)))
    return 0


async def show_config(args: argparse.Namespace) -> int:
    """The config the environment and project file give, each key's source, and every config
    error; exit 1 when there are errors, so a script or a health check can rely on it.
    The store is not opened: tenant and A/B layers apply per session and are not shown."""
    from victor_server.config import (
        ConfigCoordinator,
        EnvironmentConfigProvider,
        FileConfigProvider,
    )

    resolved = await ConfigCoordinator(
        [EnvironmentConfigProvider(), FileConfigProvider(args.config, args.workspace)]).resolve()
    config = resolved.public_config()
    if args.json:
        _out(json.dumps({"config": config, "sources": resolved.sources,
                         "errors": resolved.errors}, indent=2) + "\n")
    else:
        for key, source in sorted(resolved.sources.items()):
            value: Any = config
            for part in key.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            _out(f"{key}: {json.dumps(value, default=str)}  ({source})\n")
    return 1 if resolved.errors else 0


async def _permissions(app: Any, args: argparse.Namespace) -> int:
    """Remembered "always allow" answers: every tenant's and workspace's in this store."""
    store = app.orchestrator.store
    if args.action == "list":
        rows = await store.list_approvals()
        if args.json:  # the command line's JSON: camelCase, as the protocol's
            _out(json.dumps([{"id": r.id, "tenant": r.tenant, "workspace": r.workspace,
                              "tool": r.tool, "prefix": r.prefix, "face": r.face,
                              "grantedAt": r.granted_at} for r in rows], indent=2) + "\n")
            return 0
        if not rows:
            sys.stderr.write("no remembered approvals\n")
        for row in rows:
            what = f"{row.tool} {row.prefix}".strip()
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(row.granted_at))
            _out(f"{row.id}\t{what}\ttenant={row.tenant or '-'}\t{row.workspace}\t"
                 f"{row.face or '-'}\t{when}\n")
        return 0
    removed = await store.revoke_approvals(None if args.all else args.approval_id)
    if not args.all and removed == 0:
        sys.stderr.write(f"victor-server: no remembered approval with id {args.approval_id}\n")
        return 1
    _out(json.dumps({"revoked": removed}) + "\n" if args.json else f"revoked {removed}\n")
    return 0


async def _plugins(app: Any, args: argparse.Namespace) -> int:
    """Every extension the server knows, after the workspace's application was built (so the
    providers, contributors, tools, exporters and middleware in use have been loaded and built);
    the rest are imported here so an install that does not import shows now. Exit 1 when any
    extension failed."""
    from victor_server.errors import VictorError
    from victor_server.plugins import REGISTRY, PluginFailed

    try:  # the provider is built at the first chat: build the configured one now
        app.orchestrator.provider_for((await app.orchestrator.config.resolve()).settings)
    except VictorError:
        pass  # recorded on the extension when it is a plugin's failure (a missing key is not)
    for extension in REGISTRY.extensions():
        if extension.status == "registered":
            try:
                REGISTRY.load(extension.kind, extension.name)
            except PluginFailed:
                pass  # recorded on the extension
    extensions = [e.to_json() for e in REGISTRY.extensions()]
    if args.json:
        _out(json.dumps({"plugins": extensions}, indent=2) + "\n")
    else:
        rows = [("KIND", "NAME", "PACKAGE", "STATUS", "LAST ERROR")]
        rows += [(e["kind"], e["name"], e["package"], e["status"],
                  f"{e['stage']}: {e['error']}" if e["error"] else "") for e in extensions]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        for row in rows:
            _out("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
                 + f"  {row[4]}".rstrip() + "\n")
    return 1 if any(e["status"] == "failed" for e in extensions) else 0
