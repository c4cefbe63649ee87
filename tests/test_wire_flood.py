"""A client that floods requests and reads none of the answers: every face stops reading once
``wire.max_in_flight`` requests are unanswered and its output is backed up, so memory stays
flat, and once the client reads again every request is answered and the server works on.

20,000 requests of about 1 KiB each (20 MB in all) are written while the client reads nothing;
the server's resident memory is sampled throughout. The bound asserted (150 MiB over the
baseline) is generous on purpose: without pushback the same flood grew the ACP face by
hundreds of MB. The figures per face are in docs/reliability.md
(``python bench/bench_reliability.py flood``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rpc_wire import WireServer
from wire_flood import drain, flood_unread

COUNT = 20_000
PAD = "x" * 1000
FLOOD: dict[str, tuple[str, Any]] = {
    "lsp": ("victor/session/list", {"limit": 1, "pad": PAD}),
    "mcp": ("ping", {"_meta": {"pad": PAD}}),
    "acp": ("session/list", {"pad": PAD}),
}


@pytest.mark.parametrize("face", ["lsp", "mcp", "acp"])
def test_flood_without_reading(tmp_path: Path, face: str) -> None:
    workspace = tmp_path / "project"
    (workspace / ".victor").mkdir(parents=True)
    method, params = FLOOD[face]
    env = {"VICTOR_PROVIDER": "scripted", "XDG_CACHE_HOME": str(tmp_path / "cache")}
    with WireServer(face, workspace, env) as server:
        server.initialize()
        for _ in range(5):  # the application is built and warm before the baseline
            assert "result" in server.request(method, params), server.tail()
        flood = flood_unread(server, COUNT, method, params)
        print(f"\n{face}: {flood.taken} of {COUNT} written before the pipe filled; "
              f"RSS {flood.baseline_kib // 1024} MiB -> peak {flood.peak_kib // 1024} MiB")
        assert server.alive, server.tail()
        assert flood.stalled, f"all {COUNT} requests were taken without pushback"
        assert flood.growth_mib < 150, (flood, server.tail())
        answered = drain(server, flood)
        assert len(answered) == COUNT, (len(answered), server.tail())
        assert "result" in server.request(method, params), server.tail()
        errors = [m for m in server.messages if isinstance(m.get("id"), int)
                  and m["id"] >= flood.first_id and "error" in m]
        assert not errors, errors[:3]
        assert server.close() == 0
