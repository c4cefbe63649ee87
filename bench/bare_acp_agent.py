"""The baseline for bench_acp.py: an ACP agent on the same SDK that does nothing.

It answers ``initialize`` and ``session/new`` and nothing else, so the difference between it and
``victor-server acp`` is what victor-server's face and core add to start-up.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from acp import PROTOCOL_VERSION, run_agent, schema


class BareAgent:
    async def initialize(self, protocol_version: int, **kwargs: Any) -> schema.InitializeResponse:
        return schema.InitializeResponse(protocol_version=PROTOCOL_VERSION)

    async def new_session(self, cwd: str, **kwargs: Any) -> schema.NewSessionResponse:
        return schema.NewSessionResponse(session_id=uuid.uuid4().hex)


if __name__ == "__main__":
    asyncio.run(run_agent(BareAgent()))  # type: ignore[arg-type]
