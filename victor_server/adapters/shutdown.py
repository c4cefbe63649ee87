"""SIGINT, SIGTERM and SIGHUP, the ways editors, terminals and supervisors stop a server: close
the application (running turns store what was said, analytics are flushed, the store is
closed), then exit 0.

SIGINT is what Claude Code and most editors send first, and a terminal's Ctrl-C; SIGHUP is a
closed terminal. All three go through the event loop (``add_signal_handler``), which never
blocks on the client: stdin and stdout are non-blocking pipes (``wire_flow``), so a client that
reads nothing cannot keep the server from hearing a signal.

The exit is ``os._exit`` (``exit_now``), after a signal and after stdin EOF alike, once the
store is closed: a reader thread (a redirected stdin) can be blocked in a system call that
nothing interrupts, and a thread still importing a provider's SDK for the warm-up can take
seconds; a normal interpreter shutdown would wait for both. A close that has not finished
after ``grace`` seconds (a store that does not answer) is abandoned with status 1 and one line
saying so.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import NoReturn

logger = logging.getLogger(__name__)

SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")


def close_on_signals(close: Callable[[], Awaitable[None]], grace: float = 10.0) -> None:
    """Install the handlers on the running loop (a no-op where signals cannot be handled)."""
    loop = asyncio.get_running_loop()
    pending: list[asyncio.Task[None]] = []

    async def close_and_exit(name: str) -> None:
        status = 0
        try:
            async with asyncio.timeout(grace):  # in this task: a close that cancels others
                await close()                   # must not cancel the exit with them
        except TimeoutError:
            logger.error("%s: closing took over %.0f s; exiting without it", name, grace)
            status = 1
        except Exception as exc:  # exiting anyway: say what could not be closed
            logger.error("closing on %s failed: %s", name, exc)
        finally:
            exit_now(status)

    def on_signal(name: str) -> None:
        if not pending:  # a second signal while closing changes nothing
            logger.info("%s: closing and exiting", name)
            pending.append(loop.create_task(close_and_exit(name)))

    for name in SIGNALS:
        signum = getattr(signal, name, None)
        if signum is None:  # SIGHUP is not on Windows
            continue
        try:
            loop.add_signal_handler(signum, on_signal, name)
        except (NotImplementedError, RuntimeError, ValueError):  # Windows, or not main thread
            pass


def once(close: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
    """``close`` run at most once, however many callers (stdin EOF and a signal at the same
    moment): each waits for the one run, so none exits while the store is still closing."""
    running: list[asyncio.Future[None]] = []

    async def close_once() -> None:
        if not running:
            running.append(asyncio.ensure_future(close()))
        await asyncio.shield(running[0])

    return close_once


def exit_now(status: int = 0) -> NoReturn:
    """End the process now: logs and stdio flushed, no thread waited for."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # closed, or the client went away
            pass
    os._exit(status)
