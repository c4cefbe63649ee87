"""The protocol stream gets a private copy of stdout; fd 1 and ``sys.stdout`` point at stderr.

stdout is the JSON-RPC stream, and plugins are code we do not control: a ``print()`` in a
contributor, a library that logs to stdout, a child process inheriting fd 1 would otherwise
write into the middle of a frame. ``claim_stdout()`` duplicates fd 1 for the face's writer, then
points fd 1 (and so ``sys.stdout``) at stderr for everything else. The MCP SDK's stdio transport
does the same on its own; the LSP and ACP faces call this before they start reading.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sys
from typing import BinaryIO

logger = logging.getLogger(__name__)


def claim_stdout() -> BinaryIO:
    """A binary file on the original stdout, for the protocol writer only."""
    sys.stdout.flush()
    try:
        private = fcntl.fcntl(1, fcntl.F_DUPFD_CLOEXEC, 3)
        os.dup2(2, 1)
    except OSError as exc:  # no descriptors to juggle (an embedded interpreter): serve in place
        logger.warning("stdout stays shared with plugins: %s", exc)
        return sys.stdout.buffer
    return os.fdopen(private, "wb")

