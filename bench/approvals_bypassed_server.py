"""The comparison build for bench_streaming.py's tool-turn table: ``victor-server`` with the
approvals policy bypassed (``ApprovalGate.check`` lets every call run without looking at the
policy, the store or the face). Everything else is this checkout's code, so the gap between it
and ``victor-server lsp`` is what the policy costs a turn that needs no approval. A bench tool,
never a way to run the server.

    python bench/approvals_bypassed_server.py lsp --workspace DIR

With ``VICTOR_BENCH_APPROVALS=on`` in its environment it leaves the policy alone, so the bench
can start both builds through this same launcher and nothing but the policy differs.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from victor_server.tools import approvals


async def _allow_everything(self: Any, *args: Any, **kwargs: Any) -> None:
    return None


if os.environ.get("VICTOR_BENCH_APPROVALS") != "on":
    approvals.ApprovalGate.check = _allow_everything  # type: ignore[method-assign]

if __name__ == "__main__":
    from victor_server.cli import main

    sys.exit(main())
