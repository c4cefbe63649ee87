"""The ``logging`` middleware: one line per protocol call, for operators.

Each line names the face, method, session, tenant, duration and outcome (``ok``,
``error -32001``, ``cancelled``, ``failed ValueError``). Params carry users' messages and
possibly secrets, so they are logged only with ``debug: true`` and then through the same
redaction every log record gets. Placed before ``auth`` it also records refused attempts
(``error -32004``), which is the audit trail operators want.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from victor_server.errors import VictorError
from victor_server.logging_redaction import redact_text
from victor_server.middleware.chain import CallNext, MethodCall

logger = logging.getLogger("victor_server.requests")

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}


class RequestLoggingMiddleware:
    name = "logging"

    def __init__(self, level: str = "info", debug: bool = False, **unknown: Any) -> None:
        if unknown:
            logger.warning("logging middleware: unknown options ignored: %s", sorted(unknown))
        self.level = _LEVELS.get(str(level).lower(), logging.INFO)
        self.debug = bool(debug)

    async def __call__(self, call: MethodCall, call_next: CallNext) -> Any:
        started = time.perf_counter()
        outcome = "ok"
        try:
            return await call_next(call)
        except VictorError as exc:
            outcome = f"error {exc.code}"
            raise
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        except Exception as exc:
            outcome = f"failed {type(exc).__name__}"
            raise
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            logger.log(self.level, "%s %s session=%s tenant=%s %.1fms %s", call.face,
                       call.method, call.session_id or "-", call.scope.tenant_id or "-",
                       elapsed_ms, outcome)
            if self.debug:
                logger.debug("%s %s params=%s", call.face, call.method,
                             redact_text(json.dumps(call.params, default=str)[:4000]))
