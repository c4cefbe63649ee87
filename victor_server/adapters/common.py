"""The face kit: what the LSP, MCP and ACP faces share, so each face is only its protocol.

* ``AppHolder``: the application built once, on first use (or eagerly), in the background so
  ``initialize`` never waits: the core's ~100 modules are imported in a thread, the config's
  wire limits adopted. A build that fails (a store that cannot be opened) is retried by the
  next request.
* ``credentials``: the auth token a client presented, as the middleware reads it.
* ``wire_error``: the one decision of what a ``VictorError`` (or a bug) looks like on a wire:
  code, message and data. Each face only wraps that triple in its own type (pygls'
  ``JsonRpcException``, an MCP tool's ``isError`` text or ``MCPError``, ACP's
  ``RequestError``).
* ``AppHolder.close``: the one shutdown path: cancel the running requests (a turn stores what
  was said), wait for them, close the application (analytics flushed, the store closed).
* ``render``: a method's answer in the face's case, through the method's result model.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from victor_server.errors import (
    ProviderUnavailable,
    SessionNotFound,
    Unauthorized,
    VictorError,
)

logger = logging.getLogger(__name__)

AppFactory = Callable[[], Coroutine[Any, Any, Any]]

INTERNAL_ERROR = -32603
# ACP gives -32000 and -32002 meanings of its own (authentication required, resource not
# found), which this server's codes for "provider unavailable" and "session not found" would
# contradict. On that face, errors use ACP's codes; ``data.victorCode`` keeps ours.
ACP_AUTH_REQUIRED, ACP_RESOURCE_NOT_FOUND = -32000, -32002


async def build_app(face: str, workspace: Path, config: Path | None, db: str | None,
                    given: dict[str, Any] | None = None) -> Any:
    """The started application for ``face``, with the config's wire limits adopted; the
    core is imported in a thread so the event loop keeps answering meanwhile. ``given`` are
    credentials the client presented when it connected (``VICTOR_AUTH_TOKEN`` otherwise)."""
    module = await asyncio.to_thread(importlib.import_module, "victor_server.app")
    app = await module.build_application(face, workspace, config, db, given)
    from victor_server.adapters.wire_guard import WireLimits

    await WireLimits.process().adopt(app)  # the config file's wire limits, from now on
    return app


class AppHolder:
    """The application, built once on first use; ``close`` is the faces' shutdown path."""

    def __init__(self, factory: AppFactory | None = None) -> None:
        self.factory = factory
        self._task: asyncio.Task[Any] | None = None

    def start(self, factory: AppFactory | None = None) -> None:
        """Begin building now (in the background) unless a build is under way or done."""
        if factory is not None:
            self.factory = factory
        if self._task is None:
            assert self.factory is not None, "AppHolder needs a factory"
            self._task = asyncio.get_running_loop().create_task(self.factory())

    async def get(self, factory: AppFactory | None = None) -> Any:
        """The application; the first call builds it (with ``factory`` if none was given)."""
        self.start(factory)
        task = self._task
        assert task is not None
        try:
            return await asyncio.shield(task)
        except BaseException:
            if task.done() and self._task is task:
                self._task = None  # e.g. a store that could not open: try again next call
            raise

    async def close(self, running: Iterable[asyncio.Future[Any]] = ()) -> None:
        """Cancel the requests still running and let them store what was said (10 s at
        most), then close the application. Safe to call more than once."""
        pending = [f for f in running if not f.done()]
        for future in pending:
            future.cancel()
        if pending:
            await asyncio.wait(pending, timeout=10)
        task, self._task = self._task, None
        if task is None:
            return
        if not task.done():
            task.cancel()
            await asyncio.wait([task])
        if task.cancelled() or task.exception() is not None:
            return
        await task.result().close()


def credentials(token: Any) -> dict[str, Any] | None:
    """A client's auth token as the middleware reads it; None when there is none."""
    return {"auth_token": token} if isinstance(token, str) and token else None


@dataclass(frozen=True)
class WireError:
    code: int
    message: str
    data: dict[str, Any] | None = None


def as_victor_error(exc: BaseException, method: str = "") -> VictorError:
    """``exc`` as the error a client is told: a ``VictorError`` as it is, anything else (a bug,
    a plugin's) as -32603 with one log line, never a traceback in the answer."""
    if isinstance(exc, VictorError):
        return exc
    logger.error("%s failed: %s: %s", method or "request", type(exc).__name__, exc,
                 exc_info=logger.isEnabledFor(logging.DEBUG))
    return VictorError(f"internal error: {type(exc).__name__}: {exc}")


def wire_error(exc: BaseException, face: str, method: str = "") -> WireError:
    """The code, message and data ``face`` answers for ``exc``.

    LSP and MCP carry the server's own codes. ACP has codes of its own for a session it does
    not know and for missing credentials, so there those errors use ACP's code and
    ``data.victorCode`` keeps ours."""
    error = as_victor_error(exc, method)
    if face != "acp":
        return WireError(error.code, error.message, error.data)
    data = {**(error.data or {}), "victorCode": error.code}
    code = error.code
    if isinstance(error, SessionNotFound):
        code = ACP_RESOURCE_NOT_FOUND
    elif isinstance(error, Unauthorized):
        code = ACP_AUTH_REQUIRED
    elif isinstance(error, ProviderUnavailable):
        # no key (or a refused one) is the user's to fix, as ACP's "authentication required";
        # anything else went wrong on the way to the model
        code = ACP_AUTH_REQUIRED if _is_credentials_problem(error.reason) else INTERNAL_ERROR
    return WireError(code, error.message, data)


def _is_credentials_problem(reason: str) -> bool:
    lowered = reason.lower()
    return lowered.startswith("no api key") or "http 401" in lowered


def render(method: str, value: Any, case: str) -> Any:
    """A method's answer (camelCase JSON from the application) in ``case``, through the
    method's result model; as it is for a method without one."""
    if case == "camel":
        return value
    from victor_server.methods import lookup

    row = lookup(method)
    if row is None or not isinstance(value, dict):
        return value
    return row.result_model.model_validate(value).render("snake")
