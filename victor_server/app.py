"""The application a face serves, built from the command line's workspace, config and database.

Who owns what:

* ``Application`` (here): one route for every face's request: the middleware chain, then the
  method table (``victor_server.methods``): params validated by the row's model, its core
  function (``victor_server.service``) called with the orchestrator. The chain sees and returns
  camelCase JSON, the contract middleware is written against; a bug becomes -32603 here.
* ``AgentOrchestrator``: the agent itself (sessions, turns, tools, context, prompts, config,
  analytics, the store), with no knowledge of protocols.
* the faces (``victor_server.adapters``): their protocol, through ``adapters.common``.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import Any

from victor_server.api_models import validate_params
from victor_server.errors import MethodNotFound, StoreUnavailable, VictorError
from victor_server.methods import lookup
from victor_server.middleware.chain import CallNext, MethodCall, Middleware, build_chain
from victor_server.orchestrator import AgentOrchestrator
from victor_server.scope import DEFAULT_SCOPE
from victor_server.store.factory import is_postgres_url, make_store

logger = logging.getLogger(__name__)


class Application:
    def __init__(self, orchestrator: AgentOrchestrator, face: str,
                 middlewares: list[Middleware] | None = None,
                 credentials: dict[str, Any] | None = None) -> None:
        self.orchestrator = orchestrator
        self.face = face
        self.credentials = credentials or {}
        self._chain: CallNext = build_chain(list(middlewares or []), self._endpoint)

    async def _endpoint(self, call: MethodCall) -> Any:
        """The end of the chain: the method's row, its params, its core function; the typed
        result as camelCase JSON."""
        method = lookup(call.method)
        if method is None:
            raise MethodNotFound(f"unknown method: {call.method}")
        params = validate_params(method.params_model, call.params)
        extra = call.extra if method.streams else {}
        on_tool = extra.get("on_tool")
        if on_tool is not None:  # the faces get each tool call's progress as camelCase JSON
            extra = {**extra, "on_tool": lambda update: on_tool(update.render("camel"))}
        result = await method.function(self.orchestrator, params, call.scope, **extra)
        return result.render("camel")

    async def call(self, method: str, params: Any, credentials: dict[str, Any] | None = None,
                   **extra: Any) -> Any:
        call = MethodCall(self.face, method, params, DEFAULT_SCOPE,
                          {**self.credentials, **(credentials or {})},
                          {k: v for k, v in extra.items() if v is not None})
        try:
            return await self._chain(call)
        except StoreUnavailable as exc:  # the operator's one line; the client gets -32005
            if self.face != "cli":  # the command line prints the error itself
                logger.error("%s %s: %s", self.face, method, exc.message)
            raise
        except VictorError:
            raise
        except Exception as exc:  # a bug, or a plugin's: one line on every face, -32603
            logger.error("%s %s failed: %s: %s", self.face, method, type(exc).__name__, exc,
                         exc_info=logger.isEnabledFor(logging.DEBUG))
            raise VictorError(f"internal error: {type(exc).__name__}: {exc}") from exc

    async def close(self) -> None:
        await self.orchestrator.close()


def db_path_for(workspace: Path, db: str | Path | None) -> Path:
    chosen = db or os.environ.get("VICTOR_DB")
    return Path(chosen) if chosen else workspace / ".victor" / "victor.db"


async def build_application(face: str, workspace: Path, config_path: Path | None = None,
                            db: str | Path | None = None,
                            credentials: dict[str, Any] | None = None) -> Application:
    """The application, started; raises ``StoreUnavailable`` (logged as one line, with
    nothing left running) when the store cannot be opened."""
    store = None
    if db is not None and is_postgres_url(str(db)):  # ``--db postgresql://...``
        store = make_store(str(db), workspace / ".victor" / "victor.db")
    orchestrator = AgentOrchestrator(workspace=workspace, config_path=config_path, store=store,
                                     db_path=None if store else db_path_for(workspace, db))
    orchestrator.warm_up_provider = face in ("lsp", "mcp", "acp")
    try:
        await orchestrator.start()
        middlewares = await load_middlewares(orchestrator)
    except BaseException as exc:
        # a half-started orchestrator holds the store's connection thread, which would keep
        # the process alive after the error has been reported
        with contextlib.suppress(Exception):
            await orchestrator.close()
        if isinstance(exc, StoreUnavailable) and face != "cli":
            logger.error("%s", exc.message)
        raise
    creds = dict(credentials or {})
    if "auth_token" not in creds and os.environ.get("VICTOR_AUTH_TOKEN"):
        creds["auth_token"] = os.environ["VICTOR_AUTH_TOKEN"]
    return Application(orchestrator, face, middlewares, creds)


async def load_middlewares(orchestrator: AgentOrchestrator) -> list[Middleware]:
    """The ``middleware:`` list from config, in order (see victor_server.middleware)."""
    from victor_server.middleware import create_middlewares
    from victor_server.orchestrator import plugin_sections

    settings = (await orchestrator.config.resolve()).settings
    return create_middlewares(settings.middleware, orchestrator, plugin_sections(settings),
                              settings.plugins.disabled)
