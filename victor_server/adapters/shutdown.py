"""SIGTERM, the way editors and supervisors stop a server: close the application (running turns
store what was said, analytics are flushed, the store is closed), then exit.

The exit is ``os._exit``: each face reads stdin on a thread that cannot be interrupted, so a
normal interpreter shutdown would wait for a line that never comes.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)


def close_on_sigterm(close: Callable[[], Awaitable[None]]) -> None:
    """Install the handler on the running loop (a no-op where signals cannot be handled)."""
    loop = asyncio.get_running_loop()
    pending: list[asyncio.Task[None]] = []

    async def close_and_exit() -> None:
        try:
            await close()
        except Exception as exc:  # exiting anyway: say what could not be closed
            logger.error("closing on SIGTERM failed: %s", exc)
        finally:
            logging.shutdown()
            os._exit(0)

    def on_sigterm() -> None:
        if not pending:  # a second SIGTERM while closing changes nothing
            pending.append(loop.create_task(close_and_exit()))

    try:
        loop.add_signal_handler(signal.SIGTERM, on_sigterm)
    except (NotImplementedError, RuntimeError):  # not on Windows, or not the main thread
        pass
